"""Stdout logs: a FireLens log router forwards what app containers print to the collector.

Most ECS apps log to stdout. With ``CollectorSidecar(stdout_logs=True)`` the app's task gets
a FireLens log router (AWS for Fluent Bit, ECS log metadata on), every wired app container
the ``awsfirelens`` log driver with a Fluent Bit ``forward`` output to ``127.0.0.1:8006``,
and the collector a ``fluent_forward`` receiver there, in its logs pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct

from otel_fargate.checks import fail
from otel_fargate.config import Exporter, FluentForwardReceiver, Receiver
from otel_fargate.logs.options import StdoutLogs
from otel_fargate.names import (
    LOG_BUFFER_BYTES_ENV,
    LOG_BUFFER_DIRECTORY,
    LOG_BUFFER_PORT,
    LOG_FORWARD_PORT_ENV,
    LOG_RETRY_LIMIT_ENV,
    LOG_ROUTER_CONFIG_FILE,
    LOG_ROUTER_CONTAINER_NAME,
    LOG_ROUTER_IMAGE,
    LOG_ROUTER_MEMORY_MIB,
)
from otel_fargate.task.fargate import log_retention, task_containers
from otel_fargate.task.image import asset_image
from otel_fargate.task.storage import ephemeral_storage, log_buffer_bytes

#: The log router's image: AWS for Fluent Bit plus ``docker/log-router/buffer.conf``.
LOG_ROUTER_DOCKERFILE = "docker/log-router.Dockerfile"
#: The task volume that holds the log router's disk buffer.
LOG_BUFFER_VOLUME = "otel-log-buffer"


def app_output_options(settings: StdoutLogs) -> dict[str, str]:
    """The ``awsfirelens`` options of an app container: the Fluent Bit output FireLens
    generates from them forwards to the router's disk-buffered input on the loopback.
    """
    return {
        "Name": "forward",
        "Host": "127.0.0.1",
        "Port": str(LOG_BUFFER_PORT),
        "Retry_Limit": settings.fluent_bit_retry_limit,
    }


def with_forward_receiver(receivers: Sequence[Receiver]) -> tuple[Receiver, ...]:
    """``receivers`` with a :class:`FluentForwardReceiver` (the default one when none is given)."""
    if any(isinstance(r, FluentForwardReceiver) for r in receivers):
        return tuple(receivers)
    return (*receivers, FluentForwardReceiver())


def forward_receiver(receivers: Sequence[Receiver]) -> FluentForwardReceiver:
    """The Fluent Forward receiver FireLens forwards to."""
    return next(r for r in receivers if isinstance(r, FluentForwardReceiver))


def check_stdout_logs(
    *,
    exporters: Sequence[Exporter],
    gateway_signals: Sequence[str] | None,
    replacement: object,
    task_definition: ecs.TaskDefinition,
) -> None:
    """Refuse stdout logs a collector could not take: no logs pipeline (no exporter of logs,
    or a gateway accepting none), a replacement configuration, or a task with a log router.
    """
    if replacement is not None:
        raise fail(
            "stdout_logs",
            "cannot be combined with config_replacement (the replacement is the whole "
            "configuration: give it a fluent_forward receiver and wire FireLens yourself)",
            True,
        )
    takes_logs = (
        "logs" in gateway_signals
        if gateway_signals is not None
        else any("logs" in e.signals for e in exporters)
    )
    if not takes_logs:
        where = (
            "its gateway accepts no logs"
            if gateway_signals is not None
            else ("no exporter takes logs")
        )
        raise fail(
            "stdout_logs",
            f"the collector has no logs pipeline ({where}), so forwarded stdout would be "
            f"lost; add an exporter of logs or leave stdout_logs off",
            True,
        )
    for child in task_definition.node.find_all():
        if isinstance(child, ecs.FirelensLogRouter):
            raise fail(
                "stdout_logs",
                f"task {task_definition.node.path} already has a FireLens log router "
                f"({child.container_name}); a task takes one",
                True,
            )


def add_log_router(
    scope: Construct,
    *,
    task_definition: ecs.TaskDefinition,
    retention_days: int,
    restart_attempt_period_seconds: int | None,
    settings: StdoutLogs,
    forward_port: int,
    queue_bytes: int,
) -> tuple[ecs.FirelensLogRouter, logs.LogGroup]:
    """The FireLens log router (Fluent Bit) and the log group of its own output.

    Not essential, like the collector: a crashed router is restarted by the container restart
    policy and does not stop the app. Its image adds ``docker/log-router/buffer.conf``, which
    FireLens includes: a filesystem-buffered forward input the app containers' outputs feed,
    and the output to the collector on ``forward_port`` with ``settings``' retry limit and a
    disk bound that fits the task's ephemeral storage beside ``queue_bytes`` of queues. The
    buffer sits on a task volume, so a restarted router resumes what it held.
    """
    storage = ephemeral_storage(task_definition)
    buffer = log_buffer_bytes(storage, queues=queue_bytes, requested_mib=settings.buffer_mib)
    log_group = logs.LogGroup(scope, "LogRouterLogs", retention=log_retention(retention_days))
    restart = restart_attempt_period_seconds
    router = ecs.FirelensLogRouter(
        scope,
        "LogRouter",
        task_definition=task_definition,
        container_name=LOG_ROUTER_CONTAINER_NAME,
        image=_router_image(scope, task_definition),
        firelens_config=ecs.FirelensConfig(
            type=ecs.FirelensLogRouterType.FLUENTBIT,
            options=ecs.FirelensOptions(
                enable_ecs_log_metadata=True,
                config_file_type=ecs.FirelensConfigFileType.FILE,
                config_file_value=LOG_ROUTER_CONFIG_FILE,
            ),
        ),
        environment={
            LOG_FORWARD_PORT_ENV: str(forward_port),
            LOG_RETRY_LIMIT_ENV: settings.fluent_bit_retry_limit,
            LOG_BUFFER_BYTES_ENV: str(buffer),
        },
        memory_reservation_mib=LOG_ROUTER_MEMORY_MIB,
        essential=False,
        logging=ecs.LogDrivers.aws_logs(stream_prefix="log-router", log_group=log_group),
        enable_restart_policy=True if restart is not None else None,
        restart_attempt_period=Duration.seconds(restart) if restart is not None else None,
    )
    task_definition.add_volume(name=LOG_BUFFER_VOLUME)
    router.add_mount_points(
        ecs.MountPoint(
            container_path=LOG_BUFFER_DIRECTORY, source_volume=LOG_BUFFER_VOLUME, read_only=False
        )
    )
    return router, log_group


def _router_image(scope: Construct, task_definition: ecs.TaskDefinition) -> ecs.ContainerImage:
    """AWS for Fluent Bit plus the buffer configuration, built on deploy for the task's CPU."""
    return asset_image(
        scope,
        "LogRouterImage",
        task_definition=task_definition,
        file=LOG_ROUTER_DOCKERFILE,
        build_args={"LOG_ROUTER_IMAGE": LOG_ROUTER_IMAGE},
    )


