"""Every signal the app sends has a pipeline all the way to the backend, and nothing is refused.

The collectors run rendered presets on loopback (as in the other end-to-end tests); the app is
tests/e2e/apps/sdk_app.py, configured only by the variables ``otel_environment`` computes for
the rendered config's ``otlp_signals`` (the endpoint's port moved to the collector's free port).
It creates traces, metrics and logs whatever its exporters are.

The app runs with one extra stderr handler for WARNING and above on the root logger: the SDK
reports a failed export only through ``logging``, and the OpenTelemetry ``LoggingHandler`` the
app installs on the root logger would otherwise swallow those records (Python prints its
last-resort handler's output only when the root logger has no handler at all).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from otel_fargate.apps.wiring import otel_environment
from otel_fargate.config import (
    CollectorConfigOptions,
    OtlpExporter,
    Preset,
    RenderedConfig,
    Signal,
    render,
)

from tests.e2e.harness import (
    REPO_ROOT,
    Collector,
    OtlpSink,
    Ports,
    ProcessRunner,
    SinkState,
    for_local_build,
    json_lines,
    loopback_overrides,
    start_collector,
    wait_until,
)

pytestmark = pytest.mark.e2e

TRACES, SPANS_PER_TRACE, LOGS = 40, 3, 60
SDK_APP = REPO_ROOT / "tests" / "e2e" / "apps" / "sdk_app.py"
APP_NAME = "e2e-app"

#: Runs sdk_app.py unchanged, with the SDK's own warnings and errors also written to stderr.
_APP_BOOTSTRAP = """\
import logging, runpy, sys
handler = logging.StreamHandler(sys.stderr)
handler.setLevel(logging.WARNING)
handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
logging.getLogger().addHandler(handler)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""

#: What a collector logs when an export is refused for good or data is thrown away.
LOSS_WORDS = ("unimplemented", "permanent error", "dropping data", "dropped")
#: What a refused OTLP request looks like (HTTP 404, gRPC Unimplemented).
REFUSAL_WORDS = ("404", "not found", "unimplemented")


# --------------------------------------------------------------------------------------------
# helpers


def render_on_loopback(
    ports: Ports, *, preset: Preset, service_name: str, **options: Any
) -> RenderedConfig:
    """``preset`` rendered with its receivers, health_check and own metrics on ``ports``."""
    return render(
        CollectorConfigOptions(
            preset=preset,
            health_check_endpoint=f"127.0.0.1:{ports.health}",
            self_telemetry_namespace=None,
            environment_name="e2e",
            service_name=service_name,
            overrides=loopback_overrides(ports),
            **for_local_build(preset, options),
        )
    )


def sink_exporter(sink: OtlpSink, signals: tuple[Signal, ...]) -> tuple[OtlpExporter]:
    """The harness's OTLP/HTTP sink exporter, taking only ``signals``."""
    return (OtlpExporter(name="sink", protocol="http", endpoint=sink.endpoint, signals=signals),)


def start_traces_only_gateway(
    binary: Path, processes: ProcessRunner, sink: OtlpSink
) -> tuple[Collector, RenderedConfig]:
    """A gateway whose only exporter takes traces, so it accepts nothing else over OTLP."""
    ports = Ports.allocate()
    rendered = render_on_loopback(
        ports,
        preset="gateway",
        service_name="otel-gateway",
        exporters=sink_exporter(sink, ("traces",)),
        memory_mib=1024,
        cpu_units=512,
    )
    assert rendered.otlp_signals == ("traces",)
    return start_collector(processes, binary, rendered, ports, name="gateway"), rendered


def app_environment(rendered: RenderedConfig, ports: Ports, *, app_protocol: str) -> dict[str, str]:
    """The variables the constructs give an app of ``rendered``'s collector, moved to ``ports``."""
    library = otel_environment(
        APP_NAME,
        app_protocol=app_protocol,
        environment_name="e2e",
        uses_xray=False,
        signals=rendered.otlp_signals,
    )
    default_port, port = ("4317", ports.grpc) if app_protocol == "grpc" else ("4318", ports.http)
    endpoint = library["OTEL_EXPORTER_OTLP_ENDPOINT"]
    assert endpoint == f"http://127.0.0.1:{default_port}", endpoint
    return {**library, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint.replace(default_port, str(port))}


