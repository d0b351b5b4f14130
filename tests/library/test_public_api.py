"""The public API survives reorganisations: every name users import still imports."""

from __future__ import annotations

import importlib
import re
import sys
import warnings

import pytest

from tests.conftest import REPO_ROOT

#: Every public name of ``otel_fargate`` at 0.1 (the release before the packages by role).
TOP_LEVEL = [
    "COLLECTOR_VERSION", "AllOf", "AmpExporter", "AwsOtlpExporter", "CloudWatchEmfExporter",
    "CloudWatchLogsExporter", "CollectorConfigOptions", "CollectorGateway", "CollectorImage",
    "CollectorMonitoring", "CollectorOptions", "CollectorSamplers", "CollectorSidecar",
    "ConfigError", "DebugExporter", "EnvironmentConfigError", "FluentForwardReceiver",
    "GatewayTls", "HealthCheckTiming", "KeepAttribute", "KeepErrors", "KeepSlow",
    "OAuth2ClientCredentials", "OtelFargateError", "OtlpExporter", "Probabilistic", "RateLimit",
    "RawPolicy", "RenderedConfig", "SamplingTier", "SecretRef", "TailSampling", "TraceRouting",
    "XRayDaemonReceiver", "XRayExporter", "exporters_from_spec", "log_retention", "render",
]
#: Every public name of ``otel_fargate.config`` at 0.1.
CONFIG = [
    "CONFIG_ENV", "DEFAULT_GATEWAY_ENDPOINT", "DEFAULT_HEALTH_CHECK_ENDPOINT",
    "DEFAULT_SELF_TELEMETRY_NAMESPACE", "GATEWAY_TOKEN_ENV", "MIN_MEMORY_MIB", "PRESETS",
    "SIGNALS", "SPEC_TYPES", "AmpExporter", "AwsOtlpExporter", "CloudWatchEmfExporter",
    "CloudWatchLogsExporter", "CollectorConfigOptions", "ConfigError", "DebugExporter",
    "Exporter", "FluentForwardReceiver", "IamNeeds", "LogGroupWrite", "OAuth2ClientCredentials",
    "OtlpExporter", "Preset", "Receiver", "RenderedConfig", "RetryOnFailure", "SecretRef",
    "SendingQueue", "Signal", "Sizing", "XRayDaemonReceiver", "XRayExporter", "build_preset",
    "deep_merge", "describe", "exporters_from_spec", "render", "size_for", "validate_config",
]
#: Every public name of ``otel_fargate.monitoring`` at 0.1.
MONITORING = [
    "CONTAINER_INSIGHTS_NAMESPACE", "CRASH_FILTER_PATTERN", "CRASH_METRIC_NAME",
    "CRASH_METRIC_NAMESPACE", "MAX_ALARM_METRICS", "SIGNAL_UNITS", "CollectorMetrics",
    "CollectorMonitoring", "monitor_collector", "pipeline_components",
]
#: Classes users imported from the role modules, which are packages now.
ROLE_MODULES = [
    ("otel_fargate.sidecar", "CollectorSidecar"),
    ("otel_fargate.gateway", "CollectorGateway"),
    ("otel_fargate.gateway", "GatewayTls"),
    ("otel_fargate.sampling", "CollectorSamplers"),
    ("otel_fargate.config.sampling", "TailSampling"),
    ("otel_fargate.config.sampling", "KeepErrors"),
    ("otel_fargate.config.receivers", "XRayDaemonReceiver"),
    ("otel_fargate.config.exporters", "XRayExporter"),
]


@pytest.mark.parametrize(
    ("module", "names"),
    [("otel_fargate", TOP_LEVEL), ("otel_fargate.config", CONFIG),
     ("otel_fargate.monitoring", MONITORING)],
)
def test_every_public_name_of_the_last_release_still_imports(module: str, names: list[str]) -> None:
    # GIVEN the public names of the last release WHEN each is read from its module
    loaded = importlib.import_module(module)
    missing = [name for name in names if not hasattr(loaded, name)]
    # THEN every one is there and still listed in __all__
    assert missing == []
    assert set(names) <= set(loaded.__all__)


@pytest.mark.parametrize(("module", "name"), ROLE_MODULES)
def test_role_packages_export_their_constructs(module: str, name: str) -> None:
    assert getattr(importlib.import_module(module), name) is getattr(
        importlib.import_module("otel_fargate"), name
    )


def test_old_module_paths_warn_and_load_the_module_at_its_new_home() -> None:
    # GIVEN every module path of the last release that moved
    from otel_fargate._moved import MOVED

    for old, new in MOVED.items():
        sys.modules.pop(f"otel_fargate.{old}", None)
        # WHEN it is imported
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module = importlib.import_module(f"otel_fargate.{old}")
        # THEN it is the module at its new home, with a warning that names both paths
        assert module is importlib.import_module(f"otel_fargate.{new}"), old
        messages = [str(w.message) for w in caught if w.category is DeprecationWarning]
        assert any(f"otel_fargate.{old} moved to otel_fargate.{new}" in m for m in messages), old


def test_the_config_render_function_is_not_shadowed_by_a_module() -> None:
    # GIVEN the rendering package WHEN imported THEN config.render is still the function
    importlib.import_module("otel_fargate.config.rendering.render")
    from otel_fargate import config

    assert callable(config.render) and config.render.__name__ == "render"


def test_the_version_is_semantic_and_starts_the_changelog() -> None:
    # GIVEN the library's version WHEN compared with CHANGELOG.md
    from otel_fargate import __version__

    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text()
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", changelog, re.M)
    # THEN the newest release there is this version (an Unreleased section may come first)
    assert releases and releases[0] == __version__
