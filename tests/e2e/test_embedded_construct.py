"""``EmbeddedCollector``'s container, run as synthesized: nothing the app sent is lost on stop.

The container definition is read from a synthesized template: its entry point (the supervisor
with the construct's flags), its command (the example app of ``examples/embedded``), its
environment (the configuration, the drain budget, the app's OTLP variables) and its health
check. They run unchanged in a network namespace of their own, where the collector's default
ports are free as in a task; only the binaries' paths are the test's builds (passed to the
construct as ``collector_path``, ``probe_path`` and ``supervisor_path``) and the exporter points
at a local backend. The backend is down when ECS's SIGTERM arrives and comes back during the
drain: every span the app emitted arrives, and the container exits before its stop timeout.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs
from otel_fargate import EmbeddedCollector, OtlpExporter

from tests.e2e.harness import (
    REPO_ROOT,
    WITHOUT_CONTAINER_METRICS,
    Collector,
    Ports,
    ProcessRunner,
    free_port,
    sink_in_netns,
    wait_healthy,
    wait_until,
)

pytestmark = pytest.mark.e2e

APP = REPO_ROOT / "examples" / "embedded" / "app.py"
#: The collector's default ports, free in the test's own namespace as in a task.
DEFAULT_PORTS = Ports(grpc=4317, http=4318, health=13133, metrics=8888)


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, timeout=30, capture_output=True)


@pytest.fixture()
def namespace() -> Iterator[str]:
    """A fresh network namespace with loopback up, removed afterwards."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2's ip to create network namespaces")
    name = f"e2e-embedded-{os.getpid() % 100000}"
    ip("netns", "add", name)
    try:
        ip("-n", name, "link", "set", "lo", "up")
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, timeout=30)


@dataclass(frozen=True)
class Synthesized:
    """The app container of a synthesized template, and the template's drain timeout."""

    container: dict[str, Any]
    budget: str
    drain_timeout_seconds: int

    @property
    def environment(self) -> dict[str, str]:
        return {entry["Name"]: entry["Value"] for entry in self.container["Environment"]}


def synthesize(backend_port: int, binaries: dict[str, Path]) -> Synthesized:
    """An app with one EmbeddedCollector exporting to ``backend_port``, synthesized."""
    app = cdk.App()
    stack = cdk.Stack(app, "EmbeddedE2e")
    task = ecs.FargateTaskDefinition(stack, "Task", cpu=512, memory_limit_mib=1024)
    embedded = EmbeddedCollector(
        stack,
        "App",
        task_definition=task,
        app_image=ecs.ContainerImage.from_registry("example/embedded-app:1"),
        command=[sys.executable, str(APP)],
        exporters=OtlpExporter(
            name="backend", protocol="http", endpoint=f"http://127.0.0.1:{backend_port}"
        ),
        container_name="shop",
        app_environment={"EXAMPLE_INTERVAL_SECONDS": "0.05", "PYTHONUNBUFFERED": "1"},
        collector_path=str(binaries["collector"]),
        probe_path=str(binaries["probe"]),
        supervisor_path=str(binaries["supervisor"]),
        environment_name="e2e",
        self_telemetry_namespace=None,
        container_metrics=WITHOUT_CONTAINER_METRICS,
    )
    template = app.synth().get_stack_by_name("EmbeddedE2e").template
    (definition,) = [
        resource["Properties"]["ContainerDefinitions"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::ECS::TaskDefinition"
    ]
    (container,) = definition
    return Synthesized(container, embedded.drain_budget.go_duration, embedded.drain_timeout_seconds)


@pytest.fixture()
def binaries(
    collector_binary: Path, probe_binary: Path, supervisor_binary: Path
) -> dict[str, Path]:
    return {"collector": collector_binary, "probe": probe_binary, "supervisor": supervisor_binary}


def test_the_synthesized_container_drains_to_a_backend_that_returns_after_sigterm(
    binaries: dict[str, Path], processes: ProcessRunner, namespace: str
) -> None:
    # GIVEN the container as synthesized, run in its own namespace, its backend down
    port = free_port()
    synthesized = synthesize(port, binaries)
    container = synthesized.container
    assert container["EntryPoint"][0] == str(binaries["supervisor"])
    assert container["EntryPoint"][-1] == "--"
    assert f"--drain-timeout={synthesized.drain_timeout_seconds}s" in container["EntryPoint"]
    assert synthesized.environment["OTEL_FARGATE_DRAIN_BUDGET"] == synthesized.budget
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **synthesized.environment}
    argv = ["ip", "netns", "exec", namespace, *container["EntryPoint"], *container["Command"]]
    supervisor = processes.start("container", argv, env=env, cwd=REPO_ROOT)
    collector = Collector(
        process=supervisor,
        ports=DEFAULT_PORTS,
        rendered=None,  # type: ignore[arg-type]  # read from the template instead
        netns=namespace,
    )
    wait_healthy(collector, timeout=60)
    wait_until(
        lambda: "emitted span 20" in supervisor.log() or not supervisor.alive(),
        timeout=60,
        what="the app emits spans",
    )
    # AND ECS's health check command, as synthesized, passes
    probe = container["HealthCheck"]["Command"]
    assert probe[0] == "CMD"
    checked = subprocess.run(
        ["ip", "netns", "exec", namespace, *probe[1:]], capture_output=True, timeout=30
    )
    assert checked.returncode == 0, checked.stderr
    wait_until(
        lambda: collector.metric("otelcol_exporter_queue_size") > 0,
        timeout=60,
        what="the collector holds spans for the down backend",
    )

    # WHEN ECS stops the task (SIGTERM to the container) and the backend returns 2 s later
    stopped_at = time.monotonic()
    supervisor.popen.send_signal(signal.SIGTERM)
    wait_until(lambda: "flushed; exiting after" in supervisor.log(), timeout=30, what="app flush")
    wait_until(lambda: time.monotonic() - stopped_at >= 2, timeout=10, what="2 s after SIGTERM")
    sink = sink_in_netns(namespace, port=port)
    try:
        status = supervisor.popen.wait(timeout=int(container["StopTimeout"]) + 30)
        elapsed = time.monotonic() - stopped_at
        log = supervisor.log()
        emitted = int(log.split("flushed; exiting after ")[1].split()[0])

        # THEN the container exits 0 before ECS's SIGKILL would have come
        assert status == 0, log[-4000:]
        assert elapsed < int(container["StopTimeout"]), log[-4000:]
        # AND every span the app emitted reached the backend, exactly once
        state = sink.wait_for(lambda s: s.spans >= emitted, timeout=10, what="every span")
        assert state.spans == emitted > 20
        assert "supervisor: collector stopped (exit status 0)" in log
        assert "Dropping data" not in log
    finally:
        sink.close()
