"""Linters and the Go modules' own tests, run as part of the test suite so CI runs them."""

from __future__ import annotations

import ast
import os
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


def test_import_layers_hold() -> None:
    # GIVEN the import-linter contracts of pyproject.toml WHEN checked THEN every one is kept
    result = subprocess.run(
        [str(BIN / "lint-imports")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": f"{REPO_ROOT / 'constructs'}{os.pathsep}{REPO_ROOT}"},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_rendering_starts_no_cdk_runtime() -> None:
    # GIVEN a fresh interpreter WHEN it imports and renders with otel_fargate.config
    code = (
        "import sys\n"
        "from otel_fargate.config import CollectorConfigOptions, render\n"
        "render(CollectorConfigOptions(preset='agent'))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'aws_cdk', 'jsii', 'constructs'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "constructs")},
    )
    # THEN neither the CDK nor its Node.js bridge was loaded
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


LIBRARY = REPO_ROOT / "constructs" / "otel_fargate"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def test_library_modules_stay_readable() -> None:
    # GIVEN every module of the library WHEN measured THEN none is over 400 lines, and no
    # function body over 60 (a construct's signature lists its props and does not count)
    too_long: list[str] = []
    for path in sorted(LIBRARY.rglob("*.py")):
        text = path.read_text()
        name = path.relative_to(REPO_ROOT)
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                length = node.end_lineno - node.body[0].lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}:{node.lineno} {node.name}(): {length} lines")
    assert too_long == []
