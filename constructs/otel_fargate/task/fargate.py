"""Fargate task sizes and CloudWatch Logs retention: the platform's limits, checked, and what
a task's containers reserve of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jsii
from aws_cdk import aws_ecs as ecs

from otel_fargate.checks import check_retention_days, fail
from otel_fargate.errors import OtelFargateError
from otel_fargate.names import LOG_RETENTION_DAYS

if TYPE_CHECKING:
    from aws_cdk import aws_logs as logs
    from constructs import Construct

#: Task memory (MiB) that Fargate accepts for each task CPU value.
FARGATE_CPU_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}


def check_fargate_size(prefix: str, cpu: int, memory_mib: int) -> None:
    """Fail unless ``cpu``/``memory_mib`` is a Fargate task size; messages start with ``prefix``."""
    allowed = FARGATE_CPU_MEMORY.get(cpu)
    if allowed is None:
        raise OtelFargateError(
            f"{prefix}cpu: Fargate task CPU must be one of "
            f"{', '.join(map(str, FARGATE_CPU_MEMORY))}, got {cpu!r}"
        )
    if memory_mib not in allowed:
        raise OtelFargateError(
            f"{prefix}memory_mib: with cpu {cpu}, Fargate accepts "
            f"{', '.join(map(str, allowed))} MiB, got {memory_mib!r}"
        )


def check_fargate_task(task_definition: ecs.TaskDefinition) -> None:
    """Fail unless ``task_definition`` uses awsvpc networking and is Fargate-compatible."""
    if task_definition.network_mode != ecs.NetworkMode.AWS_VPC:
        raise fail(
            "task_definition",
            "must use awsvpc networking (a Fargate task definition)",
            task_definition.node.path,
        )
    if not task_definition.is_fargate_compatible:
        raise fail("task_definition", "must be Fargate-compatible", task_definition.node.path)


def log_retention(days: int, *, setting: str = "log_retention_days") -> logs.RetentionDays:
    """The CloudWatch Logs retention of ``days``; a period CloudWatch refuses fails naming
    ``setting``.
    """
    from aws_cdk import aws_logs as logs

    check_retention_days(setting, days)
    member: logs.RetentionDays = logs.RetentionDays[
        _RETENTION_MEMBERS[LOG_RETENTION_DAYS.index(days)]
    ]
    return member


#: The ``logs.RetentionDays`` member of each period of ``LOG_RETENTION_DAYS``, in its order.
_RETENTION_MEMBERS = (
    "ONE_DAY",
    "THREE_DAYS",
    "FIVE_DAYS",
    "ONE_WEEK",
    "TWO_WEEKS",
    "ONE_MONTH",
    "TWO_MONTHS",
    "THREE_MONTHS",
    "FOUR_MONTHS",
    "FIVE_MONTHS",
    "SIX_MONTHS",
    "ONE_YEAR",
    "THIRTEEN_MONTHS",
    "EIGHTEEN_MONTHS",
    "TWO_YEARS",
    "THREE_YEARS",
    "FIVE_YEARS",
    "SIX_YEARS",
    "SEVEN_YEARS",
    "EIGHT_YEARS",
    "NINE_YEARS",
    "TEN_YEARS",
)


def reserved(task_definition: ecs.TaskDefinition) -> tuple[int, int]:
    """CPU units and MiB of memory the task's containers reserve so far: every container of
    the task, wherever in the tree it was created (the FireLens log router of ``stdout_logs``
    is a child of the sidecar, not of the task definition).
    """
    used_cpu = used_memory = 0
    for child in task_containers(task_definition):
        rendered = child.render_container_definition(task_definition)
        used_cpu += int(rendered.cpu or 0)
        used_memory += int(rendered.memory or rendered.memory_reservation or 0)
    return used_cpu, used_memory


def task_containers(task_definition: ecs.TaskDefinition) -> list[ecs.ContainerDefinition]:
    """The task definition's containers in the order its template lists them."""
    containers: list[ecs.ContainerDefinition] = jsii.get(task_definition, "containers")
    return list(containers)


def as_int(value: object) -> int | None:
    """A task size as an int, or None when it is not a plain number (a token, unset)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def linux_task_definition(
    scope: Construct,
    *,
    cpu: int,
    memory_mib: int,
    cpu_architecture: ecs.CpuArchitecture,
) -> ecs.FargateTaskDefinition:
    """The Linux Fargate task definition (``TaskDefinition`` under ``scope``) of a role that
    owns its task: the gateway, the samplers and the scraper.
    """
    return ecs.FargateTaskDefinition(
        scope,
        "TaskDefinition",
        cpu=cpu,
        memory_limit_mib=memory_mib,
        runtime_platform=ecs.RuntimePlatform(
            cpu_architecture=cpu_architecture,
            operating_system_family=ecs.OperatingSystemFamily.LINUX,
        ),
    )