def route_stdout(
    container: ecs.ContainerDefinition,
    *,
    task_definition: ecs.TaskDefinition,
    router: ecs.FirelensLogRouter,
    settings: StdoutLogs,
) -> None:
    """Send ``container``'s stdout and stderr through FireLens to the router's disk buffer,
    which hands them to the collector.

    A container with a log driver of its own is refused: its logs already go somewhere, and
    replacing that silently would move them.
    """
    name = container.container_name
    driver = container.log_driver_config
    if driver is not None:
        raise fail(
            f"app_containers.{name}.logging",
            "stdout_logs sends the container's output through FireLens to the collector; "
            "leave its logging unset",
            driver.log_driver,
        )
    # The log driver of a ContainerDefinition is fixed when it is created, so the FireLens
    # driver goes into the container's entry of the task definition's template.
    index = [c.node.path for c in task_containers(task_definition)].index(container.node.path)
    cfn = task_definition.node.default_child
    if not isinstance(cfn, ecs.CfnTaskDefinition):
        raise fail("task_definition", "must be an ECS task definition", task_definition.node.path)
    cfn.add_property_override(
        f"ContainerDefinitions.{index}.LogConfiguration",
        {
            "LogDriver": "awsfirelens",
            "Options": app_output_options(settings),
        },
    )
    container.add_container_dependencies(
        ecs.ContainerDependency(container=router, condition=ecs.ContainerDependencyCondition.START)
    )