def exporters_of(env: dict[str, str]) -> dict[str, str]:
    """The SDK exporter ``env`` names per signal."""
    return {
        signal: env[f"OTEL_{signal.upper()}_EXPORTER"] for signal in ("traces", "metrics", "logs")
    }


@dataclass(frozen=True)
class AppRun:
    """What the SDK app did: its exit status, what it says it sent, its SDK's complaints."""

    returncode: int
    sent: dict[str, Any]
    stderr: str

    @property
    def problems(self) -> list[str]:
        """Warnings, errors and tracebacks the app wrote (a failed export is one of these)."""
        return [
            line
            for line in self.stderr.splitlines()
            if line.startswith(("WARNING ", "ERROR ", "CRITICAL ")) or "Traceback" in line
        ]


def run_app(otel_env: dict[str, str]) -> AppRun:
    """sdk_app.py to completion (TRACES traces, LOGS log records) with only ``otel_env``."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": "", **otel_env}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _APP_BOOTSTRAP,
            str(SDK_APP),
            str(TRACES),
            str(SPANS_PER_TRACE),
            str(LOGS),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    sent = json.loads(lines[-1]) if result.returncode == 0 and lines else {}
    return AppRun(returncode=result.returncode, sent=sent, stderr=result.stderr)


def _described(line: dict[str, Any]) -> str:
    """A log line's fields as lower-case text, without its timestamp, resource and stack."""
    return " ".join(
        f"{key}={value}"
        for key, value in line.items()
        if key not in ("ts", "resource", "stacktrace")
    ).lower()


def loss_lines(collector: Collector, words: tuple[str, ...] = LOSS_WORDS) -> list[dict[str, Any]]:
    """The collector's error and warn log lines mentioning one of ``words``."""
    return [
        line
        for line in json_lines(collector.process.log())
        if str(line.get("level", "")).lower() in ("error", "warn", "warning")
        and any(word in _described(line) for word in words)
    ]


def refused_signals(collector: Collector) -> set[str]:
    """The signals of the collector's error lines reporting a gRPC Unimplemented refusal."""
    return {
        str(line.get("otelcol.signal"))
        for line in loss_lines(collector)
        if "unimplemented" in _described(line)
    }


def error_lines(collector: Collector) -> list[dict[str, Any]]:
    """Every error-level line the collector logged."""
    return [line for line in json_lines(collector.process.log()) if line.get("level") == "error"]


def own_metrics(collector: Collector) -> dict[str, float]:
    """The collector's own Prometheus metrics, every series of a name summed."""
    url = f"http://127.0.0.1:{collector.ports.metrics}/metrics"
    with urllib.request.urlopen(url, timeout=5) as answer:
        text = answer.read().decode()
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        totals[name] = totals.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
    return totals


def failure_counters(collector: Collector) -> dict[str, float]:
    """Non-zero counters of failed sends and refused receives."""
    return {
        name: value
        for name, value in own_metrics(collector).items()
        if name.startswith(("otelcol_exporter_send_failed_", "otelcol_receiver_refused_"))
        and value > 0
    }


def counted(metrics: dict[str, float], prefix: str) -> float:
    """The value of the one metric named ``prefix`` with or without a ``_total`` suffix."""
    return metrics.get(prefix, metrics.get(f"{prefix}_total", 0.0))


def requests_counted(state: SinkState) -> int:
    return sum(value for (name, _), value in state.sum_series.items() if name == "e2e.requests")


def app_logs(state: SinkState) -> dict[str, int]:
    return {body: n for body, n in state.log_bodies.items() if body.startswith("e2e log ")}


def assert_spans_exactly_once(state: SinkState, sent: dict[str, Any]) -> None:
    assert state.spans == len(state.span_ids) == sent["spans"] == TRACES * SPANS_PER_TRACE
    assert state.span_names == {"request": TRACES, "child": TRACES * (SPANS_PER_TRACE - 1)}


# --------------------------------------------------------------------------------------------
# agent in front of a traces-only gateway


