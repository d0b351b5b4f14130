"""Memory and CPU settings of the collector process, derived from its container's size.

Numbers (``M`` is the container memory):

- ``memory_limiter.limit_mib`` = 80 % of ``M``: above it the collector forces garbage
  collection and refuses data;
- ``memory_limiter.spike_limit_mib`` = 25 % of the limit (20 % of ``M``): the soft limit,
  where the limiter starts refusing data, is the limit minus the spike (60 % of ``M``);
- ``GOMEMLIMIT`` = 80 % of ``M``: the Go runtime collects garbage harder as the heap nears
  it, leaving 20 % of the container for stacks, buffers and the runtime itself;
- ``GOMAXPROCS`` = the container's vCPUs rounded up (``ceil(cpu_units / 1024)``, at least 1):
  on Fargate Go would otherwise see the host's CPUs and over-schedule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from otel_fargate.errors import ConfigError

#: Below this container memory the collector cannot run with any headroom.
MIN_MEMORY_MIB = 128
#: The largest Fargate task (120 GiB).
MAX_MEMORY_MIB = 122_880
#: Share of container memory given to the memory_limiter hard limit and to GOMEMLIMIT.
LIMIT_FRACTION = 0.80
#: Share of the hard limit reserved for spikes between two checks.
SPIKE_FRACTION = 0.25
#: CPU units per vCPU in ECS.
CPU_UNITS_PER_VCPU = 1024


@dataclass(frozen=True, kw_only=True)
class Sizing:
    """Memory and CPU settings for one collector container.

    Attributes:
        memory_mib: the container memory the numbers derive from.
        cpu_units: the container CPU the numbers derive from.
        limit_mib: ``memory_limiter.limit_mib``.
        spike_limit_mib: ``memory_limiter.spike_limit_mib``.
        gomemlimit_mib: ``GOMEMLIMIT`` in MiB.
        gomaxprocs: ``GOMAXPROCS``.
    """

    memory_mib: int
    cpu_units: int
    limit_mib: int
    spike_limit_mib: int
    gomemlimit_mib: int
    gomaxprocs: int

    @property
    def gomemlimit(self) -> str:
        """``GOMEMLIMIT`` as the Go runtime reads it, e.g. ``409MiB``."""
        return f"{self.gomemlimit_mib}MiB"

    @property
    def environment(self) -> dict[str, str]:
        """The container environment variables these settings need."""
        return {"GOMEMLIMIT": self.gomemlimit, "GOMAXPROCS": str(self.gomaxprocs)}


def size_for(*, memory_mib: int, cpu_units: int) -> Sizing:
    """Size the collector for a container with ``memory_mib`` MiB and ``cpu_units`` CPU units.

    Raises:
        ConfigError: memory below 128 MiB or above 120 GiB, or CPU units below 1.
    """
    if isinstance(memory_mib, bool) or not isinstance(memory_mib, int):
        raise ConfigError(f"memory_mib: must be an integer number of MiB, got {memory_mib!r}")
    if memory_mib < MIN_MEMORY_MIB:
        raise ConfigError(
            f"memory_mib: the collector needs at least {MIN_MEMORY_MIB} MiB, got {memory_mib}"
        )
    if memory_mib > MAX_MEMORY_MIB:
        raise ConfigError(
            f"memory_mib: Fargate offers at most {MAX_MEMORY_MIB} MiB, got {memory_mib}"
        )
    if isinstance(cpu_units, bool) or not isinstance(cpu_units, int) or cpu_units < 1:
        raise ConfigError(
            f"cpu_units: must be a positive integer (1024 units = 1 vCPU; pass the task's "
            f"CPU when the container has no reservation), got {cpu_units!r}"
        )
    limit = math.floor(memory_mib * LIMIT_FRACTION)
    return Sizing(
        memory_mib=memory_mib,
        cpu_units=cpu_units,
        limit_mib=limit,
        spike_limit_mib=math.floor(limit * SPIKE_FRACTION),
        gomemlimit_mib=math.floor(memory_mib * LIMIT_FRACTION),
        gomaxprocs=max(1, math.ceil(cpu_units / CPU_UNITS_PER_VCPU)),
    )
