"""ECS service deployments: how each service's last deployment ended, and why it rolled back.

ECS records a service deployment per rollout (ListServiceDeployments /
DescribeServiceDeployments): its status, the alarms that triggered a rollback, and the
circuit breaker's count of failed tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.verify.aws import Clients, aws_call
from tools.verify.report import CheckResult

#: Statuses of a deployment that did not land what it deployed.
FAILED_STATUSES = frozenset(
    {
        "ROLLBACK_REQUESTED",
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_SUCCESSFUL",
        "ROLLBACK_FAILED",
        "STOPPED",
    }
)


def check_last_deployment(clients: Clients, cluster: str, service_name: str) -> CheckResult:
    """The service's most recent deployment landed; when it rolled back, what caused it."""
    name = f"last deployment {service_name}"
    listed = aws_call(
        f"listing the deployments of {service_name}",
        clients.ecs.list_service_deployments,
        cluster=cluster,
        service=service_name,
    )
    briefs = sorted(
        listed.get("serviceDeployments", []),
        key=lambda d: str(d.get("createdAt", "")),
        reverse=True,
    )
    if not briefs:
        return CheckResult(name, True, "no deployment recorded")
    described = aws_call(
        f"describing the last deployment of {service_name}",
        clients.ecs.describe_service_deployments,
        serviceDeploymentArns=[briefs[0]["serviceDeploymentArn"]],
    )
    deployments = described.get("serviceDeployments", [])
    if not deployments:
        return CheckResult(name, False, "ECS did not describe the last deployment")
    return _result(name, deployments[0])


def _result(name: str, deployment: Mapping[str, Any]) -> CheckResult:
    status = str(deployment.get("status", "UNKNOWN"))
    if status not in FAILED_STATUSES:
        return CheckResult(name, True, status)
    return CheckResult(name, False, f"{status}: {rollback_cause(deployment)}")


def rollback_cause(deployment: Mapping[str, Any]) -> str:
    """Which alarms fired, or how many tasks failed, or ECS's reason, in that order."""
    alarms = deployment.get("alarms") or {}
    triggered = list(alarms.get("triggeredAlarmNames") or [])
    if triggered:
        return f"alarm {', '.join(triggered)} fired during the deployment"
    breaker = deployment.get("deploymentCircuitBreaker") or {}
    if breaker.get("status") == "TRIGGERED":
        return (
            f"circuit breaker: {breaker.get('failureCount', '?')} tasks failed to start or "
            f"pass their health check (threshold {breaker.get('threshold', '?')})"
        )
    rollback = deployment.get("rollback") or {}
    reason = rollback.get("reason") or deployment.get("statusReason")
    return str(reason) if reason else "no reason recorded"
