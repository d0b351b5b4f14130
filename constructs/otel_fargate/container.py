"""The collector container definition shared by the sidecar and the gateway."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ._logs import retention_days
from ._nag import acknowledge
from .errors import OtelFargateError
from .image import BoundImage, CollectorImage
from .permissions import grant_collector_permissions, stack_creates_log_group

#: Name of the collector container in every task definition.
COLLECTOR_CONTAINER_NAME = "otel-collector"
#: Environment variable that carries the rendered configuration.
CONFIG_ENV = "OTEL_FARGATE_CONFIG"
#: Fargate's upper bound for a container's stop timeout.
MAX_STOP_TIMEOUT_SECONDS = 120

_FULL_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:.*-[A-Za-z0-9]{6}$")


@dataclass(frozen=True)
class HealthCheckTiming:
    """Timing of the collector's ECS health check.

    Default: every 10 s with a 5 s timeout; unhealthy after 3 failures in a row (one success
    makes it healthy); failures in the first 30 s do not count; and the probe itself gives up
    after 2 s, so a hung endpoint is reported by the probe before ECS kills the check.
    ECS limits: interval 5-300 s, timeout 2-60 s, retries 1-10, start period 0-300 s.
    """

    interval_seconds: int = 10
    timeout_seconds: int = 5
    retries: int = 3
    start_period_seconds: int = 30
    probe_timeout_seconds: float = 2.0

    def __post_init__(self) -> None:
        for name, low, high in (
            ("interval_seconds", 5, 300),
            ("timeout_seconds", 2, 60),
            ("retries", 1, 10),
            ("start_period_seconds", 0, 300),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise OtelFargateError(
                    f"health_check.{name}: ECS accepts a whole number from {low} to {high}, "
                    f"got {value!r}"
                )
        probe = self.probe_timeout_seconds
        if isinstance(probe, bool) or not isinstance(probe, int | float) or not (
            0.1 <= probe < self.timeout_seconds
        ):
            raise OtelFargateError(
                "health_check.probe_timeout_seconds: must be from 0.1 up to below timeout_seconds "
                f"({self.timeout_seconds}), got {self.probe_timeout_seconds!r}"
            )
        if self.timeout_seconds >= self.interval_seconds:
            raise OtelFargateError(
                f"health_check.timeout_seconds: must be shorter than interval_seconds "
                f"({self.interval_seconds}), got {self.timeout_seconds}"
            )


def probe_command(probe_path: str, url: str, timing: HealthCheckTiming) -> list[str]:
    """The exec-form ECS health check command (never ``CMD-SHELL``: the image has no shell)."""
    milliseconds = round(timing.probe_timeout_seconds * 1000)
    timeout = f"{milliseconds // 1000}s" if milliseconds % 1000 == 0 else f"{milliseconds}ms"
    return ["CMD", probe_path, "--url", url, "--timeout", timeout]


def ecs_secrets(scope: Construct, refs: Mapping[str, Any]) -> dict[str, ecs.Secret]:
    """ECS secrets for the ``${env:NAME}`` references of a rendered configuration.

    A Secrets Manager secret is named by its name or its complete ARN (the one ending in the
    six random characters Secrets Manager appends; a partial ARN whose name happens to end in a
    six-character segment cannot be told apart, so give such a secret by name). An SSM
    SecureString parameter is named by its name or an ARN in the stack's region. The execution
    role may read exactly these.
    """
    secrets: dict[str, ecs.Secret] = {}
    for env_name in sorted(refs):
        ref = refs[env_name]
        secret_id: str = ref.secret_id
        setting = f"secrets.{env_name}.secret_id"
        if ref.kind == "ssm":
            if secret_id.startswith("arn:"):
                region = secret_id.split(":")[3] if secret_id.count(":") >= 5 else ""
                stack_region = Stack.of(scope).region
                if Token.is_unresolved(stack_region) or region != stack_region:
                    raise OtelFargateError(
                        f"{setting}: an SSM parameter ARN must be in the stack's region "
                        f"({stack_region if not Token.is_unresolved(stack_region) else 'unset'})"
                        f", got {secret_id!r}"
                    )
                parameter = ssm.StringParameter.from_string_parameter_arn(
                    scope, f"Param{env_name}", secret_id
                )
            else:
                parameter = ssm.StringParameter.from_secure_string_parameter_attributes(
                    scope, f"Param{env_name}", parameter_name=secret_id
                )
            secrets[env_name] = ecs.Secret.from_ssm_parameter(parameter)
            continue
        if secret_id.startswith("arn:"):
            if not _FULL_SECRET_ARN.match(secret_id):
                raise OtelFargateError(
                    f"{setting}: a Secrets Manager ARN must be complete (ending in the six "
                    f"characters Secrets Manager appends), or give the secret's name, "
                    f"got {secret_id!r}"
                )
            secret = secretsmanager.Secret.from_secret_complete_arn(
                scope, f"Secret{env_name}", secret_id
            )
        else:
            secret = secretsmanager.Secret.from_secret_name_v2(
                scope, f"Secret{env_name}", secret_id
            )
        secrets[env_name] = ecs.Secret.from_secrets_manager(secret, ref.json_field)
    return secrets


def collector_log_group(scope: Construct, *, retention: int) -> logs.LogGroup:
    """The log group for the collector container's own output."""
    return logs.LogGroup(scope, "Logs", retention=retention_days("log_retention_days", retention))


