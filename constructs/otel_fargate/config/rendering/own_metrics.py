"""The collector's own metrics: the ``awsemf/self`` exporter and ``service.telemetry``.

The collector pushes its internal metrics over OTLP to an internal receiver, and the
``metrics/self`` pipeline sends them to CloudWatch through EMF with the dimensions of
:mod:`otel_fargate.telemetry`. With container metrics on, the same exporter also publishes the
app containers' CPU and memory and the task's ephemeral storage (those of them that go out),
so the dashboard shows them next to the collector's own and an alarm can watch the disk.
"""

from __future__ import annotations

from typing import Any

from otel_fargate import telemetry
from otel_fargate.config.options.collector import CollectorConfigOptions
from otel_fargate.names import SELF_EXPORTER_ID, SELF_METRICS_PORT, SELF_OTLP_PORT, SELF_RECEIVER_ID

Config = dict[str, Any]


def resource_detection() -> Config:
    """The ``resource_detection`` processor of the sidecar and agent presets."""
    return {"detectors": ["env", "ecs"], "timeout": "2s", "override": False}


def self_telemetry(options: CollectorConfigOptions) -> Config:
    """The internal receiver and EMF exporter that ship the collector's own metrics."""
    if options.self_telemetry_namespace is None:
        return {}
    declarations = [
        {
            "dimensions": [list(telemetry.DIMENSIONS[group])],
            "metric_name_selectors": [f"^{name}$" for name in names],
        }
        for group, names in telemetry.METRIC_GROUPS.items()
    ]
    exporter = {
        "namespace": options.self_telemetry_namespace,
        "log_group_name": options.effective_self_telemetry_log_group,
        "log_stream_name": "{TaskId}",
        "log_retention": options.self_telemetry_retention_days,
        "dimension_rollup_option": "NoDimensionRollup",
        "resource_to_telemetry_conversion": {"enabled": True},
        "metric_declarations": declarations,
    }
    receiver = {"protocols": {"grpc": {"endpoint": f"127.0.0.1:{SELF_OTLP_PORT}"}}}
    return {
        "receivers": {SELF_RECEIVER_ID: receiver},
        "processors": {"resource_detection": resource_detection()},
        "exporters": {SELF_EXPORTER_ID: exporter},
    }


def service_telemetry(options: CollectorConfigOptions) -> Config:
    """``service.telemetry``: resource, JSON logs, Prometheus pull and the OTLP push reader."""
    readers: list[Config] = [
        {"pull": {"exporter": {"prometheus": {"host": "127.0.0.1", "port": SELF_METRICS_PORT}}}}
    ]
    if options.self_telemetry_namespace is not None:
        push = {
            "protocol": "grpc",
            "endpoint": f"http://127.0.0.1:{SELF_OTLP_PORT}",
            "insecure": True,
        }
        interval = options.self_telemetry_interval_seconds * 1000
        readers.append({"periodic": {"interval": interval, "exporter": {"otlp": push}}})
    resource = [
        {"name": telemetry.DIMENSION_ENVIRONMENT, "value": options.environment_name},
        {"name": telemetry.DIMENSION_SERVICE, "value": options.service_name},
    ]
    return {
        "resource": {"attributes": resource},
        "logs": {"level": options.log_level, "encoding": "json"},
        "metrics": {"level": "detailed", "readers": readers},
    }
