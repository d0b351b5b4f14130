"""Names that end up in AWS resources refuse variables and reserved prefixes."""

from __future__ import annotations

import pytest
from otel_fargate.config import CollectorConfigOptions, ConfigError, DebugExporter


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("self_telemetry_namespace", "${env:OTEL_GATEWAY_TOKEN}", r"^self_telemetry_namespace: must be .*without \$\{ .*got '\$\{env:OTEL_GATEWAY_TOKEN\}'$"),
        ("self_telemetry_namespace", "App/${env:X}", r"^self_telemetry_namespace: .*got 'App/\$\{env:X\}'$"),
        ("self_telemetry_log_group", "/aws/ecs/{TaskId}", r"^self_telemetry_log_group: must be .*outside the reserved /aws/ prefix.*got '/aws/ecs/\{TaskId\}'$"),
        ("self_telemetry_log_group", "/otel/${env:X}", r"^self_telemetry_log_group: .*without \$\{ .*got '/otel/\$\{env:X\}'$"),
    ],
)
def test_names_with_variables_or_reserved_prefixes_are_refused(setting: str, value: str, message: str) -> None:
    # GIVEN a name that becomes a CloudWatch namespace or an IAM grant WHEN it holds ${ or /aws/
    # THEN the options refuse it, naming the setting and the value
    with pytest.raises(ConfigError, match=message):
        CollectorConfigOptions(preset="sidecar", exporters=(DebugExporter(),), **{setting: value})  # type: ignore[arg-type]


def test_plain_names_are_accepted() -> None:
    # GIVEN ordinary names THEN they are accepted
    options = CollectorConfigOptions(
        preset="sidecar", exporters=(DebugExporter(),),
        self_telemetry_namespace="Team/Collector", self_telemetry_log_group="/team/collector-metrics",
    )
    assert options.self_telemetry_namespace == "Team/Collector"
