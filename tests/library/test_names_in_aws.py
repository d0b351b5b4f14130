"""Names that end up in AWS resources refuse variables and reserved prefixes."""

from __future__ import annotations

import re

import pytest
from otel_fargate.config import (
    CollectorConfigOptions,
    ConfigError,
    DebugExporter,
    SecretRef,
    render,
)

from tests.library.guard_cases import HOSTILE, LEGITIMATE, Case, options


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("self_telemetry_namespace", "${env:OTEL_GATEWAY_TOKEN}", r"^self_telemetry_namespace: must be .*without \$\{ .*got '\$\{env:OTEL_GATEWAY_TOKEN\}'$"),
        ("self_telemetry_namespace", "App/${env:X}", r"^self_telemetry_namespace: .*got 'App/\$\{env:X\}'$"),
        ("self_telemetry_log_group", "/aws/ecs/{TaskId}", r"^self_telemetry_log_group: must be .*outside the prefixes reserved to AWS.*got '/aws/ecs/\{TaskId\}'$"),
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


def _grant(name: str) -> str:
    """The IAM pattern the stack grants for a log group name (placeholders become ``*``)."""
    return re.sub(r"\{[^}]*\}", "*", name)


@pytest.mark.parametrize("case", LEGITIMATE, ids=[case.id for case in LEGITIMATE])
def test_no_accepted_configuration_grants_a_whole_reserved_prefix(case: Case) -> None:
    # GIVEN every configuration the guards accept WHEN its IAM needs are derived
    needs = render(options(case)).iam
    # THEN no log-group grant's wildcard reaches into the first segment after /aws/ or aws/
    for group in needs.log_groups_written:
        grant = _grant(group.name)
        for prefix in ("/aws/", "aws/"):
            if grant.startswith(prefix) and "*" in grant:
                assert "/" in grant[len(prefix) : grant.index("*")], (case.id, grant)


def test_the_reserved_prefix_cases_are_in_the_table() -> None:
    # GIVEN the tables THEN /aws/ and aws/ names are both refused and accepted somewhere, so the
    # rule is held to a counter-example each way
    refused = {case.id for case in HOSTILE if "reserved" in case.id or "vended" in case.id}
    accepted = {case.id for case in LEGITIMATE if "reserved" in case.id or case.id.startswith("adot-")}
    assert len(refused) >= 6 and len(accepted) >= 3


@pytest.mark.parametrize("secret_id", ["${env:SECRET_NAME}", "team/${env:STAGE}/api-key", "/team/${STAGE}/key"])
def test_a_secret_named_with_a_variable_is_refused(secret_id: str) -> None:
    # GIVEN a secret id holding a variable (the execution role's grant and ECS's valueFrom are
    # written at synth; Secrets Manager and SSM names take no '$' or braces)
    # WHEN it is given THEN it is refused, naming the setting and the value
    with pytest.raises(ConfigError, match=r"^SecretRef\.secret_id: .*got '" + re.escape(secret_id) + "'$"):
        SecretRef(env_name="API_KEY", secret_id=secret_id, kind="ssm" if secret_id.startswith("/") else "secretsmanager")


@pytest.mark.parametrize("secret_id", ["team/prod/api-key", "${Token[TOKEN.123]}", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/key-AbCdEf"])
def test_a_secret_named_plainly_or_by_a_cdk_token_is_accepted(secret_id: str) -> None:
    # GIVEN a secret name, a CDK token (a secret from another stack) or an ARN THEN it is accepted
    assert SecretRef(env_name="API_KEY", secret_id=secret_id).secret_id == secret_id
