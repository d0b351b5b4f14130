"""What an embedded app container is made of: the binaries' paths in the app's image, the
supervisor's command line, the app's variables, and their checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from aws_cdk import Token
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs

from otel_fargate.checks import fail
from otel_fargate.names import COLLECTOR_CONTAINER_NAME

#: Where ``docker/embedded.Dockerfile`` puts the collector, the probe and the supervisor.
COLLECTOR_PATH: Final = "/otelcol-contrib"
PROBE_PATH: Final = "/healthcheck"
SUPERVISOR_PATH: Final = "/supervisor"
#: App variables that may replace the construct's own.
REPLACEABLE: Final = frozenset({"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"})


@dataclass(frozen=True)
class Paths:
    """The binaries in the app's image."""

    collector: str
    probe: str
    supervisor: str


@dataclass(frozen=True, kw_only=True)
class AppContainer:
    """The app's side of the container."""

    name: str
    image: ecs.ContainerImage
    command: tuple[str, ...]
    cpu: int
    memory_mib: int
    environment: dict[str, str]
    secrets: dict[str, ecs.Secret]
    port_mappings: tuple[ecs.PortMapping, ...]
    readonly_root_filesystem: bool


def check_paths(*, collector_path: str, probe_path: str, supervisor_path: str) -> Paths:
    """The three paths, each absolute and free of whitespace."""
    for setting, value in (
        ("collector_path", collector_path),
        ("probe_path", probe_path),
        ("supervisor_path", supervisor_path),
    ):
        if (
            not isinstance(value, str)
            or not value.startswith("/")
            or any(c.isspace() for c in value)
        ):
            raise fail(setting, "must be an absolute path inside the image", value)
    return Paths(collector_path, probe_path, supervisor_path)


def check_container_name(name: str, task_definition: ecs.TaskDefinition) -> str:
    """``name``, when ECS accepts it as a container name and the task has no such container."""
    if (
        not isinstance(name, str)
        or not 1 <= len(name) <= 255
        or not all(c.isascii() and (c.isalnum() or c in "-_") for c in name)
    ):
        raise fail("container_name", "must be 1-255 letters, digits, hyphens or underscores", name)
    if name == COLLECTOR_CONTAINER_NAME or task_definition.find_container(name) is not None:
        raise fail(
            "container_name",
            f"task {task_definition.node.path} already has a container of this name "
            f"(or it is the sidecar's {COLLECTOR_CONTAINER_NAME!r})",
            name,
        )
    return name


def check_command(command: Sequence[str]) -> tuple[str, ...]:
    """The app's command line: a non-empty list of strings."""
    if isinstance(command, str | bytes) or not isinstance(command, Sequence) or not command:
        raise fail("command", "must be the app's command line as a non-empty list", command)
    if not all(isinstance(part, str) for part in command):
        raise fail("command", "must hold strings only", command)
    return tuple(command)


def supervisor_entry_point(
    paths: Paths,
    *,
    health_check_url: str,
    drain_metrics_url: str | None,
    drain_timeout_seconds: int,
) -> list[str]:
    """The supervisor with the collector, the probe and the drain, up to ``--``."""
    return [
        paths.supervisor,
        f"--collector={paths.collector}",
        f"--probe={paths.probe}",
        f"--probe-url={health_check_url}",
        f"--drain-metrics-url={drain_metrics_url or ''}",
        f"--drain-timeout={drain_timeout_seconds}s",
        "--",
    ]


def merge_app_environment(
    ours: Mapping[str, str], given: Mapping[str, str], *, reserved: set[str]
) -> dict[str, str]:
    """``ours`` with the app's ``given`` variables; the app may replace only the service name
    and resource attributes, and none of the collector's variables (``reserved``).
    """
    if not isinstance(given, Mapping):
        raise fail("app_environment", "must be a mapping of variable names to values", given)
    for name, value in given.items():
        if not isinstance(name, str) or not (isinstance(value, str) or Token.is_unresolved(value)):
            raise fail("app_environment", "must map variable names to strings", {name: value})
        if name in reserved:
            raise fail(
                f"app_environment[{name!r}]",
                "is the embedded collector's own variable",
                value,
            )
        if name in ours and name not in REPLACEABLE and ours[name] != value:
            raise fail(
                f"app_environment[{name!r}]",
                f"is set by the construct to {ours[name]!r} (only "
                f"{', '.join(sorted(REPLACEABLE))} may be replaced)",
                value,
            )
    return {**ours, **given}


def check_no_overlap(
    setting: str, secrets: Mapping[str, ecs.Secret], taken: Mapping[str, object]
) -> None:
    """No app secret shares its name with a variable or secret the container has already."""
    clash = sorted(set(secrets) & set(taken))
    if clash:
        raise fail(
            setting,
            "names a variable the container already sets (the collector's secrets or the "
            "app's environment)",
            clash,
        )


def aws_logs(stream_prefix: str, log_group: logs.ILogGroup) -> ecs.LogDriver:
    """The container's log driver: its log group, streams under ``stream_prefix``."""
    return ecs.LogDrivers.aws_logs(stream_prefix=stream_prefix, log_group=log_group)
