"""The gateway accepts the current and the previous bearer token; agents send the current one.

What a rotation (``python -m tools.cli rotate-token``) relies on: the gateway's config lists
both tokens, its container gets both secrets, agents get only the current one, and both
secrets are generated (never empty, never guessable) with no rotation Lambda.
"""

from __future__ import annotations

import json
import re
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Template
from otel_fargate import CollectorGateway, CollectorSidecar, DebugExporter, OtelFargateError
from otel_fargate.config import CollectorConfigOptions, render
from otel_fargate.names import GATEWAY_TOKEN_ENV, GATEWAY_TOKEN_PREVIOUS_ENV, RESERVED_ENV_NAMES

from tests.conftest import Synthesized, collector_config_text, collector_containers
from tests.library.test_constructs import app_task, new_cluster, new_stack

CURRENT = "${env:OTEL_GATEWAY_TOKEN}"
PREVIOUS = "${env:OTEL_GATEWAY_TOKEN_PREVIOUS}"


# -- the rendered configurations -------------------------------------------------------------------


def test_the_gateway_config_accepts_the_current_and_the_previous_token() -> None:
    rendered = render(CollectorConfigOptions(preset="gateway", exporters=(DebugExporter(),)))
    auth = rendered.config["extensions"]["bearertokenauth/gateway"]
    # a list of two tokens, the current first; `token` and `tokens` exclude each other
    assert auth == {"scheme": "Bearer", "tokens": [CURRENT, PREVIOUS]}
    assert rendered.required_env == (GATEWAY_TOKEN_ENV, GATEWAY_TOKEN_PREVIOUS_ENV)


def test_agents_send_only_the_current_token() -> None:
    rendered = render(CollectorConfigOptions(preset="agent"))
    headers = rendered.config["exporters"]["otlp_grpc/gateway"]["headers"]
    assert headers == {"authorization": f"Bearer {CURRENT}"}
    assert rendered.required_env == (GATEWAY_TOKEN_ENV,)
    assert GATEWAY_TOKEN_PREVIOUS_ENV not in rendered.yaml


def test_the_previous_token_variable_is_reserved() -> None:
    assert GATEWAY_TOKEN_PREVIOUS_ENV in RESERVED_ENV_NAMES


# -- the constructs ---------------------------------------------------------------------------------


def _secrets(container: dict[str, Any]) -> dict[str, Any]:
    return {secret["Name"]: secret["ValueFrom"] for secret in container.get("Secrets", [])}


@pytest.fixture(scope="module")
def rotation_stack() -> tuple[cdk.Stack, CollectorGateway]:
    stack = new_stack("RotationStack")
    gateway = CollectorGateway(
        stack, "Gateway", cluster=new_cluster(stack), exporters=[DebugExporter()]
    )
    task, app = app_task(stack, memory=384)
    CollectorSidecar(stack, "Agent", task_definition=task, app_containers=[app], gateway=gateway)
    return stack, gateway


@pytest.fixture(scope="module")
def rotation_template(rotation_stack: tuple[cdk.Stack, CollectorGateway]) -> dict[str, Any]:
    return Template.from_stack(rotation_stack[0]).to_json()


