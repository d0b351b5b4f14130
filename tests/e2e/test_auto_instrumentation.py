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
import subprocess
import urllib.request
import venv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Template
from otel_fargate import CollectorSidecar, XRayExporter
from otel_fargate.apps.instrumentation import AutoInstrumentation, mount_path

from tests.conftest import container_environment
from tests.e2e.agents import java_agent, nodejs_agent, python_agent
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

APPS = Path(__file__).parent / "apps" / "instrumented"
REQUESTS = 5
ENVIRONMENT = "shop-e2e"
VERSION = "4.2.0"


@pytest.fixture(scope="module")
def injected() -> dict[str, dict[str, str]]:
    """The variables of three app containers, one per runtime, as synthesized (one synth)."""
    stack = cdk.Stack(cdk.App(), "Instrumented")
    task = ecs.FargateTaskDefinition(stack, "Task", cpu=2048, memory_limit_mib=4096)
    containers = {
        runtime: task.add_container(
            runtime,
            container_name=f"{runtime}-svc",
            image=ecs.ContainerImage.from_registry(f"example/{runtime}"),
            memory_limit_mib=512,
        )
        for runtime in ("java", "nodejs", "python")
    }
    CollectorSidecar(
        stack,
        "Otel",
        task_definition=task,
        exporters=[XRayExporter()],
        environment_name=ENVIRONMENT,
        instrument={
            c: AutoInstrumentation(runtime=r, service_version=VERSION)  # type: ignore[arg-type]
            for r, c in containers.items()
        },
    )
    (definition,) = Template.from_stack(stack).find_resources("AWS::ECS::TaskDefinition").values()
    return {
        c["Name"].removesuffix("-svc"): container_environment(c)
        for c in definition["Properties"]["ContainerDefinitions"]
        if c["Name"].endswith("-svc")
    }


@pytest.fixture()
def placed_agent(request: pytest.FixtureRequest) -> Iterator[Path]:
    """The runtime's agent at its mount path, as the init container leaves it."""
    runtime: str = request.param
    install: Callable[[], Path] = {"java": java_agent, "nodejs": nodejs_agent, "python": python_agent}[runtime]
    source = install()
    target = Path(mount_path(runtime))  # type: ignore[arg-type]
    if target.is_symlink() or target.exists():
        assert target.is_symlink(), f"{target} exists and is not this test's link"
        target.unlink()
    target.symlink_to(source, target_is_directory=True)
    try:
        yield target
    finally:
        target.unlink()


def _app_command(runtime: str, tmp_path: Path) -> list[str]:
    if runtime == "java":
        java = shutil.which("java")
        assert java is not None, "java is not installed"
        return [java, str(APPS / "Hello.java")]
    if runtime == "nodejs":
        node = shutil.which("node")
        assert node is not None, "node is not installed"
        return [node, str(APPS / "server.js")]
    # the app's own interpreter and Flask, as an app image has them; the agent comes in
    # through PYTHONPATH alone
    environment = tmp_path / "app-venv"
    venv.EnvBuilder(with_pip=True).create(environment)
    subprocess.run(
        [str(environment / "bin" / "python"), "-m", "pip", "install", "--quiet", "flask==3.1.3"],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return [str(environment / "bin" / "python"), str(APPS / "app.py")]


def _serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


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
    app = processes.start(f"{runtime}-app", _app_command(runtime, tmp_path), env=env)
    wait_until(
        lambda: _serving(app_port) or not app.alive(),
        timeout=180,
        what=f"the {runtime} service on port {app_port}",
    )
    assert app.alive(), app.log()[-4000:]
    for _ in range(REQUESTS - 1):
        assert _serving(app_port)
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
