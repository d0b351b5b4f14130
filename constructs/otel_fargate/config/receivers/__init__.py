"""Typed receivers beside OTLP (the X-Ray daemon, Fluent Forward)."""

from otel_fargate.config.receivers.typed import (
    FluentForwardReceiver,
    Receiver,
    XRayDaemonReceiver,
    check_receivers,
)

__all__ = ["FluentForwardReceiver", "Receiver", "XRayDaemonReceiver", "check_receivers"]