def test_agent_forwarding_only_what_the_gateway_accepts_loses_and_refuses_nothing(
    collector_binary: Path, processes: ProcessRunner, sink: OtlpSink
) -> None:
    # GIVEN a gateway that only exports traces, and an agent forwarding what it accepts
    gateway, gateway_rendered = start_traces_only_gateway(collector_binary, processes, sink)
    agent_ports = Ports.allocate()
    agent_rendered = render_on_loopback(
        agent_ports,
        preset="agent",
        service_name=APP_NAME,
        gateway_endpoint=gateway.grpc_endpoint,
        memory_mib=512,
        forward_signals=gateway_rendered.otlp_signals,
    )
    assert agent_rendered.otlp_signals == ("traces",)
    agent = start_collector(processes, collector_binary, agent_rendered, agent_ports, name="agent")
    # AND the app's variables as the library computes them for that agent: traces only
    env = app_environment(agent_rendered, agent_ports, app_protocol="grpc")
    assert exporters_of(env) == {"traces": "otlp", "metrics": "none", "logs": "none"}

    # WHEN the app creates traces, metrics and logs and shuts its SDK down
    app = run_app(env)

    # THEN the app exits cleanly and its SDK reports no failed export
    assert app.returncode == 0, app.stderr[-3000:]
    assert app.problems == [], app.stderr[-3000:]
    # AND every span reaches the sink exactly once, and nothing else arrives
    state = sink.wait_for(lambda s: s.spans >= app.sent["spans"], timeout=20, what="all spans")
    sink.settle(quiet_seconds=1.0, timeout=10)
    assert_spans_exactly_once(state, app.sent)
    assert (state.metric_points, state.log_records) == (0, 0)
    # AND neither collector logs refused or dropped data
    assert loss_lines(agent) == []
    assert loss_lines(gateway) == []
    # AND their own metrics count no failed send and no refused item, while the spans went through
    assert failure_counters(agent) == {}
    assert failure_counters(gateway) == {}
    assert counted(own_metrics(agent), "otelcol_exporter_sent_spans") == app.sent["spans"]


def test_agent_forwarding_every_signal_to_a_traces_only_gateway_drops_metrics_and_logs(
    collector_binary: Path, processes: ProcessRunner, sink: OtlpSink
) -> None:
    # GIVEN the same traces-only gateway, and an agent rendered without forward_signals
    gateway, _ = start_traces_only_gateway(collector_binary, processes, sink)
    agent_ports = Ports.allocate()
    agent_rendered = render_on_loopback(
        agent_ports,
        preset="agent",
        service_name=APP_NAME,
        gateway_endpoint=gateway.grpc_endpoint,
        memory_mib=512,
    )
    assert agent_rendered.otlp_signals == ("traces", "metrics", "logs")
    agent = start_collector(processes, collector_binary, agent_rendered, agent_ports, name="agent")
    # AND the app's variables for that agent: every signal exported
    env = app_environment(agent_rendered, agent_ports, app_protocol="grpc")
    assert env["OTEL_METRICS_EXPORTER"] == "otlp"

    # WHEN the app creates traces, metrics and logs
    app = run_app(env)

    # THEN the app sees nothing wrong: the agent accepted everything
    assert app.returncode == 0, app.stderr[-3000:]
    assert app.problems == [], app.stderr[-3000:]
    # BUT the agent's exports of metrics and logs to the gateway are refused for good (gRPC
    # Unimplemented), dropped, and logged so: what the first test asserts never happens
    wait_until(
        lambda: refused_signals(agent) == {"metrics", "logs"},
        timeout=20,
        what="the agent logs the gateway's Unimplemented refusal of metrics and logs",
    )
    assert all("dropping data" in _described(line) for line in loss_lines(agent))
    wait_until(
        lambda: (
            {
                "otelcol_exporter_send_failed_metric_points",
                "otelcol_exporter_send_failed_log_records",
            }
            <= {name.removesuffix("_total") for name in failure_counters(agent)}
        ),
        timeout=20,
        what="the agent counts metric points and log records it failed to send",
    )
    assert counted(own_metrics(agent), "otelcol_exporter_send_failed_log_records") == LOGS
    # AND the spans still arrive exactly once, but no metric point or log record does
    state = sink.wait_for(lambda s: s.spans >= app.sent["spans"], timeout=20, what="all spans")
    sink.settle(quiet_seconds=1.0, timeout=10)
    assert_spans_exactly_once(state, app.sent)
    assert (state.metric_points, state.log_records) == (0, 0)


# --------------------------------------------------------------------------------------------
# sidecars


