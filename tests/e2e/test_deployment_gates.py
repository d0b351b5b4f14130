"""Deployment gates evaluated on what real collectors report: silent through a healthy
scale-out, firing within the bake time when a revision cannot export.

Each "period" is one round of load: telemetrygen sends to every live collector, the test waits
until each has exported or given up on all it accepted, then reads their own counters. The
gate's expression comes from a synthesized template and is evaluated with the alarm's
threshold, evaluation periods and datapoints on the per-round sums across tasks, as CloudWatch
sums the tasks' series of one service.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from otel_fargate.monitoring import CollectorMonitoring

from tests.alarm_math import Value, alarm_states, evaluate
from tests.e2e.harness import (
    Collector,
    OtlpSink,
    Ports,
    ProcessRunner,
    run_telemetrygen,
    sidecar_config,
    start_collector,
    wait_until,
)

pytestmark = pytest.mark.e2e

EXPORTER = "otlp_http/sink"
SPANS_PER_ROUND = 200
ACCEPTED = "otelcol_receiver_accepted_spans"


@dataclass(frozen=True)
class Gate:
    expression: str
    metric_names: dict[str, str]
    threshold: float
    evaluation_periods: int
    datapoints: int
    missing_breaches: bool


@pytest.fixture(scope="module")
def gate() -> Gate:
    """The export-failure gate of a collector whose one exporter sends traces (one synth)."""
    stack = cdk.Stack(cdk.App(), "Gates")
    monitoring = CollectorMonitoring(
        stack,
        "Monitoring",
        environment_name="e2e",
        service_name="e2e-app",
        memory_limit_mib=512,
        exporters={EXPORTER: ["traces"]},
        deployment_gates=True,
    )
    (alarm,) = monitoring.deployment_gates.values()
    logical_id = stack.get_logical_id(alarm.node.default_child)  # type: ignore[arg-type]
    props: dict[str, Any] = Template.from_stack(stack).find_resources(
        "AWS::CloudWatch::Alarm"
    )[logical_id]["Properties"]
    (expression,) = [q["Expression"] for q in props["Metrics"] if "Expression" in q]
    names = {
        q["Id"]: q["MetricStat"]["Metric"]["MetricName"]
        for q in props["Metrics"]
        if "MetricStat" in q
    }
    return Gate(
        expression=expression,
        metric_names=names,
        threshold=float(props["Threshold"]),
        evaluation_periods=int(props["EvaluationPeriods"]),
        datapoints=int(props["DatapointsToAlarm"]),
        missing_breaches=props["TreatMissingData"] == "breaching",
    )


@pytest.fixture()
def forbidden_backend() -> Iterator[str]:
    """An OTLP/HTTP endpoint that refuses every request with 403, as a backend does to a
    collector missing a permission (a permanent error: the exporter gives up at once)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _start(processes: ProcessRunner, binary: Path, endpoint: str, name: str) -> Collector:
    ports = Ports.allocate()
    return start_collector(
        processes, binary, sidecar_config(ports, sink=endpoint), ports, name=name
    )


def _settled(collector: Collector) -> bool:
    done = collector.metric("otelcol_exporter_sent_spans") + collector.metric(
        "otelcol_exporter_send_failed_spans"
    )
    return done >= collector.metric(ACCEPTED) > 0


def _round(
    tasks: Sequence[Collector], gate: Gate, telemetrygen: Path, before: dict[str, float]
) -> Value:
    """Load every task, wait until each has finished with what it accepted, and evaluate the
    gate on the period's sums across tasks."""
    for task in tasks:
        result = run_telemetrygen(
            telemetrygen, "traces", endpoint=task.grpc_endpoint, count=SPANS_PER_ROUND // 2
        )
        assert result.returncode == 0, result.stderr[-2000:]
    for task in tasks:
        wait_until(lambda t=task: _settled(t), timeout=60, what=f"{task.process.name} settled")
    values: dict[str, Value] = {}
    for metric_id, name in gate.metric_names.items():
        total = sum(task.metric(name) for task in tasks)
        # a counter no task has reported yet is a missing series, as in CloudWatch
        values[metric_id] = total - before.get(name, 0.0) if total > 0 else None
        before[name] = total
    return evaluate(gate.expression, values)


def _states(gate: Gate, series: list[Value]) -> list[str]:
    return alarm_states(
        series,
        threshold=gate.threshold,
        evaluation_periods=gate.evaluation_periods,
        datapoints_to_alarm=gate.datapoints,
        missing_breaches=gate.missing_breaches,
    )


def test_a_healthy_scale_out_never_trips_the_gate(
    gate: Gate,
    processes: ProcessRunner,
    collector_binary: Path,
    telemetrygen_binary: Path,
    sink: OtlpSink,
) -> None:
    # GIVEN one healthy task, then a second one added (a scale-out during a deployment)
    first = _start(processes, collector_binary, sink.endpoint, "healthy-1")
    before: dict[str, float] = {}
    series = [_round([first], gate, telemetrygen_binary, before) for _ in range(3)]
    second = _start(processes, collector_binary, sink.endpoint, "healthy-2")
    before_two = {n: first.metric(n) for n in gate.metric_names.values()}
    series += [_round([first, second], gate, telemetrygen_binary, before_two) for _ in range(3)]
    # THEN every period exported everything and the gate stays OK throughout
    assert series == [0.0] * 6
    assert _states(gate, series) == ["OK"] * 6


def test_a_revision_that_cannot_export_trips_the_gate_within_the_bake_time(
    gate: Gate,
    processes: ProcessRunner,
    collector_binary: Path,
    telemetrygen_binary: Path,
    sink: OtlpSink,
    forbidden_backend: str,
) -> None:
    # GIVEN the old, healthy task and a new revision whose backend refuses it, both taking
    # traffic while ECS rolls the deployment, then the new revision alone
    old = _start(processes, collector_binary, sink.endpoint, "old-revision")
    new = _start(processes, collector_binary, forbidden_backend, "new-revision")
    before: dict[str, float] = {}
    rolling = [_round([old, new], gate, telemetrygen_binary, before) for _ in range(2)]
    # THEN about half of each period failed, and the gate fires within its evaluation window,
    # before the deployment could complete
    assert all(value is not None and 40 <= value <= 60 for value in rolling), rolling
    states = _states(gate, rolling)
    assert states[-1] == "ALARM"
    # AND once the old task is gone every item fails and the gate stays in ALARM
    processes.stop(old.process)
    alone_before = {n: new.metric(n) for n in gate.metric_names.values()}
    alone = [_round([new], gate, telemetrygen_binary, alone_before) for _ in range(2)]
    assert alone == [100.0, 100.0]
    assert _states(gate, rolling + alone)[-2:] == ["ALARM", "ALARM"]
