"""Linters and the Go modules' own tests, run as part of the test suite so CI runs them."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
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
#: The trees held to the size limits: the library, the app's stacks and the operations tools.
MEASURED_TREES = [LIBRARY, REPO_ROOT / "stacks", REPO_ROOT / "tools"]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def oversized(trees: list[Path], *, root: Path = REPO_ROOT) -> list[str]:
    """Modules over 400 lines and function bodies over 60 (a signature does not count)."""
    too_long: list[str] = []
    for path in sorted(p for tree in trees for p in tree.rglob("*.py")):
        text = path.read_text()
        name = path.relative_to(root)
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                length = node.end_lineno - node.body[0].lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}:{node.lineno} {node.name}(): {length} lines")
    return too_long


def test_modules_stay_readable() -> None:
    # GIVEN every module of the library, the stacks and the tools WHEN measured THEN none is
    # over 400 lines, and no function body over 60
    assert oversized(MEASURED_TREES) == []


def test_the_size_check_sees_a_long_module(tmp_path: Path) -> None:
    # GIVEN a module of 402 lines with one function body of 61 WHEN measured
    body = "\n".join(f"    x{i} = {i}" for i in range(61))
    (tmp_path / "big.py").write_text(f"def f() -> None:\n{body}\n" + "\n" * 340)
    # THEN both the module and the function are named
    assert oversized([tmp_path], root=tmp_path) == ["big.py: 402 lines", "big.py:1 f(): 61 lines"]


def _layers(container: str) -> list[str]:
    """The packages and modules a layers contract of pyproject.toml names for ``container``."""
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract.get("type") == "layers" and contract.get("containers") == [container]:
            return [
                name.strip()
                for layer in contract["layers"]
                for name in layer.replace(":", "|").split("|")
            ]
    raise AssertionError(f"no layers contract for {container}")


@pytest.mark.parametrize(
    ("container", "folder"),
    [("otel_fargate", LIBRARY), ("otel_fargate.config", LIBRARY / "config")],
)
def test_every_package_has_its_place_in_a_layers_contract(container: str, folder: Path) -> None:
    # GIVEN the direct children of a package WHEN compared with its layers contract THEN each
    # one has a layer, so a new package cannot join outside the architecture
    children = {p.stem for p in folder.glob("*.py") if p.name != "__init__.py"} | {
        p.name for p in folder.iterdir() if (p / "__init__.py").is_file()
    }
    assert sorted(children - set(_layers(container))) == []


def test_make_lint_and_pre_commit_run_what_ci_runs() -> None:
    # GIVEN the Makefile's lint target and the pre-commit configuration
    makefile = (REPO_ROOT / "Makefile").read_text()
    lint = makefile.split("\nlint: ", 1)[1].split("\n\n", 1)[0]
    hooks = (REPO_ROOT / ".pre-commit-config.yaml").read_text()
    # THEN make lint runs every linter the suite runs, and pre-commit runs make lint
    for tool in ("ruff check", "mypy", "lint-imports", "hadolint", "gofmt -l", "go vet"):
        assert tool in lint, tool
    assert "entry: make lint" in hooks


@pytest.mark.parametrize(("ci", "code", "summary"), [("true", 1, "1 failed"), ("", 0, "1 skipped")])
def test_a_skipped_test_fails_in_ci(tmp_path: Path, ci: str, code: int, summary: str) -> None:
    # GIVEN a test that skips, run with this suite's conftest
    (tmp_path / "test_skips.py").write_text(
        "import pytest\n\n\ndef test_needs_a_tool() -> None:\n    pytest.skip('tool missing')\n"
    )
    env = {**os.environ, "CI": ci}
    # WHEN pytest runs it with CI=true (the README: "a skipped test counts as a failure")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider",
         "-c", os.devnull, "--rootdir", str(tmp_path), str(tmp_path / "test_skips.py")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False,
    )
    # THEN it fails there, saying why, and is only a skip outside CI
    assert result.returncode == code, result.stdout[-2000:]
    assert summary in result.stdout
    if ci:
        assert "skipped in CI, where every tool must be installed: " in result.stdout
