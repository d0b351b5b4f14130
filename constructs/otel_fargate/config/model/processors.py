"""Which signals a processor can serve.

A pipeline that lists a processor its signal has no implementation for makes the collector
refuse to start (``telemetry type is not supported``). User processors are therefore placed
only in the pipelines of the signals they serve, and every layer is checked for a processor
in a pipeline it cannot serve. Types not listed here serve every signal, or are unknown to
this table; the real collector remains the final judge for those.
"""

from __future__ import annotations

from typing import Final

from otel_fargate.config.core.values import SIGNALS, Signal

#: Processors that serve only some signals, by component type (the signals each component's
#: metadata declares a stability for).
PROCESSOR_SIGNALS: Final[dict[str, tuple[Signal, ...]]] = {
    "tail_sampling": ("traces",),
    "groupbytrace": ("traces",),
    "span": ("traces",),
    "probabilistic_sampler": ("traces", "logs"),
    "cumulativetodelta": ("metrics",),
    "deltatocumulative": ("metrics",),
    "deltatorate": ("metrics",),
    "metricstransform": ("metrics",),
    "metricsgeneration": ("metrics",),
    "metric_start_time": ("metrics",),
    "interval": ("metrics",),
    "logdedup": ("logs",),
    "sumologic": ("traces", "metrics", "logs"),
}


def processor_signals(component_type: str) -> tuple[Signal, ...]:
    """The signals a processor of ``component_type`` serves (every signal when unlisted)."""
    return PROCESSOR_SIGNALS.get(component_type, SIGNALS)
