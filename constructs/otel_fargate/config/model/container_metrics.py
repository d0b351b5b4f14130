"""The metrics the ``awsecscontainermetrics`` receiver emits, with their units, as data.

From the receiver's "Available Metrics" table (receiver/awsecscontainermetricsreceiver/README.md)
with the units its translator sets (its ``translator.go`` and ``constant.go``, the same at v0.158.0
and v0.165.0): ``cpu.utilized`` and ``cpu.reserved`` go out with the unit ``None``, not the
README's Percent and vCPU. Task-level metrics
(``ecs.task.*``) carry the task's resource attributes; container-level ones (``container.*``)
also carry the container's (``container.name``, ``container.id``...). Ephemeral storage is
reported for the task only (Fargate shares it among the task's containers).
"""

from __future__ import annotations

from typing import Final

_SHARED: Final[tuple[tuple[str, str], ...]] = (
    ("memory.usage", "Bytes"),
    ("memory.usage.max", "Bytes"),
    ("memory.usage.limit", "Bytes"),
    ("memory.reserved", "MiB"),
    ("memory.utilized", "MiB"),
    ("cpu.usage.total", "Nanoseconds"),
    ("cpu.usage.kernelmode", "Nanoseconds"),
    ("cpu.usage.usermode", "Nanoseconds"),
    ("cpu.usage.system", "Nanoseconds"),
    ("cpu.usage.vcpu", "vCPU"),
    ("cpu.cores", "Count"),
    ("cpu.onlines", "Count"),
    ("cpu.reserved", "None"),
    ("cpu.utilized", "None"),
    ("network.rate.rx", "Bytes/Second"),
    ("network.rate.tx", "Bytes/Second"),
    ("network.io.usage.rx_bytes", "Bytes"),
    ("network.io.usage.rx_packets", "Count"),
    ("network.io.usage.rx_errors", "Count"),
    ("network.io.usage.rx_dropped", "Count"),
    ("network.io.usage.tx_bytes", "Bytes"),
    ("network.io.usage.tx_packets", "Count"),
    ("network.io.usage.tx_errors", "Count"),
    ("network.io.usage.tx_dropped", "Count"),
    ("storage.read_bytes", "Bytes"),
    ("storage.write_bytes", "Bytes"),
)

#: Task-level metric names and units.
TASK_METRICS: Final[dict[str, str]] = {
    **{f"ecs.task.{name}": unit for name, unit in _SHARED},
    "ecs.task.ephemeral_storage.utilized": "MiB",
    "ecs.task.ephemeral_storage.reserved": "MiB",
}

#: Container-level metric names and units (one series per container of the task).
CONTAINER_METRICS: Final[dict[str, str]] = {f"container.{name}": unit for name, unit in _SHARED}

#: Every metric the receiver emits, by name.
ALL_CONTAINER_METRICS: Final[dict[str, str]] = {**TASK_METRICS, **CONTAINER_METRICS}

#: Task-level ephemeral storage, used and reserved (MiB).
EPHEMERAL_STORAGE_UTILIZED: Final = "ecs.task.ephemeral_storage.utilized"
EPHEMERAL_STORAGE_RESERVED: Final = "ecs.task.ephemeral_storage.reserved"

#: What goes out unless chosen otherwise: the task's and each container's CPU and memory
#: against what they reserve, and the task's ephemeral storage (what the dashboard and the
#: disk alarm read).
DEFAULT_CONTAINER_METRICS: Final[tuple[str, ...]] = (
    "ecs.task.cpu.utilized",
    "ecs.task.cpu.reserved",
    "ecs.task.memory.utilized",
    "ecs.task.memory.reserved",
    EPHEMERAL_STORAGE_UTILIZED,
    EPHEMERAL_STORAGE_RESERVED,
    "container.cpu.utilized",
    "container.memory.utilized",
)


def is_container_level(name: str) -> bool:
    """Whether ``name`` is reported once per container rather than once per task."""
    return name in CONTAINER_METRICS
