"""Embedded mode: the supervisor's stop timeout derived from the rendered drain budget.

``examples/embedded/drain_budget.py`` measures a rendered configuration with the library's
drain rule; the supervisor (supervisor/flags.go) stops the collector after that budget plus
a margin. These tests hold the measure to the library's own, the margin to the supervisor's,
and the derived stop timeout to covering the budget inside the container's stop timeout.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from otel_fargate.config import (
    CollectorConfigOptions,
    ConfigError,
    OtlpExporter,
    RetryOnFailure,
    XRayExporter,
    render,
)
from otel_fargate.config.core.durations import parse_duration

from examples.embedded.drain_budget import (
    BUDGET_ENV,
    DEFAULT_CONFIG,
    SUPERVISOR_MARGIN_SECONDS,
    check_fits,
    drain_budget,
    go_duration,
    render_config,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "examples" / "embedded" / "drain_budget.py"
SUPERVISOR_FLAGS = REPO_ROOT / "supervisor" / "flags.go"

OTLP = "https://otlp.example.com"


def _config(exporters: str, pipeline_exporters: str) -> str:
    """A whole configuration as given in OTEL_FARGATE_CONFIG."""
    return f"""
extensions:
  health_check:
    endpoint: 127.0.0.1:13133
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:4318
exporters:
{exporters}
service:
  extensions: [health_check]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [{pipeline_exporters}]
