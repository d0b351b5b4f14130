"""Typed exporters, by backend family: AWS, OTLP, and the local debug exporter."""

from otel_fargate.config.core.values import SIGNALS, FrozenMap, Signal
from otel_fargate.config.exporters.amp import AmpExporter
from otel_fargate.config.exporters.aws import (
    AwsOtlpExporter,
    CloudWatchEmfExporter,
    CloudWatchLogsExporter,
    XRayExporter,
)
from otel_fargate.config.exporters.base import (
    MIN_QUEUE_BYTES,
    Exporter,
    RetryOnFailure,
    SendingQueue,
)
from otel_fargate.config.exporters.debug import DebugExporter
from otel_fargate.config.exporters.otlp import OAuth2ClientCredentials, OtlpExporter

__all__ = [
    "MIN_QUEUE_BYTES",
    "SIGNALS",
    "AmpExporter",
    "AwsOtlpExporter",
    "CloudWatchEmfExporter",
    "CloudWatchLogsExporter",
    "DebugExporter",
    "Exporter",
    "FrozenMap",
    "OAuth2ClientCredentials",
    "OtlpExporter",
    "RetryOnFailure",
    "SendingQueue",
    "Signal",
    "XRayExporter",
]
