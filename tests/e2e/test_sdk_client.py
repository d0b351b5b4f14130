"""A real OpenTelemetry SDK app, configured only by the variables the constructs inject.

The variables are read from the synthesized demo stack's app container; only the port of
``OTEL_EXPORTER_OTLP_ENDPOINT`` is rewritten to the agent's free port. The app sends traces,
metrics and logs through agent → gateway → sink, and every item arrives exactly once.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import container_environment
from tests.e2e.harness import (
    REPO_ROOT,
    OtlpSink,
    Ports,
    ProcessRunner,
    agent_config,
    gateway_config,
    start_collector,
)

pytestmark = pytest.mark.e2e

TRACES, SPANS_PER_TRACE, LOGS = 200, 3, 300


def injected_app_environment(synthesized: Any) -> dict[str, str]:
    """The OTEL_* variables of the demo stack's app container, as synthesized."""
    for name, template in synthesized.templates.items():
        if not name.endswith("-demo"):
            continue
        for resource in template.to_json()["Resources"].values():
            if resource["Type"] != "AWS::ECS::TaskDefinition":
                continue
            for container in resource["Properties"]["ContainerDefinitions"]:
                environment = container_environment(container)
                if (
                    container["Name"] != "otel-collector"
                    and "OTEL_EXPORTER_OTLP_ENDPOINT" in environment
                ):
                    return {k: v for k, v in environment.items() if k.startswith("OTEL_")}
    raise AssertionError("no demo stack with an app container wired to the collector")


def test_sdk_app_configured_by_injected_env_delivers_everything(
    collector_binary: Path, processes: ProcessRunner, sink: OtlpSink, synthesized: Any
) -> None:
    # GIVEN the app container's variables from the synthesized demo stack
    injected = injected_app_environment(synthesized)
    endpoint = injected["OTEL_EXPORTER_OTLP_ENDPOINT"]
    assert re.fullmatch(r"http://127\.0\.0\.1:4317", endpoint), endpoint
    assert injected["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc"
    # AND agent → gateway → sink running, the agent's gRPC receiver on a free port
    gateway_ports, agent_ports = Ports.allocate(), Ports.allocate()
    gateway = start_collector(
        processes,
        collector_binary,
        gateway_config(gateway_ports, sink=sink.endpoint),
        gateway_ports,
        name="gateway",
    )
    start_collector(
        processes,
        collector_binary,
        agent_config(agent_ports, gateway=gateway.grpc_endpoint),
        agent_ports,
        name="agent",
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": "",
        **injected,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint.replace(":4317", f":{agent_ports.grpc}"),
    }

    # WHEN the app sends its traces, metrics and logs and shuts its SDK down
    result = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "tests" / "e2e" / "apps" / "sdk_app.py"),
            str(TRACES),
            str(SPANS_PER_TRACE),
            str(LOGS),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    sent = json.loads(result.stdout.strip().splitlines()[-1])
    assert sent["spans"] == TRACES * SPANS_PER_TRACE

    # THEN every span arrives exactly once
    state = sink.wait_for(
        lambda s: (
            s.spans >= sent["spans"]
            and sum(v for (name, _), v in s.sum_series.items() if name == "e2e.requests") >= TRACES
            and sum(n for body, n in s.log_bodies.items() if body.startswith("e2e log ")) >= LOGS
        ),
        timeout=30,
        what="all spans, the final counter values and all logs",
    )
    sink.settle(quiet_seconds=1.0, timeout=10)
    assert state.spans == len(state.span_ids) == sent["spans"]
    assert state.span_names == {"request": TRACES, "child": TRACES * (SPANS_PER_TRACE - 1)}
    # AND the counter arrives as one series per route whose values add up to what was counted
    series = {key: value for key, value in state.sum_series.items() if key[0] == "e2e.requests"}
    assert len(series) == sent["routes"]
    assert sum(series.values()) == sent["requests"]
    # AND every log record arrives exactly once
    app_logs = {body: n for body, n in state.log_bodies.items() if body.startswith("e2e log ")}
    assert len(app_logs) == LOGS and set(app_logs.values()) == {1}
    # AND the resource the variables describe is the one that arrives
    service = injected["OTEL_SERVICE_NAME"]
    expected = dict(pair.split("=", 1) for pair in injected["OTEL_RESOURCE_ATTRIBUTES"].split(","))
    assert expected["service.name"] == service
    assert state.resources, "no resource arrived"
    for resource in state.resources:
        assert {key: resource.get(key) for key in expected} == expected
    # AND the propagators the variables name are the ones the app used
    wanted = {"tracecontext": "traceparent", "xray": "X-Amzn-Trace-Id"}
    for propagator in injected["OTEL_PROPAGATORS"].split(","):
        if propagator in wanted:
            assert wanted[propagator] in sent["propagation_headers"]
