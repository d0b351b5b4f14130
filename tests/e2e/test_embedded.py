"""Embedded mode: the supervisor runs the real collector, the real probe and an app.

Checked on the supervisor's combined output (the app's stdout and the collector's prefixed
log lines) and on what the collector delivered to the sink.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

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
) -> Process:
    ports = Ports.allocate()
    rendered = sidecar_config(ports, sink=sink.endpoint)
    health_url = f"http://127.0.0.1:{ports.health}/"
    argv: list[str | Path] = [
        supervisor,
        "--collector", collector,
        "--collector-arg", "--config=env:OTEL_FARGATE_CONFIG",
        "--probe", probe,
        "--probe-url", health_url,
        "--probe-interval", "100ms",
        "--ready-timeout", "30s",
        "--collector-stop-timeout", "20s",
        "--",
        sys.executable, FAKE_APP, health_url, f"http://127.0.0.1:{ports.http}", mode, str(code),
    ]  # fmt: skip
    return processes.start("supervisor", argv, env=collector_env(rendered))


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
    supervisor = supervise(
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
    supervisor = supervise(
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
