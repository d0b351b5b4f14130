"""Check that a deployed otel-fargate environment is healthy.

Everything is discovered from the environment's CloudFormation stacks
(``otel-fargate-<env>-*``): their ECS services, the collector log groups named in those
services' task definitions, their alarms and their Cloud Map namespaces. Each check is a small
function returning :class:`CheckResult`; :func:`verify_environment` runs them all with one
injected ``boto3.Session``.

Problems that stop the checks from running at all (no credentials, no region, no stacks,
throttling that outlasts the retries, access denied) raise :class:`VerifyError`; the CLI
prints its message as one line and exits 2.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeVar

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)
from otel_fargate.names import COLLECTOR_CONTAINER_NAME, GATEWAY_ALIAS, stack_name

if TYPE_CHECKING:
    import boto3

GATEWAY_DISCOVERY_NAME: Final = GATEWAY_ALIAS
STACK_NAME_PREFIX: Final = stack_name("{env}", "")
GATEWAY_STACK_SUFFIX: Final = "gateway"
#: How far back the log check looks for collector errors.
LOG_WINDOW_MINUTES: Final = 15
#: Error lines quoted in a failing log check, per log group.
MAX_QUOTED_LINES: Final = 3
#: Attempts per call (first try included) with botocore's standard retry mode, which backs
#: off on throttling before giving up.
MAX_ATTEMPTS: Final = 8

_THROTTLING_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
    }
)
_ERROR_LEVELS: Final = frozenset({"error", "dpanic", "panic", "fatal"})
#: CloudWatch Logs pre-filter: JSON log lines whose level is error or worse.
ERROR_FILTER_PATTERN: Final = (
    '{ ($.level = "error") || ($.level = "dpanic") || ($.level = "panic") || ($.level = "fatal") }'
)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: its name, whether it holds, and what was seen."""

    name: str
    ok: bool
    detail: str


class VerifyError(Exception):
    """The checks could not run (credentials, region, no stacks, throttling, access)."""


@dataclass
class Discovered:
    """What the environment's stacks contain."""

    stacks: list[dict[str, Any]] = field(default_factory=list)
    ecs_services: list[str] = field(default_factory=list)
    log_groups: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------ errors

_T = TypeVar("_T")


def _aws(what: str, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
    """Run ``fn(*args, **kwargs)`` (AWS calls), turning what stops verification into VerifyError."""
    try:
        return fn(*args, **kwargs)
    except (NoCredentialsError, PartialCredentialsError) as err:
        raise VerifyError(
            f"no AWS credentials found ({err}); configure a profile or set AWS_PROFILE / "
            "AWS_ACCESS_KEY_ID"
        ) from err
    except NoRegionError as err:
        raise VerifyError("no AWS region configured; pass --region or set AWS_REGION") from err
    except ProfileNotFound as err:
        raise VerifyError(str(err)) from err
    except EndpointConnectionError as err:
        raise VerifyError(f"cannot reach AWS while {what}: {err}") from err
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        message = err.response.get("Error", {}).get("Message", "")
        if code in _THROTTLING_CODES:
            raise VerifyError(
                f"AWS throttled the requests while {what} ({code}) after {MAX_ATTEMPTS} "
                "attempts; try again in a minute"
            ) from err
        if code in {
            "AccessDenied",
            "AccessDeniedException",
            "UnauthorizedOperation",
            "ExpiredToken",
            "ExpiredTokenException",
            "InvalidClientTokenId",
            "UnrecognizedClientException",
        }:
            raise VerifyError(f"AWS refused the request while {what}: {code}: {message}") from err
        raise VerifyError(f"AWS error while {what}: {code}: {message}") from err
    except BotoCoreError as err:
        raise VerifyError(f"AWS request failed while {what}: {err}") from err


class Clients:
    """boto3 clients of one session, all with botocore's standard retry mode."""

    def __init__(self, session: boto3.Session, *, region: str | None = None) -> None:
        config = Config(retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS})
        self._session = session
        self._region = region
        self._config = config
        self._cache: dict[str, Any] = {}

    def __getattr__(self, service: str) -> Any:
        if service.startswith("_"):
            raise AttributeError(service)
        if service not in self._cache:
            name = service.replace("_", "")
            self._cache[service] = _aws(
                f"creating the {name} client",
                self._session.client,
                name,
                region_name=self._region,
                config=self._config,
            )
        return self._cache[service]


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


