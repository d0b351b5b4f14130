"""Typed exporters, by backend family: AWS, OTLP, and the local debug exporter."""

from .amp import AmpExporter
from .aws import AwsOtlpExporter, CloudWatchEmfExporter, CloudWatchLogsExporter, XRayExporter
from .base import (
    MIN_QUEUE_BYTES,
    SIGNALS,
    Exporter,
    FrozenMap,
    RetryOnFailure,
    SendingQueue,
    Signal,
)
from .debug import DebugExporter
from .otlp import OAuth2ClientCredentials, OtlpExporter

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
