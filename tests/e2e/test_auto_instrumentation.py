"""Zero-code instrumentation: an uninstrumented service, run with exactly the variables and
the file layout its synthesized task gives it, sends spans a real collector delivers.

For each runtime the agent is installed from its language registry as the Dockerfile installs
it, and placed at the path the init container copies it to (the mount path, a link to the
cached install). The app container's variables come from a synthesized stack; only the port
of ``OTEL_EXPORTER_OTLP_ENDPOINT`` is rewritten to the test collector's free port.
.NET has no runtime on this machine, so its variables are asserted in the template tests only.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Synthesized, container_environment
from tests.e2e.agents import app_command, placed, serving, synthesized_variables
from tests.e2e.harness import (
    OtlpSink,
    Ports,
    ProcessRunner,
    free_port,
    sidecar_config,
    start_collector,
    wait_until,
)

pytestmark = pytest.mark.e2e

REQUESTS = 5
ENVIRONMENT = "shop-e2e"
VERSION = "4.2.0"


@pytest.fixture(scope="module")
def injected() -> dict[str, dict[str, str]]:
    """The variables of three app containers, one per runtime, as synthesized (one synth)."""
    return synthesized_variables(environment=ENVIRONMENT, version=VERSION)


@pytest.fixture()
def placed_agent(request: pytest.FixtureRequest) -> Iterator[Path]:
    """The runtime's agent at its mount path, as the init container leaves it."""
    with placed(request.param) as target:
        yield target


@pytest.mark.parametrize(
    "placed_agent", ["java", "nodejs", "python"], indirect=True, ids=["java", "nodejs", "python"]
)
def test_an_uninstrumented_service_sends_spans_through_the_sidecar(
    placed_agent: Path,
    injected: dict[str, dict[str, str]],
    collector_binary: Path,
    processes: ProcessRunner,
    sink: OtlpSink,
    tmp_path: Path,
) -> None:
    runtime = placed_agent.name.removeprefix("otel-auto-instrumentation-")
    variables = injected[runtime]
    # GIVEN the sidecar's collector on a free port, and the app's variables pointing at it
    ports = Ports.allocate()
    start_collector(
        processes, collector_binary, sidecar_config(ports, sink=sink.endpoint), ports, name="sidecar"
    )
    assert variables["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    app_port = free_port()
    env: dict[str, Any] = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        **variables,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{ports.http}",
        "PORT": str(app_port),
    }
    # WHEN the service starts with them and answers some requests
    app = processes.start(f"{runtime}-app", app_command(runtime), env=env)
    wait_until(
        lambda: serving(app_port) or not app.alive(),
        timeout=180,
        what=f"the {runtime} service on port {app_port}",
    )
    assert app.alive(), app.log()[-4000:]
    for _ in range(REQUESTS - 1):
        assert serving(app_port)
    # THEN its server spans reach the collector's backend under the container's service name,
    # with the environment and version resource attributes, from the runtime's agent
    service = f"{runtime}-svc"
    state = sink.wait_for(
        lambda s: sum(c.get(service, 0) for c in s.traces.values()) >= REQUESTS,
        timeout=180,
        what=f"{REQUESTS} spans of {service}",
    )
    resources = [r for r in state.resources if r.get("service.name") == service]
    assert resources, state.resources
    resource = resources[0]
    assert resource["deployment.environment.name"] == ENVIRONMENT
    assert resource["service.version"] == VERSION
    assert resource["telemetry.sdk.language"] == runtime


def test_the_dev_demo_web_service_runs_as_synthesized_and_sends_whole_traces(
    synthesized: Synthesized,
    collector_binary: Path,
    processes: ProcessRunner,
    sink: OtlpSink,
    tmp_path: Path,
) -> None:
    # GIVEN the dev demo's web container as synthesized: its command, its variables (gRPC to
    # the sidecar) and the Node.js agent where its init container copies it
    tasks = synthesized.templates["otel-fargate-dev-demo"].find_resources(
        "AWS::ECS::TaskDefinition"
    ).values()
    (web,) = [
        c
        for task in tasks
        for c in task["Properties"]["ContainerDefinitions"]
        if c["Name"] == "demo-web"
    ]
    variables = container_environment(web)
    assert variables["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4317"
    ports = Ports.allocate()
    start_collector(
        processes, collector_binary, sidecar_config(ports, sink=sink.endpoint), ports, name="sidecar"
    )
    env: dict[str, Any] = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        **variables,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{ports.grpc}",
        "PORT": str(free_port()),
    }
    node = shutil.which("node")
    assert node is not None, "node is not installed"
    assert web["Command"][0] == "node"
    # WHEN it runs with its agent, calling itself every 2 s
    with placed("nodejs"):
        app = processes.start("demo-web", [node, *web["Command"][1:]], env=env)
        # THEN traces of the demo-web service arrive whole: the call's client span and the
        # answer's server span in one trace, through the sidecar's gRPC receiver
        state = sink.wait_for(
            lambda s: sum(1 for c in s.traces.values() if c.get("demo-web", 0) >= 2) >= 3,
            timeout=180,
            what="3 traces of demo-web with a client and a server span",
        )
    assert app.alive(), app.log()[-4000:]
    resource = next(r for r in state.resources if r.get("service.name") == "demo-web")
    assert resource["deployment.environment.name"] == "dev"
    assert resource["telemetry.sdk.language"] == "nodejs"
