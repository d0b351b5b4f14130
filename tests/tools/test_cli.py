"""The ``otel-fargate`` command line: parsing, ``render`` and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from otel_fargate.errors import EnvironmentConfigError, OtelFargateError

from tests.conftest import REPO_ROOT
from tools import render as environments
from tools.cli import EXIT_USAGE, build_parser, main


@dataclass(frozen=True)
class _Rendered:
    yaml: str


@dataclass(frozen=True)
class _Settings:
    name: str


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "cdk.json").write_text(json.dumps({"app": "python app.py", "context": {}}))
    return tmp_path


@pytest.fixture
def stub_environments(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """load_environments/render_environment replaced: no synth, records the calls."""
    calls: dict[str, Any] = {}

    def load(path: Path) -> Mapping[str, _Settings]:
        calls["load"] = Path(path)
        return {"dev": _Settings("dev"), "prod": _Settings("prod")}

    def render(settings: _Settings) -> Mapping[str, _Rendered]:
        calls["render"] = settings
        return {
            f"otel-fargate-{settings.name}-gateway/Gateway": _Rendered("receivers:\n  otlp: {}\n"),
            f"otel-fargate-{settings.name}-demo/Sidecar": _Rendered("exporters:\n  otlp: {}\n"),
        }

    monkeypatch.setattr(environments, "load_environments", load)
    monkeypatch.setattr(environments, "render_environment", render)
    return calls


def _main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_render_prints_every_collector_config_of_the_environment(
    app_dir: Path, stub_environments: dict[str, Any]
) -> None:
    # WHEN render runs for dev
    code, out, err = _main("render", "--env", "dev", "--app-dir", str(app_dir))
    # THEN both configs are printed as YAML documents, each headed by its construct path
    assert code == 0, err
    assert out == (
        "# dev: otel-fargate-dev-gateway/Gateway\n"
        "receivers:\n  otlp: {}\n"
        "---\n"
        "# dev: otel-fargate-dev-demo/Sidecar\n"
        "exporters:\n  otlp: {}\n"
    )
    assert stub_environments["load"] == app_dir / "cdk.json"
    assert stub_environments["render"] == _Settings("dev")


def test_render_unknown_environment_is_a_usage_error(
    app_dir: Path, stub_environments: dict[str, Any]
) -> None:
    code, out, err = _main("render", "--env", "staging", "--app-dir", str(app_dir))
    assert code == EXIT_USAGE
    assert out == ""
    assert err == "error: --env: unknown environment 'staging' (known: dev, prod)\n"


def test_render_without_cdk_json_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = _main("render", "--env", "dev", "--app-dir", str(tmp_path))
    assert code == EXIT_USAGE
    assert err == f"error: --app-dir: no cdk.json in {tmp_path}\n"


def test_render_reports_a_bad_cdk_json_in_one_line(
    app_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: Path) -> Mapping[str, Any]:
        raise EnvironmentConfigError("environments.dev.max_azs: must be a whole number, got 1")

    monkeypatch.setattr(environments, "load_environments", broken)
    code, _, err = _main("render", "--env", "dev", "--app-dir", str(app_dir))
    assert code == EXIT_USAGE
    assert err == "error: environments.dev.max_azs: must be a whole number, got 1\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["deploy"], "invalid choice: 'deploy'"),
        (["render"], "the following arguments are required: --env"),
        (["verify", "--env", "dev", "--colour"], "unrecognized arguments: --colour"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_help_exits_0_and_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "Exit codes: 0 all good, 1 a check failed, 2 usage" in capsys.readouterr().out


def test_verify_options_parse() -> None:
    args = build_parser().parse_args(["verify", "--env", "dev", "--region", "eu-west-1", "--json"])
    assert (args.command, args.env, args.region, args.json) == ("verify", "dev", "eu-west-1", True)


def test_module_runs_as_a_program() -> None:
    # GIVEN the repository root WHEN run with python -m THEN argparse answers --help
    result = subprocess.run(
        [sys.executable, "-m", "tools.cli", "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT / "constructs")},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m tools.cli")


def test_cost_without_cdk_json_is_a_usage_error(tmp_path: Path) -> None:
    code, out, err = _main("cost", "--env", "dev", "--app-dir", str(tmp_path))
    assert (code, out) == (EXIT_USAGE, "")
    assert err == f"error: --app-dir: no cdk.json in {tmp_path}\n"


def test_cost_reports_a_refused_setting_in_one_line(
    app_dir: Path, stub_environments: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN settings the library refuses while the environment's stacks are built
    def refused(settings: object) -> None:
        raise OtelFargateError("gateway.cpu: must be one of 256, 512, got 300")

    monkeypatch.setattr(environments, "build_app", refused)
    code, out, err = _main("cost", "--env", "dev", "--app-dir", str(app_dir))
    assert (code, out) == (EXIT_USAGE, "")
    assert err == "error: gateway.cpu: must be one of 256, 512, got 300\n"