@dataclass(frozen=True)
class CollectorParts:
    """What :func:`add_collector` created."""

    container: ecs.ContainerDefinition
    #: The collector's own log group.
    log_group: logs.LogGroup
    #: Log groups the exporters write, created by the stack, by name.
    export_log_groups: dict[str, logs.LogGroup]
    #: The task-role policy the exporters need, or ``None`` when they need none.
    export_policy: iam.Policy | None


def add_collector(
    scope: Construct,
    *,
    task_definition: ecs.TaskDefinition,
    rendered: Any,
    image: CollectorImage,
    health_check: bool,
    timing: HealthCheckTiming,
    cpu: int,
    memory_mib: int,
    log_retention_days: int,
    stop_timeout_seconds: int,
    essential: bool,
    restart_attempt_period_seconds: int | None,
    extra_secrets: Mapping[str, ecs.Secret],
    port_mappings: Sequence[ecs.PortMapping] = (),
) -> CollectorParts:
    """Add everything a collector running ``rendered`` (a ``RenderedConfig``) needs to
    ``task_definition``: its container, its log group, the exporters' log groups, the IAM
    its exporters need, and its secrets (``extra_secrets`` plus the config's own)."""
    log_group = collector_log_group(scope, retention=log_retention_days)
    secrets = ecs_secrets(scope, dict(rendered.secrets))
    secrets.update(extra_secrets)
    container = _add_container(
        scope,
        task_definition=task_definition,
        rendered=rendered,
        image=image.bind(scope, task_definition=task_definition),
        health_check=health_check,
        timing=timing,
        cpu=cpu,
        memory_mib=memory_mib,
        log_group=log_group,
        stop_timeout_seconds=stop_timeout_seconds,
        essential=essential,
        restart_attempt_period_seconds=restart_attempt_period_seconds,
        secrets=secrets,
        port_mappings=port_mappings,
    )
    export_log_groups = create_export_log_groups(
        scope, rendered, default_retention_days=log_retention_days
    )
    export_policy = grant_collector_permissions(scope, task_definition.task_role, rendered.iam)
    return CollectorParts(container, log_group, export_log_groups, export_policy)


