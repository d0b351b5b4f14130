"""Typed receivers beside OTLP (the X-Ray daemon, Fluent Forward) and container metrics."""

from otel_fargate.config.receivers.container_metrics import ContainerMetrics
from otel_fargate.config.receivers.ecs_scrape import EcsScrapeReceiver
from otel_fargate.config.receivers.typed import (
    FluentForwardReceiver,
    Receiver,
    XRayDaemonReceiver,
    check_receivers,
)

__all__ = [
    "ContainerMetrics", "EcsScrapeReceiver",
    "FluentForwardReceiver", "Receiver", "XRayDaemonReceiver", "check_receivers"]
