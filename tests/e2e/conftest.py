"""Fixtures of the end-to-end tests: the real collector, probe, supervisor and telemetrygen.

Every binary is built from source once per session (the collector and telemetrygen through
tools/collector.py and its cache). A missing Go toolchain or a failed build is an error, not
a skip: these tests exist to run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import REPO_ROOT, OtlpSink, ProcessRunner


def _go_build(source: Path, output: Path) -> Path:
    configured = os.environ.get("GO")
    go = shutil.which(configured if configured is not None else "go")
    if go is None:
        pytest.fail(f"go: no Go toolchain on PATH (or $GO) to build {source.name}")
    result = subprocess.run(
        [go, "build", "-trimpath", "-o", str(output), "."],
        cwd=source,
        env={**os.environ, "CGO_ENABLED": "0"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"go build in {source} failed ({result.returncode}):\n{result.stderr}")
    return output


@pytest.fixture(scope="session")
def collector_binary() -> Path:
    """The collector of docker/builder-config.yaml at the pinned version (cached build)."""
    from tools.collector import build_collector

    return build_collector()


@pytest.fixture(scope="session")
def ecs_collector_binary() -> Path:
    """The tests' second collector (docker/test-ecs-manifest.yaml, cached build): the ECS-native
    metrics components at the release the module proxy serves them at. Only the tests of those
    components use it; every other test runs the collector of the image's release.
    """
    from tools.collector import build_ecs_test_collector

    return build_ecs_test_collector()


@pytest.fixture(scope="session")
def telemetrygen_binary() -> Path:
    from tools.collector import build_telemetrygen

    return build_telemetrygen()


@pytest.fixture(scope="session")
def probe_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The health probe of healthcheck/, built as the image builds it."""
    return _go_build(REPO_ROOT / "healthcheck", tmp_path_factory.mktemp("bin") / "healthcheck")


@pytest.fixture(scope="session")
def supervisor_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded-mode supervisor of supervisor/."""
    return _go_build(REPO_ROOT / "supervisor", tmp_path_factory.mktemp("bin") / "supervisor")


@pytest.fixture()
def processes(tmp_path: Path) -> Iterator[ProcessRunner]:
    """Starts processes for one test and kills whatever is left of them afterwards."""
    runner = ProcessRunner(tmp_path / "processes")
    try:
        yield runner
    finally:
        runner.close()


@pytest.fixture()
def sink() -> Iterator[OtlpSink]:
    """An OTLP/HTTP receiver on 127.0.0.1 that counts what it receives."""
    receiver = OtlpSink()
    try:
        yield receiver
    finally:
        receiver.close()


@pytest.fixture()
def keeping_sink() -> Iterator[OtlpSink]:
    """A ``sink`` that also keeps every metric point it receives."""
    receiver = OtlpSink(keep_points=True)
    try:
        yield receiver
    finally:
        receiver.close()
