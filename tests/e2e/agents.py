"""Language agents installed the way docker/instrumentation.Dockerfile installs them.

Each agent comes from its language registry at the version the library pins, with the same
command and the same input files as the Dockerfile's build stage, into a cache folder named
after those inputs (``$OTEL_FARGATE_CACHE``, default ``~/.cache/otel-fargate``), so a second
run reuses it and an edited requirements file installs anew.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from otel_fargate.versions import JAVA_AGENT_VERSION

from tests.e2e.harness import REPO_ROOT

AGENT_SOURCES = REPO_ROOT / "docker" / "instrumentation"


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
