"""A stop that drains: the supervisor's command line for a collector container.

On its own the collector exits within milliseconds of SIGTERM and drops what its in-memory
queues hold (a persistent queue keeps it on a volume that Fargate deletes with the task). The
bundled and slim images therefore start ``/supervisor --collector-only``: on SIGTERM it keeps
the collector running, reads the collector's own Prometheus metrics until nothing is queued or
in flight (a sampler: nothing undecided either) or the drain timeout passes, logs what is still
held at the deadline, and only then sends the collector SIGTERM. A collector that dies is
restarted in place, on the same queue volume.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Where the supervisor lives in the bundled and slim images.
SUPERVISOR_PATH = "/supervisor"
#: Seconds of the container's stop timeout left for the collector's own shutdown (after the
#: drain) and the supervisor's exit; the drain gets the rest.
STOP_MARGIN_SECONDS = 15
#: SIGTERM → SIGKILL grace of the collector once drained (within the margin).
COLLECTOR_STOP_SECONDS = 10
#: What every exporter holds: its queue (in flight included) and its requests in flight.
EXPORTER_DRAIN_METRICS = ("otelcol_exporter_queue_size", "otelcol_exporter_in_flight_requests")
#: Traces a sampler holds undecided.
SAMPLER_DRAIN_METRIC = "otelcol_processor_tail_sampling_sampling_traces_on_memory"


@dataclass(frozen=True, kw_only=True)
class RoleDrain:
    """What one role waits for on stop beyond its exporters' queues.

    ``metrics``: more metrics whose every series must be 0 (a sampler's undecided traces);
    ``min_wait_seconds``: how long it keeps receiving even when it holds nothing (a sampler
    still gets spans until every router stops resolving it, and holds them a decision wait).
    """

    metrics: tuple[str, ...] = ()
    min_wait_seconds: int = 0


def metrics_url(config: Mapping[str, Any]) -> str | None:
    """The URL of the collector's own Prometheus metrics in ``config``, or None without one."""
    telemetry = ((config.get("service") or {}).get("telemetry") or {}).get("metrics") or {}
    for reader in telemetry.get("readers") or []:
        exporter = ((reader or {}).get("pull") or {}).get("exporter") or {}
        prometheus = exporter.get("prometheus")
        if isinstance(prometheus, dict) and prometheus.get("port") is not None:
            host = prometheus.get("host", "127.0.0.1")
            host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
            return f"http://{host}:{prometheus['port']}/metrics"
    return None


def supervisor_command(
    *,
    collector: str,
    config_arg: str,
    config: Mapping[str, Any],
    stop_timeout_seconds: int,
    drain: RoleDrain,
) -> list[str]:
    """The supervisor's arguments: the collector alone, drained within the stop timeout."""
    url = metrics_url(config)
    drain_seconds = max(stop_timeout_seconds - STOP_MARGIN_SECONDS, 0)
    args = [
        "--collector-only",
        f"--collector={collector}",
        f"--collector-arg={config_arg}",
        f"--drain-metrics-url={url if url is not None else ''}",
        f"--drain-timeout={drain_seconds}s",
        f"--drain-min-wait={min(drain.min_wait_seconds, drain_seconds)}s",
        f"--collector-stop-timeout={COLLECTOR_STOP_SECONDS}s",
        "--probe=",
    ]
    if drain.metrics:
        args += [f"--drain-metric={name}" for name in (*EXPORTER_DRAIN_METRICS, *drain.metrics)]
    return args


def drain_note(config: Mapping[str, Any]) -> str | None:
    """Why a configuration cannot be drained, or None when it can."""
    if metrics_url(config) is None:
        return (
            "the collector configuration has no Prometheus reader for its own metrics "
            "(service.telemetry.metrics.readers), so the supervisor cannot tell when its "
            "queues are empty: a stop does not drain them"
        )
    return None