"""


def _run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_margin_is_the_supervisors() -> None:
    # GIVEN the supervisor's source WHEN its drain margin and variable are read
    source = SUPERVISOR_FLAGS.read_text()
    margin = re.search(r"\bdrainMargin\s*=\s*(\d+) \* time\.Second", source)
    env = re.search(r'\benvDrainBudget\s*=\s*"([A-Z_]+)"', source)
    # THEN the tool adds the same margin and names the same variable
    assert margin is not None and int(margin[1]) == SUPERVISOR_MARGIN_SECONDS
    assert env is not None and env[1] == BUDGET_ENV


def test_default_otlp_exporter_budget_is_its_retries_plus_its_timeout() -> None:
    # GIVEN a configuration rendered with an OTLP exporter on its defaults (60 s + 10 s)
    rendered = render(
        CollectorConfigOptions(
            preset="sidecar",
            exporters=(OtlpExporter(endpoint=OTLP, protocol="http"),),
            self_telemetry_namespace=None,
        )
    )
    # WHEN its drain budget is measured
    budget = drain_budget(rendered)
    # THEN it is 70 s, and the supervisor told it stops the collector only after it
    assert (budget.seconds, budget.exporter, budget.go_duration) == (70.0, "otlp_http", "70s")
    assert budget.detail == "retries 60s plus timeout 10s"
    assert budget.collector_stop_timeout_seconds == 75.0
    check_fits(budget, stop_timeout_seconds=120)


@pytest.mark.parametrize(
    ("retry_seconds", "timeout_seconds", "self_telemetry"),
    [(60, 10, False), (5, 2.5, False), (100, 10, False), (1, 0.001, False), (60, 10, True)],
)
def test_the_budget_is_the_longest_drain_the_library_measures(
    retry_seconds: float, timeout_seconds: float, self_telemetry: bool
) -> None:
    # GIVEN exporters with different drains (and, optionally, self-telemetry to CloudWatch)
    exporters = (
        OtlpExporter(
            endpoint="otlp.example.com:443",
            retry=RetryOnFailure(max_elapsed_seconds=retry_seconds, initial_interval_seconds=0.5),
            timeout_seconds=timeout_seconds,
        ),
        XRayExporter(),
    )
    rendered = render(
        CollectorConfigOptions(
            preset="sidecar",
            exporters=exporters,
            **({} if self_telemetry else {"self_telemetry_namespace": None}),
        )
    )
    # WHEN the budget is measured
    budget = drain_budget(rendered)
    # THEN it is at least every exporter's own drain, as the library measures it
    assert budget.seconds >= max(exporter.drain_seconds() for exporter in exporters)
    if not self_telemetry:
        assert budget.seconds == max(exporter.drain_seconds() for exporter in exporters)
    # AND what the supervisor is told is never less than the budget, and the stop timeout it
    # derives is longer than the budget
    told = parse_duration(budget.go_duration, setting="budget")
    assert budget.seconds <= told < budget.seconds + 0.001
    assert budget.collector_stop_timeout_seconds == told + SUPERVISOR_MARGIN_SECONDS
    assert budget.collector_stop_timeout_seconds > budget.seconds


def test_self_telemetry_counts_towards_the_budget() -> None:
    # GIVEN the default self-telemetry (awsemf/self: 30 s x 3 SDK attempts) and a quick exporter
    rendered = render(
        CollectorConfigOptions(
            preset="sidecar",
            exporters=(
                OtlpExporter(
                    endpoint="otlp.example.com:443",
                    retry=RetryOnFailure(max_elapsed_seconds=5),
                    timeout_seconds=5,
                ),
            ),
        )
    )
    # WHEN the budget is measured THEN the self-telemetry exporter sets it
    budget = drain_budget(rendered)
    assert (budget.seconds, budget.exporter) == (90.0, "awsemf/self")
    assert budget.detail == "30s x 3 SDK attempts"


def test_the_example_configuration_has_a_zero_budget() -> None:
    # GIVEN the example's configuration (debug exporter only) WHEN measured
    budget = drain_budget(render_config(DEFAULT_CONFIG.read_text(), stop_timeout_seconds=120))
    # THEN nothing retries: the supervisor stops the collector after the margin alone
    assert (budget.seconds, budget.exporter, budget.go_duration) == (0.0, None, "0s")
    assert budget.collector_stop_timeout_seconds == SUPERVISOR_MARGIN_SECONDS


def test_exporters_no_pipeline_uses_do_not_count() -> None:
    # GIVEN a slow exporter that is defined but not in any pipeline
    text = _config(
        "  debug: {}\n  otlphttp/unused:\n    endpoint: https://x.example\n"
        "    timeout: 50s\n    retry_on_failure:\n      max_elapsed_time: 60s\n",
        "debug",
    )
    # WHEN measured THEN it does not count
    assert drain_budget(render_config(text, stop_timeout_seconds=120)).seconds == 0.0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (70, "70s"), (12.5, "12.5s"), (0.1, "0.1s"), (1.0001, "1.001s"), (1e-9, "0.001s")],
)
def test_the_budget_is_told_rounded_up_to_the_millisecond(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_the_cli_prints_the_budget_for_the_supervisor(tmp_path: Path) -> None:
    # GIVEN a configuration whose OTLP exporter retries 60 s with a 10 s timeout
    config = tmp_path / "collector.yaml"
    config.write_text(
        _config(
            "  otlphttp:\n    endpoint: https://x.example\n    timeout: 10s\n"
            "    retry_on_failure:\n      max_elapsed_time: 60s\n",
            "otlphttp",
        )
    )
    # WHEN the tool measures it
    result = _run_script(str(config))
    # THEN it prints the budget as a Go duration, and explains the derived stop timeout
    assert result.returncode == 0, result.stderr
    assert result.stdout == "70s\n"
    assert result.stderr == (
        "drain budget 70s (otlphttp: retries 60s plus timeout 10s); the supervisor stops the "
        "collector after 75s, which leaves the app 45s of stop_timeout_seconds=120 to shut down\n"
    )


def test_the_cli_refuses_a_budget_that_leaves_the_app_no_time(tmp_path: Path) -> None:
    # GIVEN a budget of 115 s: accepted by the library (< 120 s) but 115 s + 5 s is not
    config = tmp_path / "collector.yaml"
    config.write_text(
        _config(
            "  otlphttp:\n    endpoint: https://x.example\n    timeout: 5s\n"
            "    retry_on_failure:\n      max_elapsed_time: 110s\n",
            "otlphttp",
        )
    )
    # WHEN the tool measures it THEN it refuses, naming the budget and both stop timeouts
    result = _run_script(str(config))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {config}: drain budget 115s (otlphttp: retries 110s plus timeout 5s): the "
        "supervisor stops the collector after 120s (the budget plus 5s), which leaves the app "
        "no time to shut down within stop_timeout_seconds=120; shorten that exporter's retries "
        "or timeout\n"
    )


def test_the_cli_refuses_a_budget_beyond_the_container_stop_timeout(tmp_path: Path) -> None:
    # GIVEN the default exporter (70 s) in a container that stops within 60 s
    config = tmp_path / "collector.yaml"
    config.write_text(
        _config(
            "  otlphttp:\n    endpoint: https://x.example\n    timeout: 10s\n"
            "    retry_on_failure:\n      max_elapsed_time: 60s\n",
            "otlphttp",
        )
    )
    # WHEN the tool measures it THEN the library's drain rule refuses it
    result = _run_script(str(config), "--stop-timeout-seconds", "60")
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {config}: replacement: exporters.otlphttp.")
    assert "must be shorter than stop_timeout_seconds=60" in result.stderr


def test_check_fits_accepts_a_budget_that_leaves_time() -> None:
    budget = drain_budget(render_config(DEFAULT_CONFIG.read_text(), stop_timeout_seconds=10))
    check_fits(budget, stop_timeout_seconds=6)
    with pytest.raises(ConfigError, match=r"stop_timeout_seconds=5;"):
        check_fits(budget, stop_timeout_seconds=5)
