"""EmbeddedCollector: the app container that carries the collector, as ECS gets it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Template
from otel_fargate import (
    CollectorImage,
    CollectorOptions,
    EmbeddedCollector,
    OtelFargateError,
    OtlpExporter,
    SecretRef,
    XRayExporter,
)
from otel_fargate.config import RetryOnFailure
from otel_fargate.config.policy.budget import SUPERVISOR_MARGIN_SECONDS

from tests.library.test_constructs import policy_actions

IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:1"
OTLP = OtlpExporter(endpoint="otlp.example.com:443")


def new_task() -> tuple[cdk.Stack, ecs.FargateTaskDefinition]:
    stack = cdk.Stack(
        cdk.App(), "Embedded", env=cdk.Environment(account="123456789012", region="eu-west-1")
    )
    return stack, ecs.FargateTaskDefinition(stack, "Task", cpu=512, memory_limit_mib=1024)


def embed(stack: cdk.Stack, task: ecs.FargateTaskDefinition, **kwargs: Any) -> EmbeddedCollector:
    args: dict[str, Any] = {
        "task_definition": task,
        "app_image": ecs.ContainerImage.from_registry(IMAGE),
        "command": ["python", "app.py"],
        "exporters": OTLP,
        **kwargs,
    }
    return EmbeddedCollector(stack, "Shop", **args)


@pytest.fixture(scope="module")
def embedded() -> tuple[EmbeddedCollector, dict[str, Any], Template]:
    stack, task = new_task()
    token = secretsmanager.Secret(stack, "ApiKey")
    construct = embed(
        stack,
        task,
        exporters=[OTLP, XRayExporter()],
        container_name="shop",
        app_shutdown_seconds=20,
        app_environment={"OTEL_SERVICE_NAME": "shop-api", "LOG_LEVEL": "info"},
        app_secrets={"DB_PASSWORD": ecs.Secret.from_secrets_manager(token)},
        port_mappings=[ecs.PortMapping(container_port=8080)],
        environment_name="prod",
    )
    template = Template.from_stack(stack)
    (definition,) = template.find_resources("AWS::ECS::TaskDefinition").values()
    (container,) = definition["Properties"]["ContainerDefinitions"]
    return construct, container, template


def environment(container: dict[str, Any]) -> dict[str, Any]:
    return {entry["Name"]: entry["Value"] for entry in container["Environment"]}


def test_the_supervisor_runs_the_app_with_the_collector_and_a_bounded_drain(
    embedded: tuple[EmbeddedCollector, dict[str, Any], Template],
) -> None:
    construct, container, _ = embedded
    # THEN the entry point is the supervisor with the collector, the probe and the drain
    budget = construct.drain_budget
    # awsemf/self and awsxray: 30 s x 3 SDK attempts each, longer than OTLP's 60 s + 10 s
    assert (budget.seconds, budget.exporter) == (90, "awsemf/self")
    drain = 120 - 20 - (budget.seconds + SUPERVISOR_MARGIN_SECONDS)
    assert construct.drain_timeout_seconds == int(drain) == 5
    assert container["EntryPoint"] == [
        "/supervisor",
        "--collector=/otelcol-contrib",
        "--probe=/healthcheck",
        "--probe-url=http://127.0.0.1:13133/",
        "--drain-metrics-url=http://127.0.0.1:8888/metrics",
        "--drain-timeout=5s",
        "--",
    ]
    assert container["Command"] == ["python", "app.py"]
    assert container["StopTimeout"] == 120
    assert container["Essential"] is True
    # AND the probe is the container's health check (exec form: the image may have no shell)
    assert container["HealthCheck"]["Command"] == [
        "CMD", "/healthcheck", "--url", "http://127.0.0.1:13133/", "--timeout", "2s",
    ]  # fmt: skip


def test_the_container_carries_the_configuration_its_budget_and_the_apps_variables(
    embedded: tuple[EmbeddedCollector, dict[str, Any], Template],
) -> None:
    construct, container, _ = embedded
    env = environment(container)
    assert env["OTEL_FARGATE_CONFIG"] == construct.rendered_config.yaml
    assert env["OTEL_FARGATE_DRAIN_BUDGET"] == "90s"
    assert env["GOMEMLIMIT"] == construct.rendered_config.environment["GOMEMLIMIT"]
    config = yaml.safe_load(env["OTEL_FARGATE_CONFIG"])
    assert config["processors"]["memory_limiter"]["limit_mib"] < 256  # the collector's share
    # AND the app's OTLP variables point at the collector in the same container
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert env["OTEL_PROPAGATORS"] == "tracecontext,baggage,xray"  # it writes to X-Ray
    assert "deployment.environment.name=prod" in env["OTEL_RESOURCE_ATTRIBUTES"]
    # AND the app's own variables are kept, its service name replacing the default
    assert env["OTEL_SERVICE_NAME"] == "shop-api"
    assert env["LOG_LEVEL"] == "info"
    assert [s["Name"] for s in container["Secrets"]] == ["DB_PASSWORD"]
    assert container["PortMappings"][0]["ContainerPort"] == 8080


def test_the_task_role_gets_what_the_exporters_need_and_nothing_else(
    embedded: tuple[EmbeddedCollector, dict[str, Any], Template],
) -> None:
    construct, container, template = embedded
    assert construct.export_policy is not None
    actions = policy_actions(template)
    assert "xray:PutTraceSegments" in actions
    assert not any(action.startswith("ssm:") for action in actions)
    # AND the container logs to the construct's log group, app and collector alike
    options = container["LogConfiguration"]["Options"]
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"
    assert options["awslogs-stream-prefix"] == "shop"
    # AND the collector's own alarms watch it
    assert construct.monitoring is not None
    assert template.find_resources("AWS::CloudWatch::Alarm")


def test_the_configurations_secrets_reach_the_container_as_ecs_secrets() -> None:
    stack, task = new_task()
    ref = SecretRef(env_name="BACKEND_TOKEN", secret_id="otel/backend-token")
    exporter = OtlpExporter(endpoint="otlp.example.com:443", headers={"x-api-key": ref})
    embed(stack, task, exporters=exporter)
    (definition,) = Template.from_stack(stack).find_resources("AWS::ECS::TaskDefinition").values()
    (container,) = definition["Properties"]["ContainerDefinitions"]
    assert [s["Name"] for s in container["Secrets"]] == ["BACKEND_TOKEN"]
    assert "BACKEND_TOKEN" not in environment(container)


def refused(build: Callable[[cdk.Stack, ecs.FargateTaskDefinition], object], match: str) -> None:
    stack, task = new_task()
    with pytest.raises(OtelFargateError, match=match):
        build(stack, task)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"persistent_queues": True}, r"^persistent_queues: an embedded collector keeps"),
        ({"command": []}, r"^command: must be the app's command line"),
        ({"command": "python app.py"}, r"^command: must be the app's command line"),
        ({"exporters": ()}, r"^exporters: an embedded collector needs at least one exporter"),
        ({"collector_memory_mib": 1024}, r"^collector_memory_mib: .*got 1024"),
        ({"collector_cpu": 1024}, r"^collector_cpu: .*got 1024"),
        ({"app_protocol": "thrift"}, r"^app_protocol: "),
        ({"container_name": "otel-collector"}, r"^container_name: .*'otel-collector'"),
        ({"container_name": "my app"}, r"^container_name: must be 1-255 letters"),
        ({"probe_path": "healthcheck"}, r"^probe_path: must be an absolute path"),
        (
            {"app_environment": {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://other:4318"}},
            r"^app_environment\['OTEL_EXPORTER_OTLP_ENDPOINT'\]: is set by the construct",
        ),
        (
            {"app_environment": {"OTEL_FARGATE_CONFIG": "receivers: {}"}},
            r"^app_environment\['OTEL_FARGATE_CONFIG'\]: is the embedded collector's own",
        ),
        (
            {"app_environment": {"GOMEMLIMIT": "900MiB"}},
            r"^app_environment\['GOMEMLIMIT'\]: is the embedded collector's own",
        ),
        # 90 s of X-Ray SDK attempts + 5 s, after 30 s of app shutdown, pass 120 s
        (
            {"exporters": XRayExporter(), "app_shutdown_seconds": 30},
            r"^exporters: drain budget 90s \(awsemf/self: .*app_shutdown_seconds",
        ),
        (
            {
                "exporters": OtlpExporter(
                    endpoint="otlp.example.com:443",
                    retry=RetryOnFailure(max_elapsed_seconds=100),
                ),
                "self_telemetry_namespace": None,
            },
            r"^exporters: drain budget 110s \(otlp_grpc: retries 100s plus timeout 10s\): "
            r"the supervisor stops the collector after 115s",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_setting(kwargs: dict[str, Any], match: str) -> None:
    refused(lambda stack, task: embed(stack, task, **kwargs), match)


def test_the_collector_image_option_is_refused() -> None:
    stack, task = new_task()
    with pytest.raises(OtelFargateError, match=r"^image: an embedded collector runs inside"):
        embed(stack, task, options=CollectorOptions(image=CollectorImage.slim()))


def test_an_app_secret_named_like_a_variable_is_refused() -> None:
    def build(stack: cdk.Stack, task: ecs.FargateTaskDefinition) -> object:
        secret = ecs.Secret.from_secrets_manager(secretsmanager.Secret(stack, "S"))
        return embed(stack, task, app_secrets={"OTEL_SERVICE_NAME": secret})

    refused(build, r"^app_secrets: names a variable the container already sets")


def test_a_task_without_awsvpc_networking_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "Ec2")
    task = ecs.Ec2TaskDefinition(stack, "Task", network_mode=ecs.NetworkMode.BRIDGE)
    with pytest.raises(OtelFargateError, match=r"^task_definition: must use awsvpc networking"):
        embed(stack, task)  # type: ignore[arg-type]


def test_a_container_larger_than_its_task_fails_synth_naming_the_sizes() -> None:
    stack, task = new_task()
    embed(stack, task, memory_mib=2048, collector_memory_mib=256)
    with pytest.raises(Exception, match=r"memory_mib: the containers of task .* reserve 2048 MiB"):
        cdk.App.of(stack).synth()  # type: ignore[union-attr]
