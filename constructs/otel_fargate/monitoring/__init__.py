"""Dashboard and alarms for a collector deployment (sidecar or gateway), from the
collector's own metrics: metric names and factory (:mod:`.metrics`), the alarm table
(:mod:`.alarms`), the dashboard (:mod:`.dashboard`) and the construct that wires them.
"""

from otel_fargate.monitoring.construct import (
    CRASH_FILTER_PATTERN,
    CRASH_METRIC_NAME,
    CRASH_METRIC_NAMESPACE,
    CollectorMonitoring,
    monitor_collector,
)
from otel_fargate.monitoring.metrics import (
    CONTAINER_INSIGHTS_NAMESPACE,
    SIGNAL_UNITS,
    CollectorMetrics,
)
from otel_fargate.monitoring.validation import MAX_ALARM_METRICS, pipeline_components

__all__ = [
    "CONTAINER_INSIGHTS_NAMESPACE",
    "CRASH_FILTER_PATTERN",
    "CRASH_METRIC_NAME",
    "CRASH_METRIC_NAMESPACE",
    "MAX_ALARM_METRICS",
    "SIGNAL_UNITS",
    "CollectorMetrics",
    "CollectorMonitoring",
    "monitor_collector",
    "pipeline_components",
]
