"""Language agents installed the way docker/instrumentation.Dockerfile installs them.

Each agent comes from its language registry at the version the library pins, with the same
command and the same input files as the Dockerfile's build stage, into a cache folder named
after those inputs (``$OTEL_FARGATE_CACHE``, default ``~/.cache/otel-fargate``), so a second
run reuses it and an edited requirements file installs anew.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import urllib.request
import venv
from collections.abc import Callable, Iterator
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Template
from otel_fargate import CollectorSidecar, XRayExporter
from otel_fargate.apps.instrumentation import AutoInstrumentation, mount_path
from otel_fargate.versions import JAVA_AGENT_VERSION

from tests.conftest import container_environment
from tests.e2e.harness import REPO_ROOT

AGENT_SOURCES = REPO_ROOT / "docker" / "instrumentation"
#: The uninstrumented hello-world services, one per runtime, each answering "ok" on $PORT.
APPS = Path(__file__).parent / "apps" / "instrumented"
#: The Flask release the Python service's own environment holds, as an app image would.
FLASK_VERSION = "3.1.3"


def _cache_root() -> Path:
    configured = os.environ.get("OTEL_FARGATE_CACHE")
    root = Path(configured) if configured else Path.home() / ".cache" / "otel-fargate"
    return root / "agents"


def _run(argv: list[str], *, cwd: Path | None = None, timeout: float = 900) -> None:
    result = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")


def _cached(name: str, inputs: list[Path], install: Callable[[Path], None]) -> Path:
    digest = hashlib.sha256()
    for path in inputs:
        digest.update(path.read_bytes())
    target = _cache_root() / f"{name}-{digest.hexdigest()[:16]}"
    if (target / ".complete").is_file():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    install(partial)
    (partial / ".complete").write_text("")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def java_agent() -> Path:
    """A folder holding ``javaagent.jar`` (the Dockerfile's ``mvn dependency:copy``)."""

    def install(folder: Path) -> None:
        mvn = shutil.which("mvn")
        assert mvn is not None, "mvn is not installed"
        artifact = f"io.opentelemetry.javaagent:opentelemetry-javaagent:{JAVA_AGENT_VERSION}"
        _run([mvn, "-q", "dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={folder}"])
        (folder / f"opentelemetry-javaagent-{JAVA_AGENT_VERSION}.jar").rename(
            folder / "javaagent.jar"
        )

    return _cached(f"java-{JAVA_AGENT_VERSION}", [], install)


def nodejs_agent() -> Path:
    """The Dockerfile's /autoinstrumentation for Node.js (``npm ci`` of its package files)."""
    sources = AGENT_SOURCES / "nodejs"
    files = [sources / "package.json", sources / "package-lock.json", sources / "autoinstrumentation.js"]

    def install(folder: Path) -> None:
        for path in files:
            shutil.copy(path, folder / path.name)
        npm = shutil.which("npm")
        assert npm is not None, "npm is not installed"
        _run([npm, "ci", "--omit=dev", "--no-audit", "--no-fund"], cwd=folder)

    return _cached("nodejs", files, install)


def python_agent() -> Path:
    """The Dockerfile's /autoinstrumentation for Python (``pip install --target``)."""
    requirements = AGENT_SOURCES / "python" / "requirements.txt"

    def install(folder: Path) -> None:
        _run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(folder),
             "-r", str(requirements)]
        )

    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return _cached(version, [requirements], install)


def agent(runtime: str) -> Path:
    """The runtime's agent folder, installed (once) from its registry."""
    installs: dict[str, Callable[[], Path]] = {
        "java": java_agent, "nodejs": nodejs_agent, "python": python_agent
    }
    return installs[runtime]()


@contextlib.contextmanager
def placed(runtime: str) -> Iterator[Path]:
    """The runtime's agent at its mount path, as the init container leaves it (a link)."""
    source = agent(runtime)
    target = Path(mount_path(runtime))  # type: ignore[arg-type]
    if target.is_symlink() or target.exists():
        assert target.is_symlink(), f"{target} exists and is not a link to a cached agent"
        target.unlink()
    target.symlink_to(source, target_is_directory=True)
    try:
        yield target
    finally:
        target.unlink()


def flask_python() -> Path:
    """The interpreter of the Python service's own environment (its Flask, not the agent's)."""

    def install(folder: Path) -> None:
        venv.EnvBuilder(with_pip=True).create(folder)
        _run([str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet",
              f"flask=={FLASK_VERSION}"])

    version = f"flask-{FLASK_VERSION}-python{sys.version_info.major}.{sys.version_info.minor}"
    return _cached(version, [], install) / "bin" / "python"


def app_command(runtime: str) -> list[str]:
    """The command that starts the runtime's uninstrumented hello-world service."""
    if runtime == "python":
        return [str(flask_python()), str(APPS / "app.py")]
    program = {"java": "java", "nodejs": "node"}[runtime]
    found = shutil.which(program)
    assert found is not None, f"{program} is not installed"
    return [found, str(APPS / ("Hello.java" if runtime == "java" else "server.js"))]


def serving(port: int) -> bool:
    """Whether the service on ``port`` answers ``GET /`` with 200."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def synthesized_variables(*, environment: str, version: str) -> dict[str, dict[str, str]]:
    """Per runtime, the variables a synthesized task gives an instrumented app container."""
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
        environment_name=environment,
        instrument={
            c: AutoInstrumentation(runtime=r, service_version=version)  # type: ignore[arg-type]
            for r, c in containers.items()
        },
    )
    (definition,) = Template.from_stack(stack).find_resources("AWS::ECS::TaskDefinition").values()
    return {
        c["Name"].removesuffix("-svc"): container_environment(c)
        for c in definition["Properties"]["ContainerDefinitions"]
        if c["Name"].endswith("-svc")
    }
