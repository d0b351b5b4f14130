"""The collector container definition shared by the sidecar and the gateway."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aws_cdk import Annotations, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from otel_fargate.config import RenderedConfig
from otel_fargate.errors import OtelFargateError
from otel_fargate.names import (
    COLLECTOR_CONTAINER_NAME,
    CONFIG_ENV,
    ECS_PROVIDED_ENV,
    QUEUE_DIRECTORY,
    QUEUE_STORAGE_ID,
)
from otel_fargate.task._nag import acknowledge
from otel_fargate.task.drain import SUPERVISOR_PATH, RoleDrain, drain_note, supervisor_command
from otel_fargate.task.fargate import log_retention
from otel_fargate.task.health import HealthCheckTiming, probe_command
from otel_fargate.task.image import BoundImage
from otel_fargate.task.options import CollectorOptions
from otel_fargate.task.permissions import grant_collector_permissions, stack_creates_log_group
from otel_fargate.task.secrets import ecs_secrets, grant_key_decrypt
from otel_fargate.task.storage import (
    check_queues_fit,
    ephemeral_storage,
    persistent_queue_sizes,
)
from otel_fargate.task.synth import add_check, definition_size


@dataclass(frozen=True, kw_only=True)
class CollectorContainerSpec:
    """What one collector container is: its config, options, size and lifecycle."""

    rendered: RenderedConfig
    options: CollectorOptions
    cpu: int
    memory_mib: int
    essential: bool
    restart_attempt_period_seconds: int | None
    extra_secrets: Mapping[str, ecs.Secret] = field(default_factory=dict)
    port_mappings: Sequence[ecs.PortMapping] = ()
    #: What the role waits for on stop beyond its exporters' queues.
    drain: RoleDrain = field(default_factory=RoleDrain)


@dataclass(frozen=True)
class CollectorParts:
    """What :func:`add_collector` created."""

    container: ecs.ContainerDefinition
    #: The collector's own log group.
    log_group: logs.LogGroup
    #: Log groups the exporters write, created by the stack (or by another collector of the
    #: app, when it writes the same group), by name.
    export_log_groups: dict[str, logs.ILogGroup]
    #: The task-role policy the exporters need, or ``None`` when they need none.
    export_policy: iam.Policy | None


def add_collector(
    scope: Construct, *, task_definition: ecs.TaskDefinition, spec: CollectorContainerSpec
) -> CollectorParts:
    """Add everything a collector running ``spec.rendered`` needs to ``task_definition``: its
    container, its log group, the exporters' log groups, the IAM its exporters need, and its
    secrets (``spec.extra_secrets`` plus the config's own); and the synth check that the task
    definition, as finished, stays within ECS's size limit (every role: sidecar, agent,
    gateway, sampler).
    """
    log_group = collector_log_group(
        scope, task_definition, spec.rendered, spec.options, spec.extra_secrets
    )
    container = _add_container(scope, task_definition, spec, log_group)
    export_log_groups, export_policy = collector_exports(
        scope, task_definition, spec.rendered, spec.options
    )
    return CollectorParts(container, log_group, export_log_groups, export_policy)


def collector_log_group(
    scope: Construct,
    task_definition: ecs.TaskDefinition,
    rendered: RenderedConfig,
    options: CollectorOptions,
    extra_secrets: Mapping[str, ecs.Secret],
) -> logs.LogGroup:
    """What comes before a collector's container: the check that every variable its
    configuration reads is provided, the task definition's size check, and its log group.
    """
    check_provided(rendered, extra_secrets)
    add_check(scope, lambda: definition_size(task_definition))
    return logs.LogGroup(scope, "Logs", retention=log_retention(options.log_retention_days))


def collector_exports(
    scope: Construct,
    task_definition: ecs.TaskDefinition,
    rendered: RenderedConfig,
    options: CollectorOptions,
) -> tuple[dict[str, logs.ILogGroup], iam.Policy | None]:
    """The log groups a collector's exporters write, and the task-role policy they need."""
    export_log_groups = create_export_log_groups(
        scope,
        rendered,
        default_retention_days=options.log_retention_days,
        removal_policy=options.telemetry_log_removal_policy,
    )
    export_policy = grant_collector_permissions(scope, task_definition.task_role, rendered.iam)
    return export_log_groups, export_policy


