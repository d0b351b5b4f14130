"""ECS: each service's deployment, its task count and its collectors' health."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from otel_fargate.names import COLLECTOR_CONTAINER_NAME

from tools.verify.aws import Clients, aws_call, cluster_of, list_all
from tools.verify.report import CheckResult
from tools.verify.rollouts import check_last_deployment


def check_deployment(service: Mapping[str, Any]) -> CheckResult:
    """One PRIMARY deployment whose rollout is COMPLETED."""
    name = f"deployment {service.get('serviceName', '?')}"
    deployments = list(service.get("deployments", []))
    primaries = [d for d in deployments if d.get("status") == "PRIMARY"]
    if len(deployments) != 1 or len(primaries) != 1:
        states = ", ".join(
            f"{d.get('status', '?')}:{d.get('rolloutState', '?')}" for d in deployments
        )
        return CheckResult(
            name,
            False,
            f"{len(deployments)} deployments ({states or 'none'}); expected one PRIMARY",
        )
    rollout = primaries[0].get("rolloutState", "UNKNOWN")
    if rollout != "COMPLETED":
        reason = primaries[0].get("rolloutStateReason")
        return CheckResult(name, False, f"rollout {rollout}" + (f": {reason}" if reason else ""))
    return CheckResult(name, True, "one PRIMARY deployment, rollout COMPLETED")


def check_task_counts(service: Mapping[str, Any]) -> CheckResult:
    """Running tasks equal desired tasks."""
    running = int(service.get("runningCount", 0))
    desired = int(service.get("desiredCount", 0))
    pending = int(service.get("pendingCount", 0))
    detail = f"running {running} / desired {desired}" + (f", pending {pending}" if pending else "")
    return CheckResult(f"tasks {service.get('serviceName', '?')}", running == desired, detail)


def check_collector_health(
    service_name: str, tasks: Sequence[Mapping[str, Any]]
) -> CheckResult | None:
    """Every ``otel-collector`` container of the running tasks is HEALTHY.

    Returns None when no running task has an ``otel-collector`` container.
    """
    collectors = [
        (task, container)
        for task in tasks
        for container in task.get("containers", [])
        if container.get("name") == COLLECTOR_CONTAINER_NAME
    ]
    if not collectors:
        return None
    unhealthy = [
        f"{str(task.get('taskArn', '?')).rsplit('/', 1)[-1]}="
        f"{container.get('healthStatus', 'UNKNOWN')}"
        for task, container in collectors
        if container.get("healthStatus") != "HEALTHY"
    ]
    name = f"collector health {service_name}"
    if unhealthy:
        return CheckResult(
            name,
            False,
            f"{len(unhealthy)} of {len(collectors)} otel-collector containers not HEALTHY: "
            + ", ".join(unhealthy),
        )
    return CheckResult(name, True, f"{len(collectors)} otel-collector containers HEALTHY")


def _running_tasks(clients: Clients, cluster: str, service_name: str) -> list[dict[str, Any]]:
    arns = aws_call(
        f"listing the tasks of {service_name}",
        list_all,
        clients.ecs,
        "list_tasks",
        "taskArns",
        cluster=cluster,
        serviceName=service_name,
        desiredStatus="RUNNING",
    )
    tasks: list[dict[str, Any]] = []
    for start in range(0, len(arns), 100):
        batch = arns[start : start + 100]
        described = aws_call(
            f"describing the tasks of {service_name}",
            clients.ecs.describe_tasks,
            cluster=cluster,
            tasks=batch,
        )
        tasks.extend(t for t in described.get("tasks", []) if t.get("lastStatus") == "RUNNING")
    return tasks


def service_checks(
    clients: Clients, service_arns: Sequence[str], results: list[CheckResult]
) -> tuple[list[str], list[str]]:
    """Append deployment, task-count and health checks of every service to ``results``;
    return the services' primary task definitions and Service Connect namespaces."""
    task_definitions: list[str] = []
    sc_namespaces: list[str] = []
    by_cluster: dict[str, list[str]] = {}
    for arn in service_arns:
        cluster = cluster_of(arn)
        if cluster is None:
            results.append(CheckResult(f"service {arn}", False, "cannot tell its cluster"))
            continue
        by_cluster.setdefault(cluster, []).append(arn)
    for cluster, arns in by_cluster.items():
        described = aws_call(
            f"describing the ECS services of cluster {cluster}",
            clients.ecs.describe_services,
            cluster=cluster,
            services=arns,
        )
        for failure in described.get("failures", []):
            results.append(
                CheckResult(f"service {failure.get('arn', '?')}", False, str(failure.get("reason")))
            )
        for service in described.get("services", []):
            results.extend(_one_service(clients, cluster, service))
            for deployment in service.get("deployments", []):
                if deployment.get("taskDefinition") and deployment.get("status") == "PRIMARY":
                    task_definitions.append(deployment["taskDefinition"])
                namespace = (deployment.get("serviceConnectConfiguration") or {}).get("namespace")
                if namespace:
                    sc_namespaces.append(str(namespace))
            if not service.get("deployments") and service.get("taskDefinition"):
                task_definitions.append(service["taskDefinition"])
    return task_definitions, sc_namespaces


def _one_service(clients: Clients, cluster: str, service: Mapping[str, Any]) -> list[CheckResult]:
    service_name = str(service.get("serviceName", "?"))
    results = [
        check_deployment(service),
        check_last_deployment(clients, cluster, service_name),
        check_task_counts(service),
    ]
    health = check_collector_health(service_name, _running_tasks(clients, cluster, service_name))
    if health is not None:
        results.append(health)
    return results
