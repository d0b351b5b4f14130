"""Tail sampling and the routing of traces to the samplers that decide them.

A tail-sampling decision needs every span of a trace in one collector. The scale tier has
two parts: the gateway becomes a *routing tier* whose traces go through the
``load_balancing`` exporter, keyed by trace id, to the tasks of a *sampling tier*, which run
the ``tail_sampling`` processor and own the trace exporters. Metrics and logs keep flowing
from the gateway straight to their exporters.

:class:`TailSampling` holds the samplers' policies and sizing; :class:`TraceRouting` tells
the gateway where the samplers are (a DNS name with one A record per sampler task).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from otel_fargate.checks import check_int, check_text
from otel_fargate.config.core.durations import format_duration, parse_duration
from otel_fargate.config.core.sizing import MIB, Sizing
from otel_fargate.config.sampling.policies import (
    KeepErrors,
    KeepSlow,
    Probabilistic,
    SamplingPolicy,
    check_policies,
    fail,
)
from otel_fargate.errors import ConfigError
from otel_fargate.names import OTLP_GRPC_PORT

__all__ = ["TailSampling", "TraceRouting", "check_tiers"]

#: Heap one trace in flight takes in a sampler, in bytes, for traces of about ten spans
#: (``benchmarks/sampling_bench.py`` measures it; the figure is in the README).
TRACE_BYTES = 16 * 1024
#: Share of the memory limiter's hard limit that traces waiting for a decision may take; the
#: rest is for the receiver, the batch and the exporter queues.
TRACE_MEMORY_FRACTION = 0.5


def _default_policies() -> tuple[SamplingPolicy, ...]:
    return (KeepErrors(), KeepSlow(threshold_ms=1000), Probabilistic(percent=10))


@dataclass(frozen=True, kw_only=True)
class TailSampling:
    """The sampling tier's decisions and sizing.

    A trace is kept when any policy keeps it (an :class:`AllOf` keeps it only when all of its
    policies do). Each sampler task holds the spans of a trace for ``decision_wait`` after its
    first span arrives, then decides; spans arriving after the decision follow it (the ids of
    kept traces are remembered).

    Attributes:
        policies: the policies; default: keep errors, keep traces slower than 1 s, and 10 %
            of the rest.
        decision_wait: how long a sampler waits for a trace's spans; longer traces are decided
            on what arrived so far; default: ``10s``.
        expected_new_traces_per_second: new traces per second one sampler task receives at
            peak (the tier's total divided by its tasks); sizes ``num_traces``; default: 500.
        num_traces: traces one sampler holds at most; when more arrive, the oldest is dropped
            undecided (``otelcol_processor_tail_sampling_sampling_trace_dropped_too_early``);
            default: twice ``expected_new_traces_per_second`` times ``decision_wait``, refused when
            they do not fit half of the memory limiter's hard limit at about 16 KiB a trace.
    """

    policies: Sequence[SamplingPolicy] = field(default_factory=_default_policies)
    decision_wait: str = "10s"
    expected_new_traces_per_second: int = 500
    num_traces: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "policies", tuple(self.policies))
        if not self.policies:
            raise fail("sampling.policies", "needs at least one policy", ())
        check_policies(self.policies, setting="sampling.policies")
        wait = parse_duration(self.decision_wait, setting="sampling.decision_wait")
        if not 1 <= wait <= 300:
            raise fail("sampling.decision_wait", "must be from 1s to 300s", self.decision_wait)
        check_int(
            "sampling.expected_new_traces_per_second",
            self.expected_new_traces_per_second,
            low=1,
            error=ConfigError,
        )
        if self.num_traces is not None:
            check_int("sampling.num_traces", self.num_traces, low=100, error=ConfigError)

    @property
    def decision_wait_seconds(self) -> float:
        """``decision_wait`` in seconds."""
        return parse_duration(self.decision_wait, setting="sampling.decision_wait")

    def traces_for(self, sizing: Sizing) -> int:
        """``num_traces`` for a sampler of ``sizing``.

        Raises:
            ConfigError: the traces do not fit the container's memory.
        """
        fits = math.floor(sizing.limit_mib * MIB * TRACE_MEMORY_FRACTION / TRACE_BYTES)
        wanted = (
            self.num_traces
            if self.num_traces is not None
            else math.ceil(2 * self.expected_new_traces_per_second * self.decision_wait_seconds)
        )
        if wanted > fits:
            setting = (
                "sampling.num_traces"
                if self.num_traces is not None
                else "sampling.expected_new_traces_per_second"
            )
            value = (
                self.num_traces
                if self.num_traces is not None
                else (self.expected_new_traces_per_second)
            )
            raise fail(
                setting,
                f"{wanted} traces in flight do not fit a {sizing.memory_mib} MiB sampler "
                f"(about {fits} at {TRACE_BYTES // 1024} KiB each in half of its "
                f"{sizing.limit_mib} MiB limit); give the samplers more memory, more tasks or "
                f"a shorter decision_wait",
                value,
            )
        return wanted

    def render(self, sizing: Sizing) -> dict[str, Any]:
        """The ``tail_sampling`` processor's settings for a sampler of ``sizing``."""
        traces = self.traces_for(sizing)
        return {
            "decision_wait": format_duration(self.decision_wait_seconds),
            "num_traces": traces,
            "expected_new_traces_per_sec": self.expected_new_traces_per_second,
            "decision_cache": {"sampled_cache_size": traces},
            "policies": [p.render() for p in self.policies],
        }


@dataclass(frozen=True, kw_only=True)
class TraceRouting:
    """Where the gateway routes traces: every address ``hostname`` resolves to is a sampler.

    Attributes:
        hostname: a DNS name with one A record per sampler task (the sampling tier's Cloud
            Map service in a private DNS namespace).
        port: the samplers' OTLP/gRPC port; default: 4317.
        interval: how often the gateway resolves ``hostname`` again; default: ``5s``.
        timeout: how long one resolution may take; default: ``1s``.
    """

    hostname: str
    port: int = OTLP_GRPC_PORT
    interval: str = "5s"
    timeout: str = "1s"

    def __post_init__(self) -> None:
        check_text("trace_routing.hostname", self.hostname, error=ConfigError)
        check_int("trace_routing.port", self.port, low=1, high=65535, error=ConfigError)
        for setting in ("interval", "timeout"):
            seconds = parse_duration(getattr(self, setting), setting=f"trace_routing.{setting}")
            if seconds <= 0:
                raise fail(f"trace_routing.{setting}", "must be positive", getattr(self, setting))

    def resolver(self) -> dict[str, Any]:
        """The ``load_balancing`` exporter's ``resolver`` block."""
        return {
            "dns": {
                "hostname": self.hostname,
                "port": str(self.port),
                "interval": self.interval,
                "timeout": self.timeout,
            }
        }


def check_tiers(
    preset: str,
    sampling: object,
    routing: object,
    exporters: Sequence[Any],
    sizing: Sizing,
) -> None:
    """``sampling`` belongs to a sampler (which needs it and a trace exporter), ``routing`` to
    a gateway, and the sampler's traces fit its memory.
    """
    if sampling is not None and not isinstance(sampling, TailSampling):
        raise fail("sampling", "must be TailSampling(...) or None", sampling)
    if routing is not None and not isinstance(routing, TraceRouting):
        raise fail("trace_routing", "must be TraceRouting(...) or None", routing)
    if routing is not None and preset != "gateway":
        raise fail("trace_routing", f"only a gateway routes traces (preset {preset!r})", routing)
    if preset != "sampler":
        if sampling is not None:
            raise fail("sampling", f"only the sampler preset samples (preset {preset!r})", sampling)
        return
    if not isinstance(sampling, TailSampling):
        raise fail("sampling", "the sampler preset needs TailSampling(...)", sampling)
    if exporters and not any("traces" in e.signals for e in exporters):
        ids = ", ".join(e.component_id for e in exporters)
        raise fail("exporters", "a sampler needs an exporter that takes traces", ids)
    sampling.traces_for(sizing)