def check_provided(rendered: RenderedConfig, extra_secrets: Mapping[str, ecs.Secret]) -> None:
    """Every ``${env:NAME}`` the configuration needs is a secret or variable of the container."""
    missing = [
        name
        for name in rendered.required_env
        if name not in extra_secrets and name not in ECS_PROVIDED_ENV
    ]
    if missing:
        name = missing[0]
        raise OtelFargateError(
            f"config: ${{env:{name}}} is read by the collector configuration, but no secret or "
            f"environment variable of the container provides it (the collector would read an "
            f"empty string); pass secrets=[SecretRef(env_name={name!r}, secret_id=...)] or "
            f"environment={{{name!r}: ...}}; unprovided: {', '.join(missing)}"
        )


def config_secrets(
    scope: Construct, task_definition: ecs.TaskDefinition, rendered: RenderedConfig
) -> dict[str, ecs.Secret]:
    """The ECS secrets the configuration reads, with the KMS grants they need."""
    secrets = ecs_secrets(scope, rendered.secrets)
    grant_key_decrypt(task_definition, rendered.secrets)
    return secrets


def _health_check(
    scope: Construct, task_definition: ecs.TaskDefinition, spec: CollectorContainerSpec
) -> tuple[BoundImage, ecs.HealthCheck | None]:
    image = spec.options.resolved_image.bind(scope, task_definition=task_definition)
    if not spec.options.health_check:
        return image, None
    if image.probe_path is None:
        raise OtelFargateError(
            "image: the image has no health probe; pass "
            "CollectorImage.from_registry(name, probe_path=...) or set health_check=False"
        )
    check = probe_health_check(
        image.probe_path,
        spec.rendered.health_check_url,
        spec.options.resolved_timing,
        style=image.probe_style,
    )
    return image, check


def probe_health_check(
    probe_path: str, url: str, timing: HealthCheckTiming, *, style: str = "url"
) -> ecs.HealthCheck:
    """The container health check that runs the probe at ``probe_path`` against ``url``."""
    return ecs.HealthCheck(
        command=probe_command(probe_path, url, timing, style=style),
        interval=Duration.seconds(timing.interval_seconds),
        timeout=Duration.seconds(timing.timeout_seconds),
        retries=timing.retries,
        start_period=Duration.seconds(timing.start_period_seconds),
    )


def _entry_point(
    scope: Construct, image: BoundImage, spec: CollectorContainerSpec
) -> tuple[list[str] | None, list[str]]:
    """The container's entry point and command: the supervisor draining the collector on
    stop when the image carries it, else the image's own collector.
    """
    config_arg = f"--config=env:{CONFIG_ENV}"
    if image.supervised_collector is None:
        return None, [config_arg]
    note = drain_note(spec.rendered.config)
    if note is not None:
        Annotations.of(scope).add_warning_v2("otel-fargate:no-drain", f"drain: {note}.")
    command = supervisor_command(
        collector=image.supervised_collector,
        config_arg=config_arg,
        config=spec.rendered.config,
        stop_timeout_seconds=spec.options.stop_timeout_seconds,
        drain=spec.drain,
    )
    return [SUPERVISOR_PATH], command


def _add_container(
    scope: Construct,
    task_definition: ecs.TaskDefinition,
    spec: CollectorContainerSpec,
    log_group: logs.ILogGroup,
) -> ecs.ContainerDefinition:
    image, check = _health_check(scope, task_definition, spec)
    entry_point, command = _entry_point(scope, image, spec)
    secrets = config_secrets(scope, task_definition, spec.rendered)
    secrets.update(spec.extra_secrets)
    restart = spec.restart_attempt_period_seconds
    container = task_definition.add_container(
        COLLECTOR_CONTAINER_NAME,
        container_name=COLLECTOR_CONTAINER_NAME,
        image=image.container_image,
        entry_point=entry_point,
        command=command,
        cpu=spec.cpu,
        memory_limit_mib=spec.memory_mib,
        essential=spec.essential,
        environment={**spec.rendered.environment, CONFIG_ENV: spec.rendered.yaml},
        secrets=secrets,
        health_check=check,
        stop_timeout=Duration.seconds(spec.options.stop_timeout_seconds),
        logging=ecs.LogDrivers.aws_logs(stream_prefix="collector", log_group=log_group),
        port_mappings=list(spec.port_mappings),
        readonly_root_filesystem=True,
        enable_restart_policy=True if restart is not None else None,
        restart_attempt_period=Duration.seconds(restart) if restart is not None else None,
    )
    _mount_queue_volume(task_definition, container, spec.rendered)
    acknowledge_container(task_definition)
    return container