def test_sidecar_without_a_logs_pipeline_gets_no_logs_from_the_app(
    collector_binary: Path, processes: ProcessRunner, sink: OtlpSink
) -> None:
    # GIVEN a sidecar exporting traces and metrics only
    ports = Ports.allocate()
    rendered = render_on_loopback(
        ports,
        preset="sidecar",
        service_name=APP_NAME,
        exporters=sink_exporter(sink, ("traces", "metrics")),
        memory_mib=512,
    )
    assert rendered.otlp_signals == ("traces", "metrics")
    sidecar = start_collector(processes, collector_binary, rendered, ports, name="sidecar")
    # AND the app's variables as the library computes them: no logs exporter
    env = app_environment(rendered, ports, app_protocol="http/protobuf")
    assert exporters_of(env) == {"traces": "otlp", "metrics": "otlp", "logs": "none"}

    # WHEN the app creates traces, metrics and logs
    app = run_app(env)

    # THEN nothing errors in the app
    assert app.returncode == 0, app.stderr[-3000:]
    assert app.problems == [], app.stderr[-3000:]
    # AND every span and the final counter values arrive, and no log record
    state = sink.wait_for(
        lambda s: s.spans >= app.sent["spans"] and requests_counted(s) >= app.sent["requests"],
        timeout=20,
        what="all spans and the final counter values",
    )
    sink.settle(quiet_seconds=1.0, timeout=10)
    assert_spans_exactly_once(state, app.sent)
    assert requests_counted(state) == app.sent["requests"]
    assert state.log_records == 0
    # AND the collector logs no refusal and no loss
    assert loss_lines(sidecar, REFUSAL_WORDS + LOSS_WORDS) == []
    assert failure_counters(sidecar) == {}

    # WHEN, by contrast, the same app exports logs anyway
    refused = run_app({**env, "OTEL_LOGS_EXPORTER": "otlp"})
    # THEN its SDK reports the refused logs export (HTTP 404), so the app check above is
    # meaningful; the collector itself neither logs nor counts such a refusal
    assert refused.returncode == 0, refused.stderr[-3000:]
    assert any("logs" in line and "404" in line for line in refused.problems), refused.stderr


def test_sidecar_with_a_traces_only_processor_starts_and_accepts_every_signal(
    collector_binary: Path, processes: ProcessRunner, sink: OtlpSink
) -> None:
    # GIVEN a collector build with the tail_sampling processor
    components = subprocess.run(
        [str(collector_binary), "components"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert components.returncode == 0, components.stderr[-2000:]
    assert "name: tail_sampling" in components.stdout, (
        f"{collector_binary} lacks tailsamplingprocessor (docker/builder-config.yaml)"
    )
    # AND a sidecar exporting every signal with tail_sampling among the user processors
    ports = Ports.allocate()
    rendered = render_on_loopback(
        ports,
        preset="sidecar",
        service_name=APP_NAME,
        exporters=sink_exporter(sink, ("traces", "metrics", "logs")),
        memory_mib=512,
        processors={
            "tail_sampling": {
                "decision_wait": "1s",
                "policies": [{"name": "all", "type": "always_sample"}],
            }
        },
    )
    assert rendered.otlp_signals == ("traces", "metrics", "logs")
    pipelines = yaml.safe_load(rendered.yaml)["service"]["pipelines"]
    assert {pid for pid, p in pipelines.items() if "tail_sampling" in p["processors"]} == {"traces"}

    # WHEN the collector starts THEN its health check answers healthy
    sidecar = start_collector(processes, collector_binary, rendered, ports, name="sidecar")

    # WHEN the app, configured by the library's variables, sends traces, metrics and logs
    env = app_environment(rendered, ports, app_protocol="grpc")
    app = run_app(env)

    # THEN nothing errors in the app
    assert app.returncode == 0, app.stderr[-3000:]
    assert app.problems == [], app.stderr[-3000:]
    # AND every span (after the sampling decision), the counter and every log record arrive once
    state = sink.wait_for(
        lambda s: (
            s.spans >= app.sent["spans"]
            and requests_counted(s) >= app.sent["requests"]
            and len(app_logs(s)) >= LOGS
        ),
        timeout=30,
        what="all spans, the final counter values and all logs",
    )
    sink.settle(quiet_seconds=1.5, timeout=10)
    assert_spans_exactly_once(state, app.sent)
    assert requests_counted(state) == app.sent["requests"]
    logs = app_logs(state)
    assert len(logs) == LOGS and set(logs.values()) == {1}
    # AND the collector is still running and logged no error
    assert sidecar.process.alive(), sidecar.process.log()[-3000:]
    assert error_lines(sidecar) == []
    assert failure_counters(sidecar) == {}
