"""The scale tier's samplers: tail-sampling collectors behind a routing gateway.

The policies and the tier's configuration are pure Python in
:mod:`otel_fargate.config.sampling`; this package builds the service.
"""

from otel_fargate.sampling.construct import CollectorSamplers, SamplingTier

__all__ = ["CollectorSamplers", "SamplingTier"]
