"""What an application container gets from its collector sidecar: OTLP variables, and a
dependency on the collector being healthy.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import aws_ecs as ecs

from .checks import fail
from .names import COLLECTOR_CONTAINER_NAME, OTLP_GRPC_PORT, OTLP_HTTP_PORT

#: Environment variable names that the sidecar sets on application containers.
OTEL_ENV_NAMES: Final = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_PROPAGATORS",
    "OTEL_TRACES_EXPORTER",
    "OTEL_METRICS_EXPORTER",
    "OTEL_LOGS_EXPORTER",
)

#: The OTLP protocols apps may use, and the collector port each reaches.
APP_PROTOCOLS: Final = {"http/protobuf": OTLP_HTTP_PORT, "grpc": OTLP_GRPC_PORT}


def otel_environment(
    container_name: str, *, app_protocol: str, environment_name: str, uses_xray: bool
) -> dict[str, str]:
    """The OTLP environment variables of an application container named ``container_name``."""
    return {
        # 127.0.0.1, not localhost: some runtimes resolve localhost to ::1 first, and the
        # collector listens on IPv4 loopback only.
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{APP_PROTOCOLS[app_protocol]}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": app_protocol,
        "OTEL_SERVICE_NAME": container_name,
        "OTEL_RESOURCE_ATTRIBUTES": (
            f"service.name={container_name},deployment.environment.name={environment_name}"
        ),
        "OTEL_PROPAGATORS": "tracecontext,baggage,xray" if uses_xray else "tracecontext,baggage",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "otlp",
    }


def existing_variables(
    container: ecs.ContainerDefinition, task_definition: ecs.TaskDefinition
) -> set[str]:
    """Names of the environment variables and secrets ``container`` already sets."""
    rendered = container.render_container_definition(task_definition)
    return {
        str(getattr(item, "name", ""))
        for items in (rendered.environment, rendered.secrets)
        if isinstance(items, list)
        for item in items
    }


def check_app_container(
    container: ecs.ContainerDefinition, task_definition: ecs.TaskDefinition
) -> None:
    """``container`` belongs to ``task_definition`` and is not the collector."""
    if container.task_definition.node.path != task_definition.node.path:
        raise fail(
            "app_containers",
            f"every container must belong to the sidecar's task definition "
            f"{task_definition.node.path}",
            container.node.path,
        )
    if container.container_name == COLLECTOR_CONTAINER_NAME:
        raise fail("app_containers", "the collector cannot be its own app", container.node.path)


def reserved(task_definition: ecs.TaskDefinition) -> tuple[int, int]:
    """CPU units and MiB of memory the task's containers reserve so far."""
    used_cpu = used_memory = 0
    for child in task_definition.node.children:
        if isinstance(child, ecs.ContainerDefinition):
            rendered = child.render_container_definition(task_definition)
            used_cpu += int(rendered.cpu or 0)
            used_memory += int(rendered.memory or rendered.memory_reservation or 0)
    return used_cpu, used_memory


def as_int(value: object) -> int | None:
    """A task size as an int, or None when it is not a plain number (a token, unset)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