def _all(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    return list(_pages(client, operation, key, **kwargs))


# --------------------------------------------------------------------------- discovery


def discover(clients: Clients, env: str) -> Discovered:
    """The environment's stacks and the resources the checks need."""
    prefix = STACK_NAME_PREFIX.format(env=env)
    stacks = _aws(
        "listing CloudFormation stacks",
        _all,
        clients.cloudformation,
        "describe_stacks",
        "Stacks",
    )
    stacks = [s for s in stacks if str(s["StackName"]).startswith(prefix)]
    if not stacks:
        raise VerifyError(
            f"no CloudFormation stacks named {prefix}* found for environment {env!r} "
            "(check --env and --region)"
        )
    found = Discovered(stacks=sorted(stacks, key=lambda s: str(s["StackName"])))
    for stack in found.stacks:
        name = stack["StackName"]
        resources = _aws(
            f"listing the resources of {name}",
            _all,
            clients.cloudformation,
            "list_stack_resources",
            "StackResourceSummaries",
            StackName=name,
        )
        for resource in resources:
            kind = resource.get("ResourceType", "")
            physical = resource.get("PhysicalResourceId")
            if not physical:
                continue
            if kind == "AWS::ECS::Service":
                found.ecs_services.append(physical)
            elif kind == "AWS::Logs::LogGroup":
                found.log_groups.append(physical)
            elif kind == "AWS::CloudWatch::Alarm":
                found.alarms.append(physical)
            elif kind in (
                "AWS::ServiceDiscovery::HttpNamespace",
                "AWS::ServiceDiscovery::PrivateDnsNamespace",
                "AWS::ServiceDiscovery::PublicDnsNamespace",
            ):
                found.namespaces.append(physical)
    return found


def _cluster_of(service_arn: str) -> str | None:
    # arn:aws:ecs:<region>:<account>:service/<cluster>/<service> (the long ARN format)
    resource = service_arn.split(":", 5)[-1]
    parts = resource.split("/")
    return parts[1] if len(parts) == 3 else None


# ------------------------------------------------------------------------------ checks


def check_stack(stack: Mapping[str, Any]) -> CheckResult:
    """A stack is healthy when its status is ``*_COMPLETE`` and not a rollback."""
    status = str(stack.get("StackStatus", "UNKNOWN"))
    ok = status.endswith("_COMPLETE") and "ROLLBACK" not in status
    reason = stack.get("StackStatusReason")
    detail = status if ok or not reason else f"{status}: {reason}"
    return CheckResult(f"stack {stack['StackName']}", ok, detail)


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


def check_service_connect(
    namespace_ids: Sequence[str],
    services_by_namespace: Mapping[str, Sequence[Mapping[str, Any]]],
    instances_by_service: Mapping[str, int],
) -> CheckResult:
    """The ``otel-gateway`` Cloud Map service exists in a namespace and has instances."""
    name = f"service connect {GATEWAY_DISCOVERY_NAME}"
    if not namespace_ids:
        return CheckResult(name, False, "no Cloud Map namespace found in the stacks")
    for namespace_id in namespace_ids:
        for service in services_by_namespace.get(namespace_id, []):
            if service.get("Name") == GATEWAY_DISCOVERY_NAME:
                count = instances_by_service.get(str(service["Id"]), 0)
                return CheckResult(
                    name,
                    count > 0,
                    f"{count} instances registered in namespace {namespace_id}",
                )
    return CheckResult(
        name,
        False,
        f"no Cloud Map service {GATEWAY_DISCOVERY_NAME!r} in namespace {', '.join(namespace_ids)}",
    )


def error_lines(events: Iterable[Mapping[str, Any]]) -> list[str]:
    """Messages of JSON log events whose ``level`` is error or worse."""
    lines = []
    for event in events:
        message = str(event.get("message", ""))
        try:
            record = json.loads(message)
        except ValueError:
            continue
        if isinstance(record, dict) and str(record.get("level", "")).lower() in _ERROR_LEVELS:
            lines.append(message)
    return lines


def check_log_errors(log_group: str, lines: Sequence[str]) -> CheckResult:
    """No collector log line at level error or worse in the window."""
    name = f"log errors {log_group}"
    if not lines:
        return CheckResult(name, True, f"no ERROR lines in the last {LOG_WINDOW_MINUTES} min")
    quoted = []
    for line in lines[:MAX_QUOTED_LINES]:
        record = json.loads(line)
        quoted.append(str(record.get("msg", line))[:160])
    return CheckResult(
        name,
        False,
        f"{len(lines)} ERROR lines in the last {LOG_WINDOW_MINUTES} min, e.g. "
        + " | ".join(quoted),
    )


def check_alarms(alarms: Sequence[Mapping[str, Any]], expected: int) -> CheckResult:
    """No alarm of the environment is in ALARM."""
    firing = [str(a["AlarmName"]) for a in alarms if a.get("StateValue") == "ALARM"]
    insufficient = sum(1 for a in alarms if a.get("StateValue") == "INSUFFICIENT_DATA")
    if firing:
        return CheckResult(
            "alarms", False, f"{len(firing)} of {len(alarms)} in ALARM: " + ", ".join(firing)
        )
    detail = f"{len(alarms)} alarms, none in ALARM"
    if insufficient:
        detail += f" ({insufficient} INSUFFICIENT_DATA)"
    if len(alarms) < expected:
        detail += f"; {expected - len(alarms)} listed in the stacks not found"
    return CheckResult("alarms", True, detail)


# ------------------------------------------------------------------------------ runner


def _collector_log_groups(clients: Clients, task_definitions: Iterable[str]) -> list[str]:
    groups: list[str] = []
    for arn in task_definitions:
        described = _aws(
            f"describing task definition {arn}",
            clients.ecs.describe_task_definition,
            taskDefinition=arn,
        )
        for container in described["taskDefinition"].get("containerDefinitions", []):
            if container.get("name") != COLLECTOR_CONTAINER_NAME:
                continue
            options = (container.get("logConfiguration") or {}).get("options") or {}
            group = options.get("awslogs-group")
            if group and group not in groups:
                groups.append(group)
    return groups


def _running_tasks(clients: Clients, cluster: str, service_name: str) -> list[dict[str, Any]]:
    arns = _aws(
        f"listing the tasks of {service_name}",
        _all,
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
        described = _aws(
            f"describing the tasks of {service_name}",
            clients.ecs.describe_tasks,
            cluster=cluster,
            tasks=batch,
        )
        tasks.extend(t for t in described.get("tasks", []) if t.get("lastStatus") == "RUNNING")
    return tasks


def verify_environment(
    session: boto3.Session,
    env: str,
    *,
    region: str | None = None,
    now: float | None = None,
) -> list[CheckResult]:
    """Run every check against environment ``env``.

    :param session: the boto3 session to use (credentials and, unless ``region``, region).
    :param region: AWS region. default: the session's region.
    :param now: current time in seconds since the epoch. default: the clock.
    :raises VerifyError: the checks could not run.
    """
    clients = Clients(session, region=region)
    current = now if now is not None else time.time()
    found = discover(clients, env)
    results: list[CheckResult] = [check_stack(stack) for stack in found.stacks]
    task_definitions, sc_namespaces = _service_checks(clients, found.ecs_services, results)
    stack_names = {str(s["StackName"]) for s in found.stacks}
    if f"{STACK_NAME_PREFIX.format(env=env)}{GATEWAY_STACK_SUFFIX}" in stack_names:
        results.append(_service_connect(clients, found.namespaces, sc_namespaces))
    results.extend(_log_checks(clients, task_definitions, current, bool(found.ecs_services)))
    results.append(_alarm_check(clients, found.alarms))
    return results


def _service_checks(
    clients: Clients, service_arns: Sequence[str], results: list[CheckResult]
) -> tuple[list[str], list[str]]:
    """Append deployment, task-count and health checks of every service to ``results``;
    return the services' primary task definitions and Service Connect namespaces."""
    task_definitions: list[str] = []
    sc_namespaces: list[str] = []
    by_cluster: dict[str, list[str]] = {}
    for arn in service_arns:
        cluster = _cluster_of(arn)
        if cluster is None:
            results.append(CheckResult(f"service {arn}", False, "cannot tell its cluster"))
            continue
        by_cluster.setdefault(cluster, []).append(arn)
    for cluster, arns in by_cluster.items():
        described = _aws(
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
    results = [check_deployment(service), check_task_counts(service)]
    health = check_collector_health(service_name, _running_tasks(clients, cluster, service_name))
    if health is not None:
        results.append(health)
    return results


def _log_checks(
    clients: Clients, task_definitions: Sequence[str], current: float, has_services: bool
) -> list[CheckResult]:
    results: list[CheckResult] = []
    collector_groups = _collector_log_groups(clients, dict.fromkeys(task_definitions))
    for group in collector_groups:
        events = _aws(
            f"reading log group {group}",
            _all,
            clients.logs,
            "filter_log_events",
            "events",
            logGroupName=group,
            startTime=int((current - LOG_WINDOW_MINUTES * 60) * 1000),
            endTime=int(current * 1000),
            filterPattern=ERROR_FILTER_PATTERN,
        )
        results.append(check_log_errors(group, error_lines(events)))
    if has_services and not collector_groups:
        results.append(
            CheckResult(
                "log errors",
                False,
                "no otel-collector container with an awslogs log group in the services' "
                "task definitions",
            )
        )
    return results


def _alarm_check(clients: Clients, names: Sequence[str]) -> CheckResult:
    if not names:
        return CheckResult("alarms", True, "no alarms in the stacks")
    alarms: list[dict[str, Any]] = []
    for start in range(0, len(names), 100):
        alarms.extend(
            _aws(
                "describing the alarms",
                _all,
                clients.cloudwatch,
                "describe_alarms",
                "MetricAlarms",
                AlarmNames=list(names[start : start + 100]),
            )
        )
    return check_alarms(alarms, len(names))


def _service_connect(
    clients: Clients, stack_namespaces: Sequence[str], deployment_namespaces: Sequence[str]
) -> CheckResult:
    namespace_ids = list(dict.fromkeys(stack_namespaces))
    if not namespace_ids and deployment_namespaces:
        # Service Connect reports the namespace ARN: ...:namespace/ns-xxxx
        namespace_ids = list(dict.fromkeys(a.rsplit("/", 1)[-1] for a in deployment_namespaces))
    services_by_namespace: dict[str, list[dict[str, Any]]] = {}
    instances: dict[str, int] = {}
    for namespace_id in namespace_ids:
        services = _aws(
            f"listing the Cloud Map services of {namespace_id}",
            _all,
            clients.servicediscovery,
            "list_services",
            "Services",
            Filters=[{"Name": "NAMESPACE_ID", "Values": [namespace_id], "Condition": "EQ"}],
        )
        services_by_namespace[namespace_id] = services
        for service in services:
            if service.get("Name") != GATEWAY_DISCOVERY_NAME:
                continue
            service_id = str(service["Id"])
            instances[service_id] = len(
                _aws(
                    f"listing the instances of {GATEWAY_DISCOVERY_NAME}",
                    _all,
                    clients.servicediscovery,
                    "list_instances",
                    "Instances",
                    ServiceId=service_id,
                )
            )
    return check_service_connect(namespace_ids, services_by_namespace, instances)


# ------------------------------------------------------------------------------ output


def all_ok(results: Sequence[CheckResult]) -> bool:
    """Whether every check holds (and there was at least one)."""
    return bool(results) and all(r.ok for r in results)


def format_table(results: Sequence[CheckResult]) -> str:
    """A plain-text table: CHECK, RESULT, DETAIL."""
    rows = [("CHECK", "RESULT", "DETAIL")] + [
        (r.name, "ok" if r.ok else "FAIL", r.detail) for r in results
    ]
    width = max(len(row[0]) for row in rows)
    lines = [f"{name:<{width}}  {result:<6}  {detail}".rstrip() for name, result, detail in rows]
    return "\n".join(lines)


def format_json(env: str, region: str | None, results: Sequence[CheckResult]) -> str:
    """Machine-readable output: environment, region, overall ok and every check."""
    return json.dumps(
        {
            "environment": env,
            "region": region,
            "ok": all_ok(results),
            "checks": [asdict(r) for r in results],
        },
        indent=2,
    )
