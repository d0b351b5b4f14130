"""Tail sampling and trace routing: the typed policies, and the settings of a sampler and of
the routing gateway that feeds it. Pure Python; the service is :mod:`otel_fargate.sampling`.
"""

from otel_fargate.config.sampling.policies import (
    AllOf,
    KeepAttribute,
    KeepErrors,
    KeepSlow,
    Probabilistic,
    RateLimit,
    RawPolicy,
    SamplingPolicy,
)
from otel_fargate.config.sampling.tier import TailSampling, TraceRouting

__all__ = [
    "AllOf",
    "KeepAttribute",
    "KeepErrors",
    "KeepSlow",
    "Probabilistic",
    "RateLimit",
    "RawPolicy",
    "SamplingPolicy",
    "TailSampling",
    "TraceRouting",
]
