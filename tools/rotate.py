"""Rotate an environment's gateway bearer token without refusing any agent.

The gateway accepts two tokens, ``OTEL_GATEWAY_TOKEN`` (the current one, which agents send)
and ``OTEL_GATEWAY_TOKEN_PREVIOUS``; ECS reads both secrets when a task starts, and agents
read only the current one. :func:`rotate_token`:

1. finds the gateway services of ``otel-fargate-<env>-gateway`` and, in their task
   definitions, the two secrets they read; then every ECS service of the region (all
   clusters) whose task definition reads the current secret: the agents. Nothing is changed
   when something is missing, and not at all with ``dry_run``;
2. refuses (unless ``force``) while an agent task runs that was created before the current
   token was written: it may hold an older token, which the gateways stop accepting;
3. writes a new random token into the *previous* secret, redeploys the gateways and waits
   until every rollout has completed: every gateway now accepts the current and the new
   token, while every agent, even one starting now, still gets the current one;
4. promotes: the current secret gets the new token, the previous secret the old one;
5. redeploys the agents and waits until they are stable.

An agent never holds a token a running gateway refuses: before step 4 agents get the old
token, which every gateway accepts; after it they get the new one, which every gateway
accepts since step 3. Only a gateway task starting in the instant between the two writes of
step 4 would read the new token twice; it accepts the agents again once they have been
redeployed. When a gateway rollout fails, nothing has been promoted and the agents keep the
current token, so the rotation can simply be run again.

Problems that stop the rotation before anything is written raise :class:`RotateError`
(exit 2, like ``verify``); a refused, failed or timed-out rotation, and any AWS error after
the first write, raise :class:`RotationFailed` (exit 1), whose message says what state it
left.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, TextIO

from botocore.exceptions import ClientError
from otel_fargate.names import GATEWAY_TOKEN_ENV, GATEWAY_TOKEN_PREVIOUS_ENV, stack_name

from tools.verify import Clients, VerifyError, _all, _aws, _cluster_of

if TYPE_CHECKING:
    import boto3

#: Length of a generated token: ``secrets.token_urlsafe(36)`` gives 48 characters of
#: ``A-Z a-z 0-9 - _``, as long as the token the stack generates.
TOKEN_BYTES: Final = 36
#: Seconds between two looks at a rollout (the ECS ``services_stable`` waiter's interval).
POLL_SECONDS: Final = 15.0
#: How long one phase (the gateways, then the agents) may take to roll out.
DEFAULT_TIMEOUT_SECONDS: Final = 1800

_TOKEN_NAMES: Final = (GATEWAY_TOKEN_ENV, GATEWAY_TOKEN_PREVIOUS_ENV)


class RotateError(VerifyError):
    """The rotation could not start: nothing was changed."""


class RotationFailed(Exception):
    """The rotation was refused or failed part-way; the message says what state it left."""


@dataclass(frozen=True)
class Service:
    """An ECS service and the task definition it runs."""

    cluster: str
    arn: str
    name: str
    task_definition: str

    @property
    def label(self) -> str:
        return f"{self.name} (cluster {self.cluster})"


@dataclass(frozen=True)
class Secret:
    """A token secret: how the gateway's task definition names it, its ARN and name."""

    value_from: str
    arn: str
    name: str

    def read_by(self, value_from: str) -> bool:
        """Whether an ECS secret's ``valueFrom`` is this secret (or a key of it)."""
        return value_from in (self.arn, self.name, self.value_from) or value_from.startswith(
            self.arn + ":"
        )


@dataclass(frozen=True)
class Plan:
    """What a rotation will touch."""

    current: Secret
    previous: Secret
    #: the current token (kept out of the repr) and when it was written
    current_value: str = field(repr=False)
    written: datetime
    gateways: tuple[Service, ...]
    agents: tuple[Service, ...]


def new_token() -> str:
    """A new random token: 48 URL-safe characters."""
    return secrets.token_urlsafe(TOKEN_BYTES)