#: The task volume that holds the persistent sending queues.
QUEUE_VOLUME = "otel-collector-queue"


def _mount_queue_volume(
    task_definition: ecs.TaskDefinition,
    container: ecs.ContainerDefinition,
    rendered: RenderedConfig,
) -> None:
    """A task-scoped volume at the queue directory, when the configuration persists queues;
    the queues together must fit half the task's ephemeral storage.
    """
    if QUEUE_STORAGE_ID not in (rendered.config.get("extensions") or {}):
        return
    check_queues_fit(ephemeral_storage(task_definition), persistent_queue_sizes(rendered.config))
    task_definition.add_volume(name=QUEUE_VOLUME)
    container.add_mount_points(
        ecs.MountPoint(container_path=QUEUE_DIRECTORY, source_volume=QUEUE_VOLUME, read_only=False)
    )


def docker_labels(container: ecs.ContainerDefinition) -> Mapping[str, str]:
    """The Docker labels ``container`` has so far."""
    rendered = container.render_container_definition()
    labels = rendered.docker_labels
    return labels if isinstance(labels, Mapping) else {}


def acknowledge_container(task_definition: ecs.TaskDefinition) -> None:
    """The cdk-nag and cfn-lint findings every collector container raises, with reasons."""
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
    acknowledge(
        task_definition.obtain_execution_role(),
        "AwsSolutions-IAM5[Resource::*]",
        "ecr:GetAuthorizationToken, needed to pull the collector image, has no resource-level "
        "permissions; the image pull itself is scoped to the image's repository.",
    )


def create_export_log_groups(
    scope: Construct,
    rendered: RenderedConfig,
    *,
    default_retention_days: int,
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
) -> dict[str, logs.ILogGroup]:
    """The log groups ``rendered``'s exporters write, created with their retention, by name.

    The exporters then only create streams. Groups the stack cannot create (names with per-task
    placeholders, another region) are left to the exporter; groups an exporter expects to exist
    (the AWS OTLP logs endpoint) are left to their owner. A group that another collector of the
    app already creates is not created twice (CloudFormation would fail the second): this
    collector uses that one, and its stack deploys after the owner's. ``removal_policy``
    decides what deleting the stack does to them.
    """
    stack = Stack.of(scope)
    owned = _groups_owned_elsewhere(scope)
    groups: dict[str, logs.ILogGroup] = {}
    for group in sorted(rendered.iam.log_groups_written, key=lambda g: g.name):
        if not stack_creates_log_group(stack, group) or group.name in groups:
            continue
        owner = owned.get(group.name)
        if owner is not None:
            groups[group.name] = owner
            if Stack.of(owner) is not stack:
                stack.add_dependency(Stack.of(owner), f"creates log group {group.name}")
            continue
        days = group.retention_days if group.retention_days is not None else default_retention_days
        digest = hashlib.sha256(group.name.encode()).hexdigest()[:8]
        groups[group.name] = logs.LogGroup(
            scope,
            f"LogGroup{digest}",
            log_group_name=group.name,
            retention=log_retention(days, setting=f"log group {group.name}: retention_days"),
            removal_policy=removal_policy,
        )
    return groups


def _groups_owned_elsewhere(scope: Construct) -> dict[str, logs.ILogGroup]:
    """Exporter log groups other collectors of the app create, by name."""
    owned: dict[str, logs.ILogGroup] = {}
    for node in scope.node.root.node.find_all():
        groups = getattr(node, "export_log_groups", None)
        if node is not scope and isinstance(groups, dict):
            for name, group in groups.items():
                owned.setdefault(name, group)
    return owned
