"""Find what a rotation touches: the gateway stack's services, the two token secrets they
read, and every other service of the region that reads the current one (the agents).

Nothing here changes anything; what is missing raises :class:`RotateError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from botocore.exceptions import ClientError
from otel_fargate.names import GATEWAY_TOKEN_ENV, GATEWAY_TOKEN_PREVIOUS_ENV, stack_name

from tools.rotate.plan import Plan, RotateError, Secret, Service
from tools.verify.aws import Clients, aws_call, cluster_of, list_all, stack_resources

_TOKEN_NAMES: Final = (GATEWAY_TOKEN_ENV, GATEWAY_TOKEN_PREVIOUS_ENV)


def _describe_stack(cloudformation: Any, name: str) -> dict[str, Any] | None:
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as err:
        if "does not exist" in str(err.response.get("Error", {}).get("Message", "")):
            return None
        raise
    return dict(stacks[0]) if stacks else None


def _gateway_service_arns(clients: Clients, env: str) -> list[str]:
    name = stack_name(env, "gateway")
    stack = aws_call(f"describing stack {name}", _describe_stack, clients.cloudformation, name)
    if stack is None:
        raise RotateError(f"no CloudFormation stack {name} (check --env and --region)")
    status = str(stack.get("StackStatus", "UNKNOWN"))
    if not status.endswith("_COMPLETE") or status.startswith("DELETE"):
        raise RotateError(
            f"stack {name} is {status}; rotate the token when no stack operation is running"
        )
    resources = stack_resources(clients, name)
    arns = [
        str(r["PhysicalResourceId"])
        for r in resources
        if r.get("ResourceType") == "AWS::ECS::Service" and r.get("PhysicalResourceId")
    ]
    if not arns:
        raise RotateError(f"stack {name} has no ECS service")
    return arns


def _describe_services(clients: Clients, cluster: str, arns: Sequence[str]) -> list[dict[str, Any]]:
    """The ACTIVE services among ``arns`` of ``cluster`` (ten per call, as ECS allows)."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(arns), 10):
        described = aws_call(
            f"describing the ECS services of cluster {cluster}",
            clients.ecs.describe_services,
            cluster=cluster,
            services=list(arns[start : start + 10]),
        )
        found += [s for s in described.get("services", []) if s.get("status") == "ACTIVE"]
    return found


def _service(cluster: str, described: Mapping[str, Any]) -> Service:
    return Service(
        cluster=cluster,
        arn=str(described["serviceArn"]),
        name=str(described["serviceName"]),
        task_definition=str(described["taskDefinition"]),
    )


class _TaskDefinitions:
    """Each task definition's secrets (name -> valueFrom), described once."""

    def __init__(self, clients: Clients) -> None:
        self._clients = clients
        self._seen: dict[str, list[tuple[str, str]]] = {}

    def secrets(self, arn: str) -> list[tuple[str, str]]:
        if arn not in self._seen:
            described = aws_call(
                f"describing task definition {arn}",
                self._clients.ecs.describe_task_definition,
                taskDefinition=arn,
            )
            self._seen[arn] = [
                (str(secret["name"]), str(secret["valueFrom"]))
                for container in described["taskDefinition"].get("containerDefinitions", [])
                for secret in container.get("secrets", [])
            ]
        return self._seen[arn]


def _check_value_from(service: Service, env_name: str, value_from: str) -> None:
    """A token must be a whole Secrets Manager secret: the command writes plain strings."""
    parts = value_from.split(":")
    if value_from.startswith("arn:") and (parts[2] != "secretsmanager" or len(parts) != 7):
        raise RotateError(
            f"{service.name} reads {env_name} from {value_from}, which is not a whole Secrets "
            "Manager secret; rotate-token writes plain-string secrets only"
        )


