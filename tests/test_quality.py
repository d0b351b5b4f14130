"""Linters and the Go modules' own tests, run as part of the test suite so CI runs them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent
GO_MODULES = ["healthcheck", "supervisor"]


def run(*command: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def go() -> str:
    found = shutil.which("go")
    if found is None:
        pytest.skip("the Go toolchain is not installed")
    return found


def test_ruff_is_clean() -> None:
    result = run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict_is_clean() -> None:
    result = run(str(BIN / "mypy"))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("module", GO_MODULES)
def test_go_module_is_formatted_and_vetted(module: str) -> None:
    unformatted = run(str(Path(go()).parent / "gofmt"), "-l", ".", cwd=REPO_ROOT / module)
    assert unformatted.returncode == 0 and unformatted.stdout == "", unformatted.stdout
    vet = run(go(), "vet", "./...", cwd=REPO_ROOT / module)
    assert vet.returncode == 0, vet.stdout + vet.stderr


@pytest.mark.slow
@pytest.mark.parametrize("module", GO_MODULES)
def test_go_module_tests_pass(module: str) -> None:
    result = run(go(), "test", "-count=1", "./...", cwd=REPO_ROOT / module)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "ok" in result.stdout
