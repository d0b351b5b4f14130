"""Stdout logs: what FireLens forwards reaches the backend through the collector's logs pipeline.

There is no Fluent Bit here, so the records are sent with the Fluent Forward client
``fluent-logger`` shaped as FireLens's Fluent Bit forwards them (a ``log`` field plus the ECS
metadata ``enable-ecs-log-metadata`` adds, nanosecond event time), to the ``fluent_forward``
receiver of the real collector running the configuration ``CollectorSidecar(stdout_logs=True)``
renders (the receiver moved to a free port, like the OTLP ones).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fluent import sender
from otel_fargate import CollectorSidecar, OtlpExporter
from otel_fargate.config import CollectorConfigOptions, render
from otel_fargate.config.core.layers import deep_merge

from tests.e2e.harness import (
    WITHOUT_CONTAINER_METRICS,
    OtlpSink,
    Ports,
    ProcessRunner,
    free_port,
    loopback_overrides,
    start_collector,
)
from tests.e2e.test_validate import validate
from tests.library.test_constructs import app_task, new_stack

pytestmark = pytest.mark.e2e

RECORDS = 25
TASK_ARN = "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"
#: The fields FireLens's Fluent Bit adds to each line an app container writes.
METADATA = {
    "source": "stdout",
    "container_id": "0123456789abcdef0123456789abcdef-2531612879",
    "container_name": "checkout",
    "ecs_cluster": "prod",
    "ecs_task_arn": TASK_ARN,
    "ecs_task_definition": "checkout:7",
}


def _sidecar_config(sink: str) -> CollectorConfigOptions:
    """What ``CollectorSidecar(stdout_logs=True)`` renders for a sidecar exporting to ``sink``."""
    stack = new_stack("StdoutLogsE2e")
    task, app = app_task(stack)
    sidecar = CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app],
        exporters=[OtlpExporter(name="sink", protocol="http", endpoint=sink)],
        stdout_logs=True, self_telemetry_namespace=None, monitoring=False,
        container_metrics=WITHOUT_CONTAINER_METRICS,
    )
    return sidecar.config_options


def test_the_rendered_stdout_logs_config_is_accepted_by_the_collector(collector_binary: Path) -> None:
    # GIVEN the configuration a sidecar with stdout logs renders
    options = _sidecar_config("https://otlp.example.com")
    text = render(options).yaml
    assert "fluent_forward" in yaml.safe_load(text)["service"]["pipelines"]["logs"]["receivers"]
    # WHEN the real collector validates it THEN it is accepted
    result = validate(collector_binary, text)
    assert result.returncode == 0, result.stderr


def test_firelens_records_reach_the_sink_with_body_and_ecs_metadata(
    collector_binary: Path, processes: ProcessRunner, sink: OtlpSink
) -> None:
    # GIVEN the sidecar's stdout-logs configuration on free loopback ports, exporting to the sink
    options = _sidecar_config(sink.endpoint)
    ports, forward_port = Ports.allocate(), free_port()
    moved = deep_merge(
        loopback_overrides(ports),
        {"receivers": {"fluent_forward": {"endpoint": f"127.0.0.1:{forward_port}"}}},
    )
    rendered = render(
        CollectorConfigOptions(
            **{**_fields(options), "overrides": moved,
               "health_check_endpoint": f"127.0.0.1:{ports.health}"}
        )
    )
    start_collector(processes, collector_binary, rendered, ports, name="stdout-logs")

    # WHEN FireLens-shaped records are forwarded to the fluent_forward receiver
    client = sender.FluentSender("checkout-firelens-0123456789abcdef", host="127.0.0.1",
                                 port=forward_port, nanosecond_precision=True)
    try:
        for index in range(RECORDS):
            assert client.emit(None, {"log": f"GET /orders/{index} 200", **METADATA}), client.last_error
    finally:
        client.close()

    # THEN every line arrives as a log record whose body is the line
    sink.wait_for(lambda state: state.log_records >= RECORDS, timeout=30, what="forwarded logs")
    state = sink.state
    assert state.log_records == RECORDS
    assert set(state.log_bodies) == {f"GET /orders/{index} 200" for index in range(RECORDS)}
    # AND the ECS metadata travels as attributes of each record, with the forward tag
    for attributes in state.log_attributes:
        assert {key: attributes.get(key) for key in METADATA} == METADATA
        assert attributes["fluent.tag"] == "checkout-firelens-0123456789abcdef"
        assert "log" not in attributes


def _fields(options: CollectorConfigOptions) -> dict[str, object]:
    """The init fields of ``options``, to render them again with other endpoints."""
    from dataclasses import fields

    return {f.name: getattr(options, f.name) for f in fields(options) if f.init}
