"""Embedded mode: the supervisor runs the real collector, the real probe and an app.

Checked on the supervisor's combined output (the app's stdout and the collector's prefixed
log lines) and on what the collector delivered to the sink. The supervisor is told the drain
budget of the rendered configuration (``examples/embedded/drain_budget.py``) in
``OTEL_FARGATE_DRAIN_BUDGET`` and derives its collector stop timeout from it.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from otel_fargate.config import RenderedConfig
from otel_fargate.config.core.durations import parse_duration

from examples.embedded.drain_budget import (
    BUDGET_ENV,
    SUPERVISOR_MARGIN_SECONDS,
    DrainBudget,
    drain_budget,
)
from tests.e2e.harness import (
    REPO_ROOT,
    OtlpSink,
    Ports,
    Process,
    ProcessRunner,
    collector_env,
    descendants,
    json_lines,
    sidecar_config,
    wait_until,
)

pytestmark = pytest.mark.e2e

PREFIX = "[otelcol] "
FAKE_APP = REPO_ROOT / "tests" / "e2e" / "apps" / "fake_app.py"


def supervise(
    processes: ProcessRunner,
    *,
    supervisor: Path,
    collector: Path,
    probe: Path,
    sink: OtlpSink,
    mode: str,
    code: int,
    flags: tuple[str, ...] = (),
) -> tuple[Process, DrainBudget]:
    """The supervisor running the collector (told the config's drain budget) and the app."""
    ports = Ports.allocate()
    rendered = sidecar_config(ports, sink=sink.endpoint)
    budget = drain_budget(rendered)
    health_url = f"http://127.0.0.1:{ports.health}/"
    argv: list[str | Path] = [
        supervisor,
        "--collector", collector,
        "--collector-arg", "--config=env:OTEL_FARGATE_CONFIG",
        "--probe", probe,
        "--probe-url", health_url,
        "--probe-interval", "100ms",
        "--ready-timeout", "30s",
        "--drain-metrics-url", f"http://127.0.0.1:{ports.metrics}/metrics",
        "--drain-poll-interval", "100ms",
        *flags,
        "--",
        sys.executable, FAKE_APP, health_url, f"http://127.0.0.1:{ports.http}", mode, str(code),
    ]  # fmt: skip
    env = embedded_env(rendered, budget)
    return processes.start("supervisor", argv, env=env), budget


def embedded_env(rendered: RenderedConfig, budget: DrainBudget) -> dict[str, str]:
    """The container's environment: the collector's, plus the drain budget for the supervisor."""
    return collector_env(rendered, **{BUDGET_ENV: budget.go_duration})


def stop_timeout_in(lines: list[str]) -> float:
    """The collector stop timeout the supervisor announced when it stopped the collector."""
    index = line_index(
        lines, lambda line: line.startswith("supervisor: stopping collector"), "stop collector"
    )
    return parse_duration(lines[index].rsplit(" ", 1)[-1], setting="SIGKILL after")


def line_index(lines: list[str], predicate: Callable[[str], bool], what: str) -> int:
    for index, line in enumerate(lines):
        if predicate(line):
            return index
    raise AssertionError(f"no line {what} in:\n" + "\n".join(lines[-60:]))


def collector_message(message: str) -> Callable[[str], bool]:
    return lambda line: line.startswith(PREFIX) and f'"msg":"{message}' in line


def test_sigterm_reaches_the_app_first_and_the_collector_flushes_after_it(
    collector_binary: Path,
    probe_binary: Path,
    supervisor_binary: Path,
    processes: ProcessRunner,
    sink: OtlpSink,
) -> None:
    # GIVEN the supervisor running the collector and an app that waits for SIGTERM
    supervisor, budget = supervise(
        processes,
        supervisor=supervisor_binary,
        collector=collector_binary,
        probe=probe_binary,
        sink=sink,
        mode="wait",
        code=7,
    )
    wait_until(
        lambda: "app: ready" in supervisor.log() or not supervisor.alive(),
        timeout=40,
        what="the app is ready",
    )
    assert supervisor.alive(), supervisor.log()
    collector_pids = descendants(supervisor.pid)
    assert len(collector_pids) >= 2  # the collector and the app

    # WHEN the platform sends SIGTERM to the supervisor
    status = processes.stop(supervisor, sig=signal.SIGTERM, timeout=60)

    # THEN the app's exit status is the supervisor's
    log = supervisor.log()
    assert status == 7, log[-3000:]
    lines = log.splitlines()
    # AND the collector was healthy before the app started, and stopped only after it exited
    ready = line_index(lines, collector_message("Everything is ready"), "collector ready")
    started = line_index(lines, lambda line: line.startswith("app: started"), "app started")
    assert lines[started] == "app: started, collector healthy=True"
    term = line_index(lines, lambda line: line == "app: SIGTERM received", "app SIGTERM")
    exited = line_index(lines, lambda line: line == "app: exiting with 7", "app exit")
    shutdown = line_index(lines, collector_message("Shutdown complete"), "collector shutdown")
    assert ready < started < term < exited < shutdown
    # AND SIGTERM went to the app; the collector got its own only after the app exited,
    # and stopped by itself (exit 0, not SIGKILL)
    forwarded = line_index(
        lines, lambda line: line.startswith("supervisor: forwarding SIGTERM to the app"), "forward"
    )
    stopping = line_index(
        lines, lambda line: line.startswith("supervisor: stopping collector"), "stop collector"
    )
    assert forwarded < term < exited < stopping < shutdown
    assert "supervisor: collector stopped (exit status 0)" in lines
    # AND the collector was given longer than its configuration's drain budget
    assert stop_timeout_in(lines) > budget.seconds
    assert "app: sent app-shutdown, status 200" in lines
    # AND everything the app sent, also while stopping, was exported
    state = sink.wait_for(lambda s: s.spans >= 2, timeout=5, what="both app spans")
    assert state.span_names == {"app-start": 1, "app-shutdown": 1}
    # AND every collector log line kept its prefix and is the collector's JSON
    collector_lines = [line for line in lines if line.startswith(PREFIX)]
    assert len(json_lines("\n".join(collector_lines))) == len(collector_lines) > 5
    # AND nothing the supervisor started is left running
    assert not any(Path(f"/proc/{pid}").exists() for pid in collector_pids)


def test_the_apps_own_exit_status_is_propagated_and_the_collector_stopped(
    collector_binary: Path,
    probe_binary: Path,
    supervisor_binary: Path,
    processes: ProcessRunner,
    sink: OtlpSink,
) -> None:
    # GIVEN the supervisor and an app that exits by itself with 5
    supervisor, _budget = supervise(
        processes,
        supervisor=supervisor_binary,
        collector=collector_binary,
        probe=probe_binary,
        sink=sink,
        mode="exit",
        code=5,
    )
    # WHEN the app exits THEN the supervisor exits with the app's status
    status = supervisor.popen.wait(timeout=60)
    log = supervisor.log()
    assert status == 5, log[-3000:]
    # AND the collector flushed the app's span and shut down cleanly
    assert sink.wait_for(lambda s: s.spans >= 1, timeout=5).span_names == {"app-start": 1}
    assert any(collector_message("Shutdown complete")(line) for line in log.splitlines())


def test_the_stop_timeout_is_derived_from_the_rendered_drain_budget(
    collector_binary: Path,
    probe_binary: Path,
    supervisor_binary: Path,
    processes: ProcessRunner,
    sink: OtlpSink,
) -> None:
    # GIVEN a rendered configuration whose exporter retries 60 s with a 10 s timeout, and the
    # supervisor told its drain budget without any --collector-stop-timeout
    supervisor, budget = supervise(
        processes,
        supervisor=supervisor_binary,
        collector=collector_binary,
        probe=probe_binary,
        sink=sink,
        mode="exit",
        code=0,
    )
    assert (budget.seconds, budget.exporter, budget.go_duration) == (70.0, "otlp_http/sink", "70s")

    # WHEN the app exits and the supervisor stops the collector
    status = supervisor.popen.wait(timeout=60)

    # THEN the stop timeout it applied is the budget plus the margin, longer than the budget
    log = supervisor.log()
    assert status == 0, log[-3000:]
    lines = log.splitlines()
    assert (
        "supervisor: collector stop timeout 1m15s: the drain budget of 1m10s "
        f"({BUDGET_ENV}) plus 5s"
    ) in lines
    applied = stop_timeout_in(lines)
    assert applied == budget.seconds + SUPERVISOR_MARGIN_SECONDS > budget.seconds
    # AND the collector stopped by itself, well within it
    assert "supervisor: collector stopped (exit status 0)" in lines


def test_a_stop_timeout_shorter_than_the_rendered_drain_budget_is_refused(
    collector_binary: Path,
    probe_binary: Path,
    supervisor_binary: Path,
    processes: ProcessRunner,
    sink: OtlpSink,
) -> None:
    # GIVEN a rendered configuration whose drain budget (70 s) exceeds a 20 s stop timeout
    # WHEN the supervisor is started with both
    supervisor, budget = supervise(
        processes,
        supervisor=supervisor_binary,
        collector=collector_binary,
        probe=probe_binary,
        sink=sink,
        mode="exit",
        code=0,
        flags=("--collector-stop-timeout", "20s"),
    )
    assert budget.seconds == 70.0
    status = supervisor.popen.wait(timeout=30)

    # THEN it refuses with a usage error naming the flag and both values, and starts nothing
    log = supervisor.log()
    assert status == 2, log[-3000:]
    assert (
        "supervisor: error: --collector-stop-timeout: 20s must be longer than the collector's "
        f"drain budget of 1m10s ({BUDGET_ENV}), or the collector is killed while its exporters "
        "still retry; leave --collector-stop-timeout out to get 1m15s (the budget plus 5s)"
    ) in log.splitlines()
    assert PREFIX not in log
    assert "app:" not in log
