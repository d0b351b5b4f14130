"""Container metrics as an option: validated up front, rendered into a pipeline of their own."""

from __future__ import annotations

from typing import Any

import pytest
from otel_fargate.config import (
    CollectorConfigOptions,
    ConfigError,
    ContainerMetrics,
    OtlpExporter,
    XRayExporter,
    render,
)
from otel_fargate.config.model.components import ComponentSet
from otel_fargate.config.model.container_metrics import (
    ALL_CONTAINER_METRICS,
    DEFAULT_CONTAINER_METRICS,
)

OTLP = (OtlpExporter(endpoint="backend:4317"),)


def _config(**options: Any) -> dict[str, Any]:
    options.setdefault("preset", "sidecar")
    return render(CollectorConfigOptions(**options)).config


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"metrics": ["container.mem.utilized"]},
         r"^container_metrics\.metrics\[0\]: must be a metric the awsecscontainermetrics "
         r"receiver emits \(closest: container\.memory\.utilized\), got 'container\.mem\.utilized'$"),
        ({"metrics": ["ecs.task.cpu.utilized", "ecs.task.cpu.utilized"]},
         r"^container_metrics\.metrics\[1\]: is named twice, got 'ecs\.task\.cpu\.utilized'$"),
        ({"metrics": []}, r"^container_metrics\.metrics: must name at least one metric"),
        ({"metrics": "container.cpu.utilized"}, r"^container_metrics\.metrics: must be a list"),
        ({"collection_interval_seconds": 5},
         r"^container_metrics\.collection_interval_seconds: must be a whole number from 10 to "
         r"3600, got 5$"),
        ({"enabled": "yes"}, r"^container_metrics\.enabled: must be true or false, got 'yes'$"),
    ],
)
def test_bad_container_metrics_are_refused_naming_the_setting_and_value(
    given: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        ContainerMetrics(**given)


def test_the_default_is_on_for_a_sidecar_in_a_pipeline_of_its_own() -> None:
    # GIVEN a sidecar exporting metrics, nothing said about container metrics
    config = _config(exporters=OTLP, self_telemetry_namespace=None)
    # THEN the receiver reads every 60 s, the default eight go out, to the metrics exporters
    assert config["receivers"]["awsecscontainermetrics"] == {"collection_interval": "60s"}
    names = config["processors"]["filter/container_metrics"]["metrics"]["include"]
    assert names == {"match_type": "strict", "metric_names": list(DEFAULT_CONTAINER_METRICS)}
    pipelines = config["service"]["pipelines"]
    assert pipelines["metrics/container"] == {
        "receivers": ["awsecscontainermetrics"],
        "processors": [
            "memory_limiter", "filter/container_metrics", "resource/container_metrics", "batch",
        ],
        "exporters": pipelines["metrics"]["exporters"],
    }
    # AND the app's own metrics pipeline is not filtered
    assert "filter/container_metrics" not in pipelines["metrics"]["processors"]


def test_all_metrics_need_no_filter_and_switching_off_removes_everything() -> None:
    everything = _config(
        exporters=OTLP, container_metrics=ContainerMetrics(metrics=tuple(ALL_CONTAINER_METRICS))
    )
    assert "filter/container_metrics" not in everything["processors"]
    assert "metrics/container" in everything["service"]["pipelines"]
    off = _config(exporters=OTLP, container_metrics=ContainerMetrics(enabled=False))
    assert "awsecscontainermetrics" not in off["receivers"]
    assert "metrics/container" not in off["service"]["pipelines"]


def test_an_agent_forwards_them_to_the_gateway() -> None:
    config = _config(preset="agent", self_telemetry_namespace=None)
    assert config["service"]["pipelines"]["metrics/container"]["exporters"] == [
        "otlp_grpc/gateway"
    ]
    # AND an agent whose gateway takes no metrics has no container pipeline by default
    traces_only = _config(preset="agent", forward_signals=("traces",))
    assert "metrics/container" not in traces_only["service"]["pipelines"]


def test_asked_for_without_a_metrics_pipeline_is_refused() -> None:
    # GIVEN a sidecar exporting traces only, and container metrics asked for
    with pytest.raises(ConfigError, match=r"^container_metrics: this collector has no metrics "):
        _config(exporters=(XRayExporter(),), container_metrics=ContainerMetrics())
    # AND the counter-example: left to the default, the same sidecar renders without them
    config = _config(exporters=(XRayExporter(),))
    assert "metrics/container" not in config["service"]["pipelines"]


def test_the_gateway_refuses_them_enabled_and_accepts_them_off() -> None:
    with pytest.raises(ConfigError, match=r"^container_metrics: only the sidecar and agent"):
        CollectorConfigOptions(preset="gateway", exporters=OTLP, container_metrics=ContainerMetrics())
    CollectorConfigOptions(
        preset="gateway", exporters=OTLP, container_metrics=ContainerMetrics(enabled=False)
    )


def test_an_image_without_the_receiver_gets_none_by_default_and_a_refusal_when_asked() -> None:
    image = ComponentSet(
        {
            "receivers": ["otlp"],
            "processors": ["batch", "memory_limiter", "resource_detection"],
            "exporters": ["otlp_grpc"],
            "extensions": ["health_check"],
        }
    )
    config = _config(exporters=OTLP, components=image, self_telemetry_namespace=None)
    assert "awsecscontainermetrics" not in config["receivers"]
    with pytest.raises(ConfigError, match=r"has no receiver of type 'awsecscontainermetrics'"):
        _config(
            exporters=OTLP, components=image, self_telemetry_namespace=None,
            container_metrics=ContainerMetrics(),
        )
