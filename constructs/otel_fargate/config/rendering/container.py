"""Container metrics in the presets: the receiver, its processors and its own pipeline.

``metrics/container`` takes the ``awsecscontainermetrics`` receiver through
``memory_limiter → filter/container_metrics (unless every metric goes out) →
resource/container_metrics → batch`` to the exporters of the ``metrics`` pipeline, and to the
``awsemf/self`` exporter when the collector publishes its own metrics (which turns only the
dashboard's few into CloudWatch metrics). A pipeline of its own, so the selection never filters
the app's metrics.
"""

from __future__ import annotations

from typing import Any

from otel_fargate import telemetry
from otel_fargate.config.options.collector import CollectorConfigOptions
from otel_fargate.config.receivers.container_metrics import (
    CONTAINER_METRICS_FILTER_ID,
    CONTAINER_METRICS_RECEIVER_ID,
    CONTAINER_METRICS_RESOURCE_ID,
)
from otel_fargate.errors import ConfigError
from otel_fargate.names import CONTAINER_METRICS_PIPELINE_ID, SELF_EXPORTER_ID

Config = dict[str, Any]


def _resource(options: CollectorConfigOptions) -> Config:
    """The environment and service, as the collector's own metrics carry them."""
    return {
        "attributes": [
            {
                "key": telemetry.DIMENSION_ENVIRONMENT,
                "value": options.environment_name,
                "action": "upsert",
            },
            {"key": telemetry.DIMENSION_SERVICE, "value": options.service_name, "action": "upsert"},
        ]
    }


def container_fragment(options: CollectorConfigOptions, metrics_exporters: list[str]) -> Config:
    """The receiver and processors, when container metrics are on and have somewhere to go.

    Raises:
        ConfigError: ``container_metrics`` was given, enabled, and nothing takes metrics.
    """
    chosen = options.effective_container_metrics
    if chosen is None:
        return {}
    if not metrics_exporters:
        if options.container_metrics is None:
            return {}
        takes = "no exporter or forwarded signal" if options.preset == "agent" else "no exporter"
        raise ConfigError(
            f"container_metrics: this collector has no metrics pipeline ({takes} takes "
            f"metrics); add an exporter of metrics or pass ContainerMetrics(enabled=False), "
            f"got {chosen!r}"
        )
    processors: Config = {}
    selection = chosen.filter()
    if selection is not None:
        processors[CONTAINER_METRICS_FILTER_ID] = selection
    processors[CONTAINER_METRICS_RESOURCE_ID] = _resource(options)
    return {
        "receivers": {CONTAINER_METRICS_RECEIVER_ID: chosen.receiver()},
        "processors": processors,
    }


def publish_on_dashboard(config: Config, options: CollectorConfigOptions) -> None:
    """Declare to ``awsemf/self`` the dashboard's container metrics among those that go out."""
    chosen = options.effective_container_metrics
    exporter = config.get("exporters", {}).get(SELF_EXPORTER_ID)
    if chosen is None or exporter is None:
        return
    if CONTAINER_METRICS_RECEIVER_ID not in config.get("receivers", {}):
        return
    for group, names in telemetry.CONTAINER_METRIC_GROUPS.items():
        published = [name for name in names if name in chosen.metrics]
        if published:
            exporter["metric_declarations"].append(
                {
                    "dimensions": [list(telemetry.DIMENSIONS[group])],
                    "metric_name_selectors": ["^" + n.replace(".", "\\.") + "$" for n in published],
                }
            )


def container_pipeline(config: Config, metrics_exporters: list[str]) -> Config:
    """``metrics/container`` when the rendered ``config`` has the receiver, else nothing."""
    if CONTAINER_METRICS_RECEIVER_ID not in config.get("receivers", {}):
        return {}
    processors = ["memory_limiter"]
    if CONTAINER_METRICS_FILTER_ID in config.get("processors", {}):
        processors.append(CONTAINER_METRICS_FILTER_ID)
    processors.extend([CONTAINER_METRICS_RESOURCE_ID, "batch"])
    exporters = list(metrics_exporters)
    if SELF_EXPORTER_ID in config.get("exporters", {}):
        exporters.append(SELF_EXPORTER_ID)
    return {
        CONTAINER_METRICS_PIPELINE_ID: {
            "receivers": [CONTAINER_METRICS_RECEIVER_ID],
            "processors": processors,
            "exporters": exporters,
        }
    }
