"""End to end: the collector built from docker/builder-config.yaml at the pinned version.

The first run builds it with the OpenTelemetry Collector Builder (minutes); later runs reuse
the cached binary. Needs Go and the Go module proxy: a missing toolchain fails the test.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml
from otel_fargate.versions import COLLECTOR_VERSION

from tools import collector

pytestmark = pytest.mark.e2e

GOOD_CONFIG = textwrap.dedent(
    """\
    extensions:
      health_check:
        endpoint: 127.0.0.1:13133
    receivers:
      otlp:
        protocols:
          grpc:
            endpoint: 127.0.0.1:4317
          http:
            endpoint: 127.0.0.1:4318
    processors:
      memory_limiter:
        check_interval: 1s
        limit_percentage: 80
        spike_limit_percentage: 25
      batch: {}
    exporters:
      debug:
        verbosity: basic
    service:
      extensions: [health_check]
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter, batch]
          exporters: [debug]
        metrics:
          receivers: [otlp]
          processors: [memory_limiter, batch]
          exporters: [debug]
    """
)

#: Component types the locally built collector must contain (the manifest minus LOCAL_EXCLUDE).
#: Each entry lists the accepted names: since v0.15x some types have a new name and keep the
#: old one as a deprecated alias (`otlphttp` -> `otlp_http`, `resource_detection` ->
#: `resource_detection`); `components` lists only the new one.
EXPECTED_COMPONENTS: dict[str, list[tuple[str, ...]]] = {
    "receivers": [("otlp",)],
    "processors": [
        ("memory_limiter",),
        ("batch",),
        ("resource_detection", "resource_detection"),
        ("resource",),
        ("attributes",),
        ("filter",),
    ],
    "exporters": [("otlp_grpc", "otlp"), ("otlp_http", "otlphttp"), ("debug",)],
    "extensions": [("health_check",), ("bearertokenauth",), ("oauth2client",), ("zpages",)],
}


@pytest.fixture(scope="session")
def otelcol() -> Path:
    """The collector binary, built once per cache (see tools/collector.py)."""
    return collector.build_collector()


def _validate(binary: Path, config: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.yaml"
    path.write_text(config)
    return subprocess.run(
        [str(binary), "validate", f"--config={path}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_collector_reports_the_pinned_version(otelcol: Path) -> None:
    # WHEN asked for its version; THEN it is the pinned one
    result = subprocess.run(
        [str(otelcol), "--version"], capture_output=True, text=True, check=False, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert COLLECTOR_VERSION in result.stdout


def test_collector_contains_the_components_the_presets_use(otelcol: Path) -> None:
    # WHEN the collector lists its components
    result = subprocess.run(
        [str(otelcol), "components"], capture_output=True, text=True, check=False, timeout=30
    )
    assert result.returncode == 0, result.stderr
    listed = yaml.safe_load(result.stdout)
    # THEN every expected component type is there
    for kind, expected in EXPECTED_COMPONENTS.items():
        present = {entry["name"] for entry in listed[kind]}
        missing = [names for names in expected if not present.intersection(names)]
        assert missing == [], f"{kind}: none of {missing} in {sorted(present)}"
    providers = {entry["scheme"] for entry in listed["providers"]}
    assert {"env", "file", "yaml"} <= providers


def test_validate_accepts_a_minimal_config_from_a_file(otelcol: Path, tmp_path: Path) -> None:
    # GIVEN otlp -> memory_limiter -> batch -> debug with health_check; WHEN validated
    result = _validate(otelcol, GOOD_CONFIG, tmp_path)
    # THEN the collector accepts it
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("kind", "name", "settings"),
    [
        ("processors", "resource_detection", "detectors: [env, ecs]"),
        ("processors", "resource_detection", "detectors: [env, ecs]"),
        ("processors", "resource", "attributes: [{key: a, value: b, action: upsert}]"),
        ("exporters", "otlp", "endpoint: 127.0.0.1:4317"),
        ("exporters", "otlphttp", "endpoint: http://127.0.0.1:4318"),
    ],
)
def test_validate_accepts_old_and_new_component_names(
    otelcol: Path, tmp_path: Path, kind: str, name: str, settings: str
) -> None:
    # GIVEN the minimal config with one more component in the traces pipeline
    config = GOOD_CONFIG.replace(f"{kind}:\n", f"{kind}:\n  {name}:\n    {settings}\n", 1)
    listed = "processors: [memory_limiter, batch]" if kind == "processors" else "exporters: [debug]"
    extended = listed.replace("]", f", {name}]")
    config = config.replace(listed, extended, 1)
    # WHEN validated
    result = _validate(otelcol, config, tmp_path)
    # THEN the collector accepts it
    assert result.returncode == 0, result.stderr


def test_validate_accepts_the_config_from_an_environment_variable(otelcol: Path) -> None:
    # GIVEN the config in OTEL_FARGATE_CONFIG, as the task definition passes it
    env = {**os.environ, "OTEL_FARGATE_CONFIG": GOOD_CONFIG}
    # WHEN validated through the env: provider
    result = subprocess.run(
        [str(otelcol), "validate", "--config=env:OTEL_FARGATE_CONFIG"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=env,
    )
    # THEN the collector accepts it
    assert result.returncode == 0, result.stderr


def test_validate_rejects_a_broken_config_from_an_environment_variable(otelcol: Path) -> None:
    # GIVEN a config in the environment that references an exporter it does not define
    broken = GOOD_CONFIG.replace("exporters: [debug]", "exporters: [otlp_grpc/missing]", 1)
    env = {**os.environ, "OTEL_FARGATE_CONFIG": broken}
    # WHEN validated
    result = subprocess.run(
        [str(otelcol), "validate", "--config=env:OTEL_FARGATE_CONFIG"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=env,
    )
    # THEN the collector rejects it, naming the missing component
    assert result.returncode != 0
    assert "otlp_grpc/missing" in result.stderr


def test_validate_rejects_a_pipeline_using_an_undefined_component(
    otelcol: Path, tmp_path: Path
) -> None:
    # GIVEN a pipeline whose processor is not configured
    broken = GOOD_CONFIG.replace(
        "processors: [memory_limiter, batch]", "processors: [memory_limiter, batch/undefined]", 1
    )
    # WHEN validated
    result = _validate(otelcol, broken, tmp_path)
    # THEN the collector rejects it, naming the component
    assert result.returncode != 0
    assert "batch/undefined" in result.stderr


def test_validate_rejects_a_component_type_not_built_in(otelcol: Path, tmp_path: Path) -> None:
    # GIVEN a receiver type the slim distribution does not contain
    broken = GOOD_CONFIG.replace(
        "receivers:\n  otlp:", "receivers:\n  kafka: {}\n  otlp:", 1
    ).replace("receivers: [otlp]", "receivers: [otlp, kafka]", 1)
    # WHEN validated
    result = _validate(otelcol, broken, tmp_path)
    # THEN the collector rejects it, naming the unknown type
    assert result.returncode != 0
    assert "kafka" in result.stderr


def test_second_build_is_served_from_the_cache(otelcol: Path) -> None:
    # GIVEN the collector already built; WHEN built again; THEN the same cached binary returns
    assert collector.build_collector() == otelcol
    assert otelcol.parent.name.startswith("otelcol-")
    assert (otelcol.parent / "builder-config.yaml").is_file()


def test_telemetrygen_is_installed_and_runs() -> None:
    # WHEN telemetrygen is built
    binary = collector.build_telemetrygen()
    # THEN it runs and knows its traces command
    result = subprocess.run(
        [str(binary), "traces", "--help"], capture_output=True, text=True, check=False, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "--otlp-endpoint" in result.stdout + result.stderr
