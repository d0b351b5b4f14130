"""Instrumenting an application container: the init container that copies its runtime's
agent, the task volume, the read-only mount, the dependency and the merged variables.
"""

from __future__ import annotations

from aws_cdk import IgnoreMode
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct

from otel_fargate.apps.instrumentation import (
    DOTNET_AGENT_IMAGE,
    AutoInstrumentation,
    check_single,
    merged_value,
)
from otel_fargate.apps.wiring import existing_variables
from otel_fargate.checks import fail
from otel_fargate.config.model.components import build_context_dir
from otel_fargate.names import OTLP_HTTP_PORT
from otel_fargate.task.image import cpu_architecture_of

#: The Dockerfile of the agent images, in the library's build context.
INSTRUMENTATION_DOCKERFILE = "docker/instrumentation.Dockerfile"


def init_container_name(runtime: str) -> str:
    """The name of the init container that copies ``runtime``'s agent."""
    return f"otel-agent-{runtime}"


def check_instrumentation(
    name: str, instrumentation: object, *, known: AutoInstrumentation | None
) -> None:
    """``instrumentation`` is an AutoInstrumentation of the runtime container ``name`` has, if
    it has one already.
    """
    if not isinstance(instrumentation, AutoInstrumentation):
        raise fail(
            f"instrument.{name}",
            "must be an AutoInstrumentation (AutoInstrumentation.java(), ...)",
            instrumentation,
        )
    if known is not None and known.runtime != instrumentation.runtime:
        raise fail(
            f"instrument.{name}",
            f"is instrumented for {known.runtime} already; one runtime per container",
            instrumentation.runtime,
        )


def instrument_container(
    scope: Construct,
    container: ecs.ContainerDefinition,
    instrumentation: AutoInstrumentation,
    *,
    task_definition: ecs.TaskDefinition,
    app_protocol: str,
    resource_attributes: str | None,
    log_group: logs.ILogGroup,
) -> ecs.ContainerDefinition:
    """Give ``container`` its runtime's agent; return the init container (one per runtime
    and task, shared by the task's containers of that runtime), which logs to ``log_group``
    (the collector's) under the stream prefix ``otel-agent-<runtime>``.

    ``resource_attributes`` is the ``OTEL_RESOURCE_ATTRIBUTES`` the sidecar set on the
    container (None when the container set its own, which then wins).
    """
    setting = f"instrument.{container.container_name}"
    if instrumentation.runtime == "python" and app_protocol != "http/protobuf":
        raise fail(
            f"{setting}",
            "the Python agent exports OTLP over HTTP only; give the sidecar "
            f"app_protocol='http/protobuf' (port {OTLP_HTTP_PORT})",
            app_protocol,
        )
    init = _init_container(scope, instrumentation, task_definition, log_group)
    volume = init.mount_points[0].source_volume
    if not any(m.container_path == instrumentation.mount_path for m in container.mount_points):
        container.add_mount_points(
            ecs.MountPoint(
                container_path=instrumentation.mount_path, source_volume=volume, read_only=True
            )
        )
        container.add_container_dependencies(
            ecs.ContainerDependency(
                container=init, condition=ecs.ContainerDependencyCondition.SUCCESS
            )
        )
    _merge_environment(
        container, instrumentation, task_definition, setting, resource_attributes
    )
    return init


def _merge_environment(
    container: ecs.ContainerDefinition,
    instrumentation: AutoInstrumentation,
    task_definition: ecs.TaskDefinition,
    setting: str,
    resource_attributes: str | None,
) -> None:
    existing = existing_variables(container, task_definition)
    for name, (fragment, separator, first) in instrumentation.appended().items():
        value = existing.get(name, "")
        merged = merged_value(
            name, value, fragment, separator=separator, first=first, setting=setting
        )
        if merged != value:
            container.add_environment(name, merged)
    arm64 = cpu_architecture_of(task_definition) == "ARM64"
    for name, value in check_single(setting, existing, instrumentation.single(arm64=arm64)).items():
        container.add_environment(name, value)
    for name, value in instrumentation.defaults().items():
        if name not in existing:
            container.add_environment(name, value)
    version = instrumentation.service_version
    current = existing.get("OTEL_RESOURCE_ATTRIBUTES")
    if version is not None and resource_attributes is not None and current == resource_attributes:
        container.add_environment(
            "OTEL_RESOURCE_ATTRIBUTES", f"{resource_attributes},service.version={version}"
        )


def _init_container(
    scope: Construct,
    instrumentation: AutoInstrumentation,
    task_definition: ecs.TaskDefinition,
    log_group: logs.ILogGroup,
) -> ecs.ContainerDefinition:
    name = init_container_name(instrumentation.runtime)
    found = task_definition.find_container(name)
    if found is not None:
        return found
    volume = f"otel-auto-instrumentation-{instrumentation.runtime}"
    task_definition.add_volume(name=volume)
    init = task_definition.add_container(
        f"OtelAgent{instrumentation.runtime.capitalize()}",
        container_name=name,
        image=_image(scope, instrumentation, task_definition),
        essential=False,
        command=instrumentation.copy_command,
        memory_limit_mib=instrumentation.memory_mib,
        readonly_root_filesystem=True,
        # a failed copy keeps the app from starting: its output says why
        logging=ecs.LogDrivers.aws_logs(stream_prefix=name, log_group=log_group),
    )
    init.add_mount_points(
        ecs.MountPoint(
            container_path=instrumentation.mount_path, source_volume=volume, read_only=False
        )
    )
    return init


def _image(
    scope: Construct, instrumentation: AutoInstrumentation, task_definition: ecs.TaskDefinition
) -> ecs.ContainerImage:
    if instrumentation.image is not None:
        return ecs.ContainerImage.from_registry(instrumentation.image)
    if instrumentation.runtime == "dotnet":
        return ecs.ContainerImage.from_registry(DOTNET_AGENT_IMAGE)
    arm64 = cpu_architecture_of(task_definition) == "ARM64"
    asset = ecr_assets.DockerImageAsset(
        scope,
        f"AgentImage{instrumentation.runtime.capitalize()}",
        directory=str(build_context_dir()),
        file=INSTRUMENTATION_DOCKERFILE,
        target=instrumentation.runtime,
        platform=ecr_assets.Platform.LINUX_ARM64 if arm64 else ecr_assets.Platform.LINUX_AMD64,
        build_args={"JAVA_AGENT_VERSION": instrumentation.agent_version}
        if instrumentation.runtime == "java"
        else None,
        ignore_mode=IgnoreMode.DOCKER,
    )
    return ecs.ContainerImage.from_docker_image_asset(asset)
