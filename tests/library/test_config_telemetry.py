"""The self-telemetry names other modules build alarms and dashboards on."""

from __future__ import annotations

import re

import pytest
from otel_fargate import telemetry
from otel_fargate.config import DEFAULT_SELF_TELEMETRY_NAMESPACE


def test_namespace_default_is_shared() -> None:
    assert telemetry.SELF_TELEMETRY_NAMESPACE == DEFAULT_SELF_TELEMETRY_NAMESPACE
    assert telemetry.SELF_TELEMETRY_NAMESPACE == "OtelFargate/Collector"


def test_metric_names_are_otel_instrument_names() -> None:
    # THEN every name is an otelcol_ instrument name without a Prometheus suffix
    for name in telemetry.ALL_METRICS:
        assert re.fullmatch(r"otelcol_[a-z_]+", name), name
        assert not name.endswith("_total"), name
    assert len(set(telemetry.ALL_METRICS)) == len(telemetry.ALL_METRICS)


@pytest.mark.parametrize(
    ("name", "dimensions"),
    [
        (telemetry.EXPORTER_SENT_SPANS, ("environment", "service", "exporter")),
        (telemetry.EXPORTER_QUEUE_SIZE, ("environment", "service", "exporter")),
        (telemetry.RECEIVER_REFUSED_LOG_RECORDS, ("environment", "service", "receiver")),
        (telemetry.PROCESS_MEMORY_RSS, ("environment", "service")),
    ],
)
def test_dimensions_for(name: str, dimensions: tuple[str, ...]) -> None:
    assert telemetry.dimensions_for(name) == dimensions


def test_dimensions_for_unpublished_metric() -> None:
    with pytest.raises(KeyError, match="otelcol_processor_batch_timeout_trigger_send"):
        telemetry.dimensions_for("otelcol_processor_batch_timeout_trigger_send")
