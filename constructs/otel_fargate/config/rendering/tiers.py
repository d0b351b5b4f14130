"""What the scale tier changes in a preset: a routing gateway's exporter to the samplers, and
which signals a gateway or a sampler exports itself.
"""

from __future__ import annotations

from typing import Any

from otel_fargate.config.core.values import SIGNALS, Signal
from otel_fargate.config.exporters import Exporter, RetryOnFailure, SendingQueue
from otel_fargate.config.exporters.base import helper_settings
from otel_fargate.config.options.collector import CollectorConfigOptions
from otel_fargate.config.options.tls import routing_tls
from otel_fargate.names import MAX_EXPORT_BATCH_BYTES

#: A routing gateway's exporter to the samplers.
ROUTING_EXPORTER_ID = "load_balancing"

Config = dict[str, Any]


def trace_routing(options: CollectorConfigOptions) -> Config:
    """A routing gateway's ``load_balancing`` exporter: traces keyed by trace id to samplers.

    The exporter keeps one OTLP/gRPC client per sampler address the resolver returns and
    hashes each trace id onto a ring of them, so every span of a trace reaches one sampler.
    Its own queue and retries sit in front of the ring (the per-sampler clients neither queue
    nor retry), so data a sampler refused is routed again on the ring as it is then. The
    queue splits batches above ``MAX_EXPORT_BATCH_BYTES`` before the ring, so what one
    sampler gets (a share of one batch) never exceeds what its receiver accepts. With
    ``gateway_tls`` the per-sampler clients verify the samplers, which serve the gateway's
    certificate. The hop is compressed with zstd, which cost the routers about a quarter less
    CPU per span than gzip in ``benchmarks/sampling_bench.py``.
    """
    routing = options.trace_routing
    if options.preset != "gateway" or routing is None:
        return {}
    otlp = {
        "timeout": "5s",
        "compression": "zstd",
        "tls": routing_tls(options.gateway_tls),
        "sending_queue": {"enabled": False},
        "retry_on_failure": {"enabled": False},
    }
    exporter = {
        "routing_key": "traceID",
        "protocol": {"otlp": otlp},
        "resolver": routing.resolver(),
        **helper_settings(
            SendingQueue(), RetryOnFailure(), 10, max_batch_bytes=MAX_EXPORT_BATCH_BYTES
        ),
    }
    return {"exporters": {ROUTING_EXPORTER_ID: exporter}}


def exported_signals(options: CollectorConfigOptions) -> tuple[Signal, ...]:
    """The signals this collector's typed exporters take: a sampler's traces, a routing
    gateway's metrics and logs, every signal otherwise.
    """
    if options.preset == "sampler":
        return ("traces",)
    if options.preset == "gateway" and options.trace_routing is not None:
        return ("metrics", "logs")
    return SIGNALS


def exporters_in_use(options: CollectorConfigOptions) -> list[Exporter]:
    """The typed exporters that take a signal this collector exports itself."""
    wanted = exported_signals(options)
    return [e for e in options.exporters if any(s in wanted for s in e.signals)]
