"""Memory and CPU settings of the collector process, derived from its container's size.

A collector's resident memory has two parts. The pages of its own executable (about 52 MiB of
file-backed RSS for the contrib build, whatever the load) sit outside the Go runtime, so
neither ``GOMEMLIMIT`` nor ``memory_limiter`` sees them; everything else is memory the Go
runtime manages. The numbers therefore first set aside a fixed reserve for the executable,
and only then take percentages. ``M`` is the container memory:

- reserve = ``RESERVED_MIB`` (64 MiB): the executable's resident pages plus headroom;
- ``GOMEMLIMIT`` = 90 % of ``M - 64``: the Go runtime collects garbage harder as its memory
  (heap, stacks, runtime structures) nears it, so reserve + ``GOMEMLIMIT`` stays below ``M``
  (64 + 172 of 256 MiB, 64 + 403 of 512);
- ``memory_limiter.limit_mib`` = 80 % of ``GOMEMLIMIT``: the hard limit on heap bytes
  allocated (the runtime's ``MemStats.Alloc``, garbage included), leaving a fifth of the Go
  runtime's share for stacks, runtime structures and fragmentation; above it the collector
  forces a garbage collection;
- ``memory_limiter.spike_limit_mib`` = 25 % of the limit: the soft limit (limit minus spike)
  is where receivers start being refused with a retryable error;
- ``memory_limiter.check_interval`` = ``CHECK_INTERVAL`` (100 ms): the limiter only acts
  when it looks, and an OTLP client on the same host can hand the collector well over
  100 MiB of telemetry a second; with 1 s checks a 128 MiB collector's heap overshot its
  hard limit by a third before the limiter noticed. One check reads the runtime's memory
  statistics (a pause of microseconds), so ten a second cost nothing measurable;
- exporter ``sending_queue``: sized in bytes of serialized telemetry (``sizer: bytes``),
  ``queue_size`` = the hard limit. Telemetry takes at least as much heap as its serialized
  form, so the limiter refuses new data before a queue can fill (clients retry instead of
  data being dropped), and however fast data arrives one queue never holds more than the
  heap may;
- OTLP receivers' ``max_recv_msg_size_mib`` (gRPC) and ``max_request_body_size`` (HTTP) =
  ``RECEIVE_SHARE`` (a quarter) of the spike limit, at least ``GRPC_DEFAULT_MAX_RECV_MIB``
  (4 MiB): a request is read, decompressed and decoded before ``memory_limiter`` can refuse
  it, so one request must fit the spike headroom several times over (8 MiB in a 256 MiB
  container, 20 MiB in 512 MiB, 37 MiB in a default gateway). Senders the library renders
  never send more than ``MAX_EXPORT_BATCH_BYTES`` (3 MiB) in one request;
- ``GOMAXPROCS`` = the container's vCPUs rounded up (``ceil(cpu_units / 1024)``, at least 1):
  on Fargate Go would otherwise see the host's CPUs and over-schedule.

``MIN_MEMORY_MIB`` is 256 MiB because part of the peak does not shrink with the container:
besides the executable's pages, every exporter consumer serializes (and compresses) a whole
batch on each attempt, and gRPC holds the requests being received, so memory briefly runs
15-20 MiB past ``GOMEMLIMIT`` under overload. With a backend answering 503 and a client
sending as fast as it is answered, peak RSS measured 110-124 MiB in 128 MiB containers and
163-183 MiB in 192 MiB ones (up to 97 % and 95 %), against 217-221 MiB in 256 MiB (232 MiB
with two clients: 91 %) and 418-431 MiB in 512 MiB (84 %).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from otel_fargate.errors import ConfigError
from otel_fargate.names import GRPC_DEFAULT_MAX_RECV_MIB

#: Below this container memory an overloaded collector's peak RSS comes too close to it.
MIN_MEMORY_MIB = 256
#: The largest Fargate task (120 GiB).
MAX_MEMORY_MIB = 122_880
#: Container memory set aside before any percentage: the collector executable's resident
#: pages (file-backed, outside the Go runtime's accounting) plus headroom.
RESERVED_MIB = 64
#: Share of the memory left after the reserve given to GOMEMLIMIT.
GOMEMLIMIT_FRACTION = 0.90
#: Share of GOMEMLIMIT given to the memory_limiter hard limit (heap bytes allocated).
LIMIT_FRACTION = 0.80
#: Share of the hard limit reserved for spikes between two checks.
SPIKE_FRACTION = 0.25
#: Share of the spike limit one received request may take (decompressed).
RECEIVE_SHARE = 0.25
#: How often memory_limiter reads the heap size.
CHECK_INTERVAL = "100ms"
#: How exporter queues are measured.
QUEUE_SIZER = "bytes"
#: CPU units per vCPU in ECS.
CPU_UNITS_PER_VCPU = 1024
MIB = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class Sizing:
    """Memory and CPU settings for one collector container.

    Attributes:
        memory_mib: the container memory the numbers derive from.
        cpu_units: the container CPU the numbers derive from.
        limit_mib: ``memory_limiter.limit_mib``.
        spike_limit_mib: ``memory_limiter.spike_limit_mib``.
        check_interval: ``memory_limiter.check_interval``.
        gomemlimit_mib: ``GOMEMLIMIT`` in MiB.
        gomaxprocs: ``GOMAXPROCS``.
        queue_bytes: the default ``sending_queue.queue_size`` of every exporter, in bytes of
            serialized telemetry; also the most one queue may be given.
        receive_limit_mib: the largest request the OTLP receivers accept, decompressed
            (``max_recv_msg_size_mib``, and ``max_request_body_size`` in bytes).
    """

    memory_mib: int
    cpu_units: int
    limit_mib: int
    spike_limit_mib: int
    check_interval: str
    gomemlimit_mib: int
    gomaxprocs: int
    queue_bytes: int
    receive_limit_mib: int

    @property
    def gomemlimit(self) -> str:
        """``GOMEMLIMIT`` as the Go runtime reads it, e.g. ``403MiB``."""
        return f"{self.gomemlimit_mib}MiB"

    @property
    def environment(self) -> dict[str, str]:
        """The container environment variables these settings need."""
        return {"GOMEMLIMIT": self.gomemlimit, "GOMAXPROCS": str(self.gomaxprocs)}

    @property
    def receive_limit_bytes(self) -> int:
        """``receive_limit_mib`` in bytes, as ``max_request_body_size`` reads it."""
        return self.receive_limit_mib * MIB

    @property
    def memory_limiter(self) -> dict[str, int | str]:
        """The ``memory_limiter`` processor's settings."""
        return {
            "check_interval": self.check_interval,
            "limit_mib": self.limit_mib,
            "spike_limit_mib": self.spike_limit_mib,
        }


def size_for(*, memory_mib: int, cpu_units: int) -> Sizing:
    """Size the collector for a container with ``memory_mib`` MiB and ``cpu_units`` CPU units.

    Raises:
        ConfigError: memory below 256 MiB or above 120 GiB, or CPU units below 1.
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
    gomemlimit = math.floor((memory_mib - RESERVED_MIB) * GOMEMLIMIT_FRACTION)
    limit = math.floor(gomemlimit * LIMIT_FRACTION)
    spike = math.floor(limit * SPIKE_FRACTION)
    return Sizing(
        memory_mib=memory_mib,
        cpu_units=cpu_units,
        limit_mib=limit,
        spike_limit_mib=spike,
        check_interval=CHECK_INTERVAL,
        gomemlimit_mib=gomemlimit,
        gomaxprocs=max(1, math.ceil(cpu_units / CPU_UNITS_PER_VCPU)),
        queue_bytes=limit * MIB,
        receive_limit_mib=max(GRPC_DEFAULT_MAX_RECV_MIB, math.floor(spike * RECEIVE_SHARE)),
    )