# --------------------------------------------------------------------------- discovery


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
    stack = _aws(f"describing stack {name}", _describe_stack, clients.cloudformation, name)
    if stack is None:
        raise RotateError(f"no CloudFormation stack {name} (check --env and --region)")
    status = str(stack.get("StackStatus", "UNKNOWN"))
    if not status.endswith("_COMPLETE") or status.startswith("DELETE"):
        raise RotateError(
            f"stack {name} is {status}; rotate the token when no stack operation is running"
        )
    resources = _aws(
        f"listing the resources of {name}",
        _all,
        clients.cloudformation,
        "list_stack_resources",
        "StackResourceSummaries",
        StackName=name,
    )
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
        described = _aws(
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
            described = _aws(
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
        by_cluster.setdefault(_cluster_of(arn) or "default", []).append(arn)
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
    clusters = _aws("listing the ECS clusters", _all, clients.ecs, "list_clusters", "clusterArns")
    for cluster_arn in clusters:
        cluster = str(cluster_arn).rsplit("/", 1)[-1]
        arns = _aws(
            f"listing the services of cluster {cluster}",
            _all,
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
        found = _aws(
            f"reading secret {value_from}",
            clients.secretsmanager.get_secret_value,
            SecretId=value_from,
        )
    else:
        found = _aws(
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
        gateways=gateways,
        agents=_agents(clients, definitions, current, gateways),
    )


def stale_agents(clients: Clients, plan: Plan) -> list[str]:
    """Agent services with running tasks created before the current token was written."""
    stale: list[str] = []
    for agent in plan.agents:
        arns = _aws(
            f"listing the tasks of {agent.name}",
            _all,
            clients.ecs,
            "list_tasks",
            "taskArns",
            cluster=agent.cluster,
            serviceName=agent.name,
            desiredStatus="RUNNING",
        )
        tasks: list[dict[str, Any]] = []
        for start in range(0, len(arns), 100):
            tasks += _aws(
                f"describing the tasks of {agent.name}",
                clients.ecs.describe_tasks,
                cluster=agent.cluster,
                tasks=arns[start : start + 100],
            ).get("tasks", [])
        old = [t for t in tasks if t.get("createdAt") is not None and t["createdAt"] < plan.written]
        if old:
            stale.append(f"{agent.label}: {len(old)} of {len(tasks)} tasks")
    return stale


# ------------------------------------------------------------------------------ rollouts


@dataclass(frozen=True)
class Rollout:
    """A deployment this command started."""

    service: Service
    deployment: str
    created: datetime | None


def redeploy(clients: Clients, services: Iterable[Service]) -> list[Rollout]:
    """Force a new deployment of every service; the tasks it starts read the secrets anew."""
    rollouts = []
    for service in services:
        answer = _aws(
            f"redeploying {service.name}",
            clients.ecs.update_service,
            cluster=service.cluster,
            service=service.arn,
            forceNewDeployment=True,
        )
        primary = _primary(answer["service"])
        rollouts.append(Rollout(service, str(primary.get("id")), primary.get("createdAt")))
    return rollouts


def _primary(service: Mapping[str, Any]) -> dict[str, Any]:
    found = [d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"]
    return dict(found[0]) if found else {}


def rollout_state(rollout: Rollout, service: Mapping[str, Any] | None) -> str | None:
    """None while the rollout runs, ``"COMPLETED"`` when stable, else why it failed.

    Stable: the service runs one deployment, started by this rollout or after it, whose
    rollout has completed, with as many tasks running as desired. A deployment started
    after ours (another deploy) also starts its tasks after the secrets were written.
    """
    if service is None or service.get("status") != "ACTIVE":
        return "the service is no longer ACTIVE"
    deployments = list(service.get("deployments", []))
    primary = _primary(service)
    ours = next((d for d in deployments if d.get("id") == rollout.deployment), None)
    newer = primary.get("id") == rollout.deployment or (
        rollout.created is not None
        and primary.get("createdAt") is not None
        and primary["createdAt"] >= rollout.created
    )
    if not newer:
        failed = ours is not None and ours.get("rolloutState") == "FAILED"
        reason = ours.get("rolloutStateReason") if failed and ours else None
        return f"rollout FAILED: {reason}" if reason else "rolled back to an earlier deployment"
    if primary.get("rolloutState") == "FAILED":
        return f"rollout FAILED: {primary.get('rolloutStateReason', 'no reason given')}"
    stable = len(deployments) == 1 and service.get("runningCount") == service.get("desiredCount")
    done = primary.get("rolloutState", "COMPLETED") == "COMPLETED"
    return "COMPLETED" if stable and done else None


@dataclass(frozen=True)
class Waiting:
    """How to wait: the deadline per phase, the poll interval, and the clock."""

    timeout: float = DEFAULT_TIMEOUT_SECONDS
    interval: float = POLL_SECONDS
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def wait_for(
    clients: Clients, rollouts: Sequence[Rollout], waiting: Waiting, out: TextIO
) -> list[str]:
    """Poll until every rollout completed; return the failures (empty: all completed).

    A rollout still running at the deadline is a failure.
    """
    deadline = waiting.clock() + waiting.timeout
    pending = list(rollouts)
    failures: list[str] = []
    while True:
        current = _current_services(clients, pending)
        still: list[Rollout] = []
        for rollout in pending:
            state = rollout_state(rollout, current.get(rollout.service.arn))
            if state is None:
                still.append(rollout)
            elif state == "COMPLETED":
                print(f"    {rollout.service.label}: rollout COMPLETED", file=out)
            else:
                failures.append(f"{rollout.service.label}: {state}")
        if not still:
            return failures
        if waiting.clock() >= deadline:
            return failures + [
                f"{r.service.label}: not stable within {waiting.timeout:g} s" for r in still
            ]
        waiting.sleep(waiting.interval)
        pending = still


def _current_services(clients: Clients, rollouts: Sequence[Rollout]) -> dict[str, dict[str, Any]]:
    by_cluster: dict[str, list[str]] = {}
    for rollout in rollouts:
        by_cluster.setdefault(rollout.service.cluster, []).append(rollout.service.arn)
    found: dict[str, dict[str, Any]] = {}
    for cluster, arns in by_cluster.items():
        for start in range(0, len(arns), 10):
            described = _aws(
                f"watching the rollouts in cluster {cluster}",
                clients.ecs.describe_services,
                cluster=cluster,
                services=arns[start : start + 10],
            )
            found.update({str(s["serviceArn"]): s for s in described.get("services", [])})
    return found


# ------------------------------------------------------------------------------ rotation


def _put(clients: Clients, secret: Secret, value: str) -> None:
    _aws(
        f"writing secret {secret.name}",
        clients.secretsmanager.put_secret_value,
        SecretId=secret.arn,
        SecretString=value,
    )


def describe_plan(plan: Plan) -> list[str]:
    """The plan as lines for the operator (names only, never a token)."""
    agents = ", ".join(a.label for a in plan.agents) or (
        f"none (no other ECS service in the region reads {plan.current.name})"
    )
    return [
        f"  current token:  {plan.current.name} ({GATEWAY_TOKEN_ENV})",
        f"  previous token: {plan.previous.name} ({GATEWAY_TOKEN_PREVIOUS_ENV}, gateways only)",
        "  gateways:       " + ", ".join(g.label for g in plan.gateways),
        "  agents:         " + agents,
    ]


#: What a failure before the promotion leaves: safe, and the command can be run again.
NOT_PROMOTED: Final = (
    "Nothing was promoted: agents keep the current token, which every gateway accepts; fix "
    "the cause and run rotate-token again"
)
#: What a failure while redeploying the agents leaves.
PROMOTED: Final = (
    "The new token is current and the gateways accept it and the old one, so agent tasks "
    "still running are accepted; redeploy those services before the next rotation, which "
    "refuses to start while they run"
)


def _roll(clients: Clients, services: Sequence[Service], wait: Waiting, out: TextIO) -> list[str]:
    """Redeploy ``services`` and wait for them; an AWS error becomes a failure too."""
    try:
        return wait_for(clients, redeploy(clients, services), wait, out)
    except VerifyError as error:
        return [str(error)]


def _roll_gateways(clients: Clients, plan: Plan, wait: Waiting, out: TextIO) -> None:
    print(f"2/4 redeploying the gateways (timeout {wait.timeout:g} s)", file=out)
    failures = _roll(clients, plan.gateways, wait, out)
    if failures:
        raise RotationFailed("gateway rollout failed: " + "; ".join(failures) + ". " + NOT_PROMOTED)


def _promote(clients: Clients, plan: Plan, token: str, out: TextIO) -> None:
    try:
        _put(clients, plan.current, token)
    except VerifyError as error:
        raise RotationFailed(f"{error}. {NOT_PROMOTED}") from error
    try:
        _put(clients, plan.previous, plan.current_value)
    except VerifyError as error:
        raise RotationFailed(
            f"{plan.current.name} holds the new token, but writing the old one into "
            f"{plan.previous.name} failed ({error}); gateways starting now would refuse agents "
            "that still send the old token: redeploy the agents (they get the new token, which "
            "every gateway accepts), then run rotate-token again"
        ) from error
    print(
        f"3/4 promoted: {plan.current.name} holds the new token, {plan.previous.name} the old one",
        file=out,
    )


def _roll_agents(clients: Clients, plan: Plan, wait: Waiting, out: TextIO) -> None:
    print(f"4/4 redeploying the agents (timeout {wait.timeout:g} s)", file=out)
    failures = _roll(clients, plan.agents, wait, out)
    if failures:
        raise RotationFailed("agent rollout failed: " + "; ".join(failures) + ". " + PROMOTED)


def rotate_token(
    session: boto3.Session,
    env: str,
    *,
    out: TextIO,
    region: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    waiting: Waiting | None = None,
    token_factory: Callable[[], str] = new_token,
) -> Plan:
    """Rotate the gateway token of environment ``env``: new token, gateways, then agents.

    :param force: rotate even while agent tasks created before the current token was
        written are running (they would be refused once the rotation is done).
    :param waiting: how long and how often to look at the rollouts. default: ``Waiting()``.
    :raises RotateError: nothing was changed (missing stack, secrets, AWS access); an AWS
        error after the first write raises RotationFailed instead.
    :raises RotationFailed: refused, or a step failed; the message says what state it left.
    """
    clients = Clients(session, region=region)
    wait = waiting if waiting is not None else Waiting()
    plan = discover(clients, env)
    print(f"rotate-token {env}: stack {stack_name(env, 'gateway')}", file=out)
    for line in describe_plan(plan):
        print(line, file=out)
    stale = [] if force else stale_agents(clients, plan)
    if stale:
        raise RotationFailed(
            "agent tasks created before the current token was written are running and may hold "
            "an older token, which the gateways would stop accepting: "
            + "; ".join(stale)
            + ". Redeploy those services first (aws ecs update-service --force-new-deployment), "
            "or pass --force; nothing was changed"
        )
    if dry_run:
        print("dry run: nothing changed", file=out)
        return plan
    token = token_factory()
    _put(clients, plan.previous, token)
    print(f"1/4 staged a new token in {plan.previous.name}", file=out)
    _roll_gateways(clients, plan, wait, out)
    _promote(clients, plan, token, out)
    _roll_agents(clients, plan, wait, out)
    print(
        "rotated: the gateways accept the new and the old token, the agents send the new one",
        file=out,
    )
    return plan