def _add_container(
    scope: Construct,
    *,
    task_definition: ecs.TaskDefinition,
    rendered: Any,
    image: BoundImage,
    health_check: bool,
    timing: HealthCheckTiming,
    cpu: int,
    memory_mib: int,
    log_group: logs.ILogGroup,
    stop_timeout_seconds: int,
    essential: bool,
    restart_attempt_period_seconds: int | None,
    secrets: Mapping[str, ecs.Secret],
    port_mappings: Sequence[ecs.PortMapping],
) -> ecs.ContainerDefinition:
    check: ecs.HealthCheck | None = None
    if health_check:
        if image.probe_path is None:
            raise OtelFargateError(
                "image: the image has no health probe; pass "
                "CollectorImage.from_registry(name, probe_path=...) or set health_check=False"
            )
        check = ecs.HealthCheck(
            command=probe_command(image.probe_path, rendered.health_check_url, timing),
            interval=Duration.seconds(timing.interval_seconds),
            timeout=Duration.seconds(timing.timeout_seconds),
            retries=timing.retries,
            start_period=Duration.seconds(timing.start_period_seconds),
        )
    environment = dict(rendered.environment)
    environment[CONFIG_ENV] = rendered.yaml
    restart = restart_attempt_period_seconds is not None
    container = task_definition.add_container(
        COLLECTOR_CONTAINER_NAME,
        container_name=COLLECTOR_CONTAINER_NAME,
        image=image.container_image,
        command=[f"--config=env:{CONFIG_ENV}"],
        cpu=cpu,
        memory_limit_mib=memory_mib,
        essential=essential,
        environment=environment,
        secrets=dict(secrets),
        health_check=check,
        stop_timeout=Duration.seconds(stop_timeout_seconds),
        logging=ecs.LogDrivers.aws_logs(stream_prefix="collector", log_group=log_group),
        port_mappings=list(port_mappings),
        readonly_root_filesystem=True,
        enable_restart_policy=True if restart else None,
        restart_attempt_period=(
            Duration.seconds(restart_attempt_period_seconds)
            if restart_attempt_period_seconds is not None
            else None
        ),
    )
    acknowledge(
        task_definition,
        "CloudFormation-Validate::E1029",
        "${env:NAME} in the collector configuration is the collector's own syntax, resolved "
        "inside the container from ECS secrets; CloudFormation leaves it alone outside Fn::Sub.",
    )
    acknowledge(
        task_definition,
        "AwsSolutions-ECS2",
        "The collector's environment holds its configuration and sizing, never a secret: "
        "every credential reaches the container through ECS secrets as ${env:NAME}.",
    )
    execution_role = task_definition.obtain_execution_role()
    acknowledge(
        execution_role,
        "AwsSolutions-IAM5[Resource::*]",
        "ecr:GetAuthorizationToken, needed to pull the collector image, has no resource-level "
        "permissions; the image pull itself is scoped to the image's repository.",
    )
    return container


def create_export_log_groups(
    scope: Construct, rendered: Any, *, default_retention_days: int
) -> dict[str, logs.LogGroup]:
    """Create the log groups that ``rendered``'s exporters would create, with their retention.

    The exporters then only create streams. Groups the stack cannot create (names with per-task
    placeholders, another region) are left to the exporter; groups an exporter expects to exist
    (the AWS OTLP logs endpoint) are left to their owner. The groups are removed with the stack,
    so a failed first deploy or a destroy never blocks the next deploy with "already exists".
    """
    stack = Stack.of(scope)
    groups: dict[str, logs.LogGroup] = {}
    for group in sorted(rendered.iam.log_groups_written, key=lambda g: g.name):
        if not stack_creates_log_group(stack, group) or group.name in groups:
            continue
        days = group.retention_days if group.retention_days is not None else default_retention_days
        digest = hashlib.sha256(group.name.encode()).hexdigest()[:8]
        groups[group.name] = logs.LogGroup(
            scope,
            f"LogGroup{digest}",
            log_group_name=group.name,
            retention=retention_days(f"log group {group.name}: retention_days", days),
            removal_policy=RemovalPolicy.DESTROY,
        )
    return groups
