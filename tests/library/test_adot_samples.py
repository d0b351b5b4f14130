"""ADOT's public ECS sample configs, verbatim (tests/library/adot/, sources in SOURCES.md),
through config_replacement on the bundled image and on ADOT's own image: each synthesizes
with the IAM its components need, or is refused naming the real reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template
from otel_fargate import CollectorImage, CollectorSidecar, OtelFargateError

from tests.library.test_constructs import app_task, containers, new_stack

ADOT = Path(__file__).parent / "adot"
WORKSPACE = "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-0123abcd/api/v1/remote_write"
#: What the samples read from the environment, as an ADOT user passes it.
ENVIRONMENT = {
    "AWS_PROMETHEUS_ENDPOINT": WORKSPACE,
    "AWS_PROMETHEUS_SCRAPING_ENDPOINT": "127.0.0.1:9404",
}
#: The groups the samples write, under the /aws/ prefix, which only existing groups may use.
ADOT_GROUPS = ["/aws/ecs/application/metrics", "/aws/ecs/containerinsights/{ClusterName}/performance"]
XRAY = {"xray:PutTraceSegments"}
SAMPLING = {"xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"}
LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
APS = {"aps:RemoteWrite"}

#: sample -> the actions it must be granted, or the refusal it gets (a regex)
EXPECTED: dict[str, set[str] | str] = {
    "ecs-default-config.yaml": XRAY | SAMPLING | LOGS,
    "ecs-xray.yaml": XRAY,
    "ecs-cloudwatch.yaml": LOGS,
    "ecs-cloudwatch-xray.yaml": XRAY | LOGS,
    "ecs-amp.yaml": APS,
    "ecs-amp-xray.yaml": APS | XRAY,
    "ecs-amp-prometheus.yaml": APS,
    "ecs-amp-xray-prometheus.yaml": APS | XRAY,
    "otel-task-metrics-config.yaml": XRAY | SAMPLING | LOGS,
    "otel-instance-metrics-config.yaml": r"receivers.awscontainerinsightreceiver: cannot run on Fargate",
}
IMAGES = {"bundled": CollectorImage.bundled, "adot": lambda: CollectorImage.adot("v0.49.0")}


def test_every_sample_has_an_expectation() -> None:
    assert {p.name for p in ADOT.glob("*.yaml")} == set(EXPECTED)


def _actions(template: Template) -> set[str]:
    found: set[str] = set()
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            action = statement["Action"]
            found |= set(action if isinstance(action, list) else [action])
    return found


def _sidecar(sample: str, image: str) -> Any:
    stack = new_stack(f"Adot{image.capitalize()}{abs(hash(sample)) % 10**6}")
    task, app = app_task(stack)
    CollectorSidecar(
        stack,
        "Otel",
        task_definition=task,
        app_containers=[app],
        image=IMAGES[image](),
        config_replacement=(ADOT / sample).read_text(),
        environment=ENVIRONMENT,
        existing_log_groups=ADOT_GROUPS,  # AWS's own groups, created by an earlier ADOT deployment
        allow_open_listeners=True,  # ADOT's samples listen on 0.0.0.0, reachable in the task
        monitoring=False,  # the samples publish no self-metrics
    )
    return Template.from_stack(stack)


@pytest.mark.parametrize("image", sorted(IMAGES))
@pytest.mark.parametrize("sample", sorted(EXPECTED))
def test_sample_synthesizes_with_its_iam_or_is_refused_for_the_real_reason(
    sample: str, image: str
) -> None:
    expected = EXPECTED[sample]
    if isinstance(expected, str):
        with pytest.raises(OtelFargateError, match=expected):
            _sidecar(sample, image)
        return
    template = _sidecar(sample, image)
    assert expected <= _actions(template), sample
    collector = containers(template)["otel-collector"]
    probe = collector["HealthCheck"]["Command"]
    if image == "adot":
        assert probe == ["CMD", "/healthcheck", "--port", "13133"]
    else:
        assert probe[:3] == ["CMD", "/healthcheck", "--url"]


def test_a_named_workspace_scopes_remote_write_to_it() -> None:
    template = _sidecar("ecs-amp.yaml", "bundled")
    statements = [
        s
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Sid") == "PrometheusRemoteWrite"
    ]
    (statement,) = statements
    assert "workspace/ws-0123abcd" in str(statement["Resource"])


def test_the_typed_amp_exporter_writes_to_its_workspace_only() -> None:
    from otel_fargate import AmpExporter, ConfigError
    from otel_fargate.config import CollectorConfigOptions, exporters_from_spec, render

    amp = AmpExporter(workspace_id="ws-0123abcd", region="eu-west-1")
    rendered = render(CollectorConfigOptions(preset="sidecar", exporters=(amp,)))
    exporter = rendered.config["exporters"]["prometheus_remote_write"]
    assert exporter["endpoint"] == WORKSPACE
    assert rendered.config["extensions"]["sigv4auth/amp"] == {"region": "eu-west-1", "service": "aps"}
    assert rendered.iam.aps_workspaces == (("eu-west-1", "ws-0123abcd"),)
    assert "metrics" in rendered.config["service"]["pipelines"]
    assert "traces" not in rendered.config["service"]["pipelines"]
    # AND cdk.json takes it as "amp"
    (parsed,) = exporters_from_spec({"amp": {"workspace_id": "ws-0123abcd", "region": "eu-west-1"}})
    assert parsed == amp
    with pytest.raises(ConfigError, match=r"^exporters.prometheus_remote_write.workspace_id: must be a workspace id"):
        AmpExporter(workspace_id="my-workspace", region="eu-west-1")