def _gateway_and_agent(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    collectors = collector_containers(template)
    gateway = next(c for c in collectors if "PortMappings" in c)
    agent = next(c for c in collectors if "PortMappings" not in c)
    return gateway, agent


def _logical_id(template: dict[str, Any], construct_id: str) -> str:
    """The logical id of the secret ``Gateway/<construct_id>`` (``Gateway<id><hash>``)."""
    pattern = re.compile(f"^Gateway{construct_id}[0-9A-F]{{8}}$")
    (found,) = [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::SecretsManager::Secret" and pattern.match(logical_id)
    ]
    return found


def test_the_gateway_generates_two_distinct_tokens(rotation_template: dict[str, Any]) -> None:
    secrets = {
        logical_id: resource
        for logical_id, resource in rotation_template["Resources"].items()
        if resource["Type"] == "AWS::SecretsManager::Secret"
    }
    assert len(secrets) == 2
    for resource in secrets.values():
        # random at creation: 48 characters, no punctuation to break a header or YAML
        assert resource["Properties"]["GenerateSecretString"] == {
            "ExcludePunctuation": True,
            "PasswordLength": 48,
        }
        assert "SecretString" not in resource["Properties"]
    # no rotation Lambda: the rotate-token command rotates
    assert not [
        r
        for r in rotation_template["Resources"].values()
        if r["Type"] == "AWS::SecretsManager::RotationSchedule"
    ]


def test_the_gateway_container_has_both_secrets_and_agents_only_the_current(
    rotation_template: dict[str, Any],
) -> None:
    token = _logical_id(rotation_template, "Token")
    previous = _logical_id(rotation_template, "TokenPrevious")
    gateway, agent = _gateway_and_agent(rotation_template)
    assert _secrets(gateway) == {
        GATEWAY_TOKEN_ENV: {"Ref": token},
        GATEWAY_TOKEN_PREVIOUS_ENV: {"Ref": previous},
    }
    assert _secrets(agent) == {GATEWAY_TOKEN_ENV: {"Ref": token}}
    # the configs the containers carry read exactly those variables
    gateway_config = yaml.safe_load(collector_config_text(gateway))
    assert gateway_config["extensions"]["bearertokenauth/gateway"]["tokens"] == [CURRENT, PREVIOUS]
    agent_text = collector_config_text(agent)
    assert f"authorization: Bearer {CURRENT}" in agent_text
    assert "OTEL_GATEWAY_TOKEN_PREVIOUS" not in agent_text


def test_only_the_gateways_execution_role_reads_the_previous_token(
    rotation_template: dict[str, Any],
) -> None:
    previous = _logical_id(rotation_template, "TokenPrevious")
    readers = [
        policy["Properties"]["Roles"]
        for policy in rotation_template["Resources"].values()
        if policy["Type"] == "AWS::IAM::Policy"
        and {"Ref": previous}
        in [
            statement["Resource"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
    ]
    assert len(readers) == 1
    ((role,),) = readers
    assert "GatewayTaskDefinitionExecutionRole" in role["Ref"]


def test_the_nag_acknowledgement_names_the_rotate_command(
    rotation_stack: tuple[cdk.Stack, CollectorGateway],
) -> None:
    gateway = rotation_stack[1]
    for secret in (gateway.token_secret, gateway.previous_token_secret):
        (entry,) = [m.data for m in secret.node.metadata if m.type == "aws:cdk:acknowledged-rules"]
        reason = entry["Annotation::AwsSolutions-SMG4"]
        assert "python -m tools.cli rotate-token" in reason
        assert "gateways before the agents" in reason


def test_a_given_previous_token_secret_is_used() -> None:
    stack = new_stack("GivenPrevious")
    previous = secretsmanager.Secret.from_secret_complete_arn(
        stack,
        "Previous",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:otel/previous-AbC123",
    )
    gateway = CollectorGateway(
        stack,
        "Gateway",
        cluster=new_cluster(stack),
        exporters=[DebugExporter()],
        previous_token_secret=previous,
    )
    assert gateway.previous_token_secret is previous
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SecretsManager::Secret", 1)  # the current token only
    gateway_container, *_ = collector_containers(template.to_json())
    assert _secrets(gateway_container)[GATEWAY_TOKEN_PREVIOUS_ENV] == previous.secret_arn


@pytest.mark.parametrize("same", ["object", "arn"])
def test_the_previous_token_secret_cannot_be_the_current_one(same: str) -> None:
    stack = new_stack(f"SamePrevious{same}")
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:otel/token-AbC123"
    token = secretsmanager.Secret.from_secret_complete_arn(stack, "Token", arn)
    previous = (
        token
        if same == "object"
        else secretsmanager.Secret.from_secret_complete_arn(stack, "Again", arn)
    )
    with pytest.raises(
        OtelFargateError,
        match=r"previous_token_secret: must be another secret than token_secret \(a rotation "
        r"writes one into the other\), got 'SamePrevious\w+/(Token|Again)'",
    ):
        CollectorGateway(
            stack,
            "Gateway",
            cluster=new_cluster(stack),
            exporters=[DebugExporter()],
            token_secret=token,
            previous_token_secret=previous,
        )


# -- the app: rotation changes values, never the exported resource -----------------------------------


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_app_gateway_reads_both_tokens(synthesized: Synthesized, env: str) -> None:
    template = synthesized.templates[f"otel-fargate-{env}-gateway"].to_json()
    # prod's samplers are collectors too, and read no token (the routing gateway reaches
    # them through their security group)
    readers = [c for c in collector_containers(template) if _secrets(c)]
    (gateway,) = readers
    assert set(_secrets(gateway)) == {GATEWAY_TOKEN_ENV, GATEWAY_TOKEN_PREVIOUS_ENV}
    assert _secrets(gateway)[GATEWAY_TOKEN_ENV] != _secrets(gateway)[GATEWAY_TOKEN_PREVIOUS_ENV]


def test_the_demo_imports_only_the_current_token(synthesized: Synthesized) -> None:
    gateway = synthesized.templates["otel-fargate-dev-gateway"].to_json()
    demo = synthesized.templates["otel-fargate-dev-demo"].to_json()
    token = _logical_id(gateway, "Token")
    # the gateway stack exports the current token's ARN and nothing of the previous one
    exports = {
        name: output["Value"]
        for name, output in gateway.get("Outputs", {}).items()
        if "Export" in output
    }
    assert {"Ref": token} in exports.values()
    assert json.dumps(exports).count("TokenPrevious") == 0
    # the demo's agent and its Prometheus scraper both send to the gateway
    agents = collector_containers(demo)
    assert len(agents) == 2
    for agent in agents:
        assert list(_secrets(agent)) == [GATEWAY_TOKEN_ENV]
        assert "Fn::ImportValue" in _secrets(agent)[GATEWAY_TOKEN_ENV]
    assert "TokenPrevious" not in json.dumps(demo)