def _gateways(
    clients: Clients, definitions: _TaskDefinitions, env: str
) -> tuple[tuple[Service, ...], str, str]:
    """The gateway services and the valueFrom of the current and previous token."""
    by_cluster: dict[str, list[str]] = {}
    for arn in _gateway_service_arns(clients, env):
        by_cluster.setdefault(cluster_of(arn) or "default", []).append(arn)
    gateways: list[Service] = []
    pairs: set[tuple[str, str]] = set()
    for cluster, arns in by_cluster.items():
        for described in _describe_services(clients, cluster, arns):
            service = _service(cluster, described)
            names = dict(definitions.secrets(service.task_definition))
            if GATEWAY_TOKEN_ENV not in names:
                continue
            if GATEWAY_TOKEN_PREVIOUS_ENV not in names:
                raise RotateError(
                    f"{service.name} reads {GATEWAY_TOKEN_ENV} but no "
                    f"{GATEWAY_TOKEN_PREVIOUS_ENV}: deploy the gateway stack first (cdk deploy) "
                    "so that the gateway accepts two tokens"
                )
            for env_name in _TOKEN_NAMES:
                _check_value_from(service, env_name, names[env_name])
            gateways.append(service)
            pairs.add((names[GATEWAY_TOKEN_ENV], names[GATEWAY_TOKEN_PREVIOUS_ENV]))
    if not gateways:
        raise RotateError(
            f"no service of stack {stack_name(env, 'gateway')} reads {GATEWAY_TOKEN_ENV}"
        )
    if len(pairs) != 1:
        raise RotateError(
            "the gateway services read different token secrets: " + str(sorted(pairs))
        )
    ((current, previous),) = pairs
    if current == previous:
        raise RotateError(f"{GATEWAY_TOKEN_ENV} and {GATEWAY_TOKEN_PREVIOUS_ENV} are one secret")
    return tuple(gateways), current, previous


def _agents(
    clients: Clients,
    definitions: _TaskDefinitions,
    current: Secret,
    gateways: Iterable[Service],
) -> tuple[Service, ...]:
    """Every other ACTIVE service of the region whose task definition reads ``current``."""
    skip = {g.arn for g in gateways}
    agents: list[Service] = []
    clusters = aws_call(
        "listing the ECS clusters", list_all, clients.ecs, "list_clusters", "clusterArns"
    )
    for cluster_arn in clusters:
        cluster = str(cluster_arn).rsplit("/", 1)[-1]
        arns = aws_call(
            f"listing the services of cluster {cluster}",
            list_all,
            clients.ecs,
            "list_services",
            "serviceArns",
            cluster=cluster,
        )
        for described in _describe_services(clients, cluster, [a for a in arns if a not in skip]):
            service = _service(cluster, described)
            if any(current.read_by(v) for _, v in definitions.secrets(service.task_definition)):
                agents.append(service)
    return tuple(agents)


def _secret(clients: Clients, value_from: str, *, read: bool) -> tuple[Secret, dict[str, Any]]:
    if read:
        found = aws_call(
            f"reading secret {value_from}",
            clients.secretsmanager.get_secret_value,
            SecretId=value_from,
        )
    else:
        found = aws_call(
            f"describing secret {value_from}",
            clients.secretsmanager.describe_secret,
            SecretId=value_from,
        )
    return Secret(value_from, str(found["ARN"]), str(found["Name"])), found


def discover(clients: Clients, env: str) -> Plan:
    """The gateways, their two token secrets and the agents; nothing is changed.

    Raises:
        RotateError: something needed is missing, or AWS could not be asked.
    """
    definitions = _TaskDefinitions(clients)
    gateways, current_from, previous_from = _gateways(clients, definitions, env)
    current, value = _secret(clients, current_from, read=True)
    previous, _ = _secret(clients, previous_from, read=False)
    token = value.get("SecretString")
    if not isinstance(token, str) or not token:
        raise RotateError(f"secret {current.name} holds no string value")
    return Plan(
        current=current,
        previous=previous,
        current_value=token,
        written=value["CreatedDate"],
        current_version=str(value["VersionId"]),
        gateways=gateways,
        agents=_agents(clients, definitions, current, gateways),
    )


def stale_agents(clients: Clients, plan: Plan) -> list[str]:
    """Agent services with running tasks created before the current token was written."""
    stale: list[str] = []
    for agent in plan.agents:
        arns = aws_call(
            f"listing the tasks of {agent.name}",
            list_all,
            clients.ecs,
            "list_tasks",
            "taskArns",
            cluster=agent.cluster,
            serviceName=agent.name,
            desiredStatus="RUNNING",
        )
        tasks: list[dict[str, Any]] = []
        for start in range(0, len(arns), 100):
            tasks += aws_call(
                f"describing the tasks of {agent.name}",
                clients.ecs.describe_tasks,
                cluster=agent.cluster,
                tasks=arns[start : start + 100],
            ).get("tasks", [])
        old = [t for t in tasks if t.get("createdAt") is not None and t["createdAt"] < plan.written]
        if old:
            stale.append(f"{agent.label}: {len(old)} of {len(tasks)} tasks")
    return stale
