"""CollectorSidecar and CollectorGateway: one behaviour per test, each small stack synthesized once."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_servicediscovery as servicediscovery
from aws_cdk.assertions import Match, Template
from otel_fargate import (
    CloudWatchEmfExporter,
    CollectorGateway,
    CollectorImage,
    CollectorSidecar,
    DebugExporter,
    OtelFargateError,
    OtlpExporter,
    SecretRef,
    XRayExporter,
)

from tests.conftest import collector_config_text, collector_containers, container_environment


def new_stack(name: str) -> cdk.Stack:
    return cdk.Stack(cdk.App(), name, env=cdk.Environment(account="123456789012", region="eu-west-1"))


def new_cluster(stack: cdk.Stack, *, namespace: bool = True) -> ecs.Cluster:
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    return ecs.Cluster(
        stack,
        "Cluster",
        vpc=vpc,
        default_cloud_map_namespace=(
            ecs.CloudMapNamespaceOptions(
                name="test.internal",
                type=servicediscovery.NamespaceType.HTTP,
                use_for_service_connect=True,
            )
            if namespace
            else None
        ),
    )


def app_task(stack: cdk.Stack, *, env: dict[str, str] | None = None) -> tuple[ecs.FargateTaskDefinition, ecs.ContainerDefinition]:
    task = ecs.FargateTaskDefinition(stack, "Task", cpu=512, memory_limit_mib=1024)
    app = task.add_container(
        "app",
        container_name="checkout",
        image=ecs.ContainerImage.from_registry("public.ecr.aws/docker/library/busybox:1.36"),
        memory_limit_mib=512,
        cpu=256,
        environment=env,
    )
    return task, app


def containers(template: Template) -> dict[str, dict[str, Any]]:
    definitions = template.find_resources("AWS::ECS::TaskDefinition")
    return {
        c["Name"]: c
        for resource in definitions.values()
        for c in resource["Properties"]["ContainerDefinitions"]
    }


def policy_actions(template: Template) -> set[str]:
    """Actions granted to task roles (what the collector process may call)."""
    task_roles = set(template.find_resources("AWS::IAM::Role", {
        "Properties": {"AssumeRolePolicyDocument": {"Statement": [Match.object_like({
            "Principal": {"Service": "ecs-tasks.amazonaws.com"}})]}}
    }))
    execution_roles = {
        role for role in task_roles if "ExecutionRole" in role
    }
    actions: set[str] = set()
    for policy in template.find_resources("AWS::IAM::Policy").values():
        roles = {ref.get("Ref") for ref in policy["Properties"].get("Roles", [])}
        if not roles & (task_roles - execution_roles):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            found = statement["Action"]
            actions |= set(found if isinstance(found, list) else [found])
    return actions


# -- the standalone sidecar ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sidecar_template() -> Template:
    stack = new_stack("SidecarStack")
    task, app = app_task(stack, env={"OTEL_SERVICE_NAME": "kept-by-user"})
    CollectorSidecar(
        stack,
        "Otel",
        task_definition=task,
        app_containers=[app],
        environment_name="dev",
        exporters=[
            XRayExporter(),
            CloudWatchEmfExporter(namespace="Shop", log_group_name="/shop/metrics", retention_days=14),
        ],
    )
    return Template.from_stack(stack)


def test_sidecar_adds_the_collector_container(sidecar_template: Template) -> None:
    collector = containers(sidecar_template)["otel-collector"]
    assert collector["Cpu"] == 256 and collector["Memory"] == 512
    assert collector["Essential"] is False
    assert collector["RestartPolicy"] == {"Enabled": True, "RestartAttemptPeriod": 60}
    assert collector["StopTimeout"] == 120
    assert collector["Command"] == ["--config=env:OTEL_FARGATE_CONFIG"]
    assert collector["HealthCheck"] == {
        "Command": ["CMD", "/healthcheck", "--url", "http://127.0.0.1:13133/", "--timeout", "2s"],
        "Interval": 10,
        "Timeout": 5,
        "Retries": 3,
        "StartPeriod": 30,
    }
    env = container_environment(collector)
    # GOMEMLIMIT leaves headroom below the 512 MiB container limit
    assert env["GOMEMLIMIT"].endswith("MiB") and int(env["GOMEMLIMIT"][:-3]) < 512
    assert env["GOMAXPROCS"] == "1"
    assert "memory_limiter" in collector_config_text(collector)


def test_sidecar_logs_to_a_log_group_with_retention(sidecar_template: Template) -> None:
    sidecar_template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})
    collector = containers(sidecar_template)["otel-collector"]
    assert collector["LogConfiguration"]["LogDriver"] == "awslogs"


def test_app_containers_get_otlp_environment_and_wait_for_healthy(sidecar_template: Template) -> None:
    app = containers(sidecar_template)["checkout"]
    env = container_environment(app)
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert "deployment.environment.name=dev" in env["OTEL_RESOURCE_ATTRIBUTES"]
    # X-Ray is exported, so the X-Ray propagator is on
    assert env["OTEL_PROPAGATORS"] == "tracecontext,baggage,xray"
    assert app["DependsOn"] == [{"ContainerName": "otel-collector", "Condition": "HEALTHY"}]


def test_values_the_user_set_are_kept(sidecar_template: Template) -> None:
    env = container_environment(containers(sidecar_template)["checkout"])
    assert env["OTEL_SERVICE_NAME"] == "kept-by-user"


def test_sidecar_iam_follows_the_exporters(sidecar_template: Template) -> None:
    actions = policy_actions(sidecar_template)
    assert {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "logs:PutLogEvents"} <= actions
    assert "cloudwatch:PutMetricData" not in actions  # EMF goes through CloudWatch Logs
    assert not any(a.endswith("*") for a in actions)
    sidecar_template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "LogsWrite",
                                "Resource": Match.array_with(
                                    [Match.object_like({"Fn::Join": Match.any_value()})]
                                ),
                            }
                        )
                    ]
                )
            }
        },
    )
    # the exporters' log groups are created by the stack, with their retention
    sidecar_template.has_resource_properties(
        "AWS::Logs::LogGroup", {"LogGroupName": "/shop/metrics", "RetentionInDays": 14}
    )


@pytest.fixture(scope="module")
def debug_only_template() -> Template:
    stack = new_stack("DebugSidecarStack")
    task, app = app_task(stack)
    CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app], exporters=[DebugExporter()],
        self_telemetry_namespace=None, restart_alarm=False,
    )
    return Template.from_stack(stack)


def test_no_aws_exporter_means_no_aws_permissions(debug_only_template: Template) -> None:
    actions = policy_actions(debug_only_template)
    assert not {a for a in actions if a.startswith(("xray:", "logs:PutLogEvents", "cloudwatch:"))}
    env = container_environment(containers(debug_only_template)["checkout"])
    assert env["OTEL_PROPAGATORS"] == "tracecontext,baggage"


def test_a_changed_config_changes_the_task_definition(
    sidecar_template: Template, debug_only_template: Template
) -> None:
    first = collector_config_text(containers(sidecar_template)["otel-collector"])
    second = collector_config_text(containers(debug_only_template)["otel-collector"])
    assert first != second  # the config is part of the task definition, so a deploy rolls it out


@pytest.fixture(scope="module")
def secret_header_template() -> Template:
    stack = new_stack("SecretHeaderStack")
    task, app = app_task(stack)
    CollectorSidecar(
        stack,
        "Otel",
        task_definition=task,
        app_containers=[app],
        exporters=[
            OtlpExporter(
                name="honeycomb",
                endpoint="api.honeycomb.io:443",
                headers={
                    "x-honeycomb-team": SecretRef(
                        env_name="HONEYCOMB_API_KEY", secret_id="honeycomb/api-key"
                    )
                },
            )
        ],
    )
    return Template.from_stack(stack)


def test_secrets_reach_the_collector_through_ecs_secrets(secret_header_template: Template) -> None:
    collector = containers(secret_header_template)["otel-collector"]
    assert [s["Name"] for s in collector["Secrets"]] == ["HONEYCOMB_API_KEY"]
    assert "${env:HONEYCOMB_API_KEY}" in collector_config_text(collector)
    assert "honeycomb/api-key" not in collector_config_text(collector)
    # only the execution role may read it, scoped to that secret
    secret_grants = [
        statement
        for policy in secret_header_template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "secretsmanager:GetSecretValue" in statement["Action"]
    ]
    assert len(secret_grants) == 1
    assert "honeycomb/api-key" in str(secret_grants[0]["Resource"])


# -- sidecar errors --------------------------------------------------------------------------------


def _sidecar_error(build: Callable[[cdk.Stack], None]) -> None:
    build(new_stack("Bad"))


def test_task_definition_must_be_awsvpc() -> None:
    def build(stack: cdk.Stack) -> None:
        task = ecs.Ec2TaskDefinition(stack, "Task", network_mode=ecs.NetworkMode.BRIDGE)
        CollectorSidecar(stack, "Otel", task_definition=task, exporters=[DebugExporter()])

    with pytest.raises(OtelFargateError, match=r"task_definition: must use awsvpc networking.*got 'Bad/Task'"):
        _sidecar_error(build)


def test_task_definition_must_be_fargate_compatible() -> None:
    def build(stack: cdk.Stack) -> None:
        task = ecs.Ec2TaskDefinition(stack, "Task", network_mode=ecs.NetworkMode.AWS_VPC)
        CollectorSidecar(stack, "Otel", task_definition=task, exporters=[DebugExporter()])

    with pytest.raises(OtelFargateError, match=r"task_definition: must be Fargate-compatible, got 'Bad/Task'"):
        _sidecar_error(build)


def test_two_sidecars_in_one_task_are_refused() -> None:
    def build(stack: cdk.Stack) -> None:
        task, _ = app_task(stack)
        CollectorSidecar(stack, "One", task_definition=task, exporters=[DebugExporter()], cpu=128, memory_mib=256)
        CollectorSidecar(stack, "Two", task_definition=task, exporters=[DebugExporter()], cpu=128, memory_mib=256)

    with pytest.raises(OtelFargateError, match=r"already has a 'otel-collector' container"):
        _sidecar_error(build)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"memory_mib": 600}, r"memory_mib: .*fit the task \(1024 MiB, 512 MiB already reserved.*got 600"),
        ({"cpu": 512}, r"cpu: .*fit the task \(512 units, 256 already reserved.*got 512"),
        ({"app_protocol": "thrift"}, r"app_protocol: must be 'http/protobuf' or 'grpc', got 'thrift'"),
        ({"restart_attempt_period_seconds": 30}, r"restart_attempt_period_seconds: ECS accepts 60 to 1800.*got 30"),
        ({"stop_timeout_seconds": 300}, r"stop_timeout_seconds: Fargate accepts 2 to 120 seconds, got 300"),
        ({"exporters": []}, r"exporters: a sidecar without a gateway needs at least one exporter, got \(\)"),
        ({"log_retention_days": 10}, r"log_retention_days: CloudWatch Logs retention must be one of .*got 10"),
        (
            {"image": CollectorImage.from_registry("otel/opentelemetry-collector-contrib:0.1")},
            r"image: the image has no health probe",
        ),
    ],
)
def test_sidecar_bad_input(kwargs: dict[str, Any], message: str) -> None:
    def build(stack: cdk.Stack) -> None:
        task, app = app_task(stack)
        options: dict[str, Any] = {"exporters": [DebugExporter()], **kwargs}
        CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app], **options)

    with pytest.raises(OtelFargateError, match=message):
        _sidecar_error(build)


def test_app_container_from_another_task_definition_is_refused() -> None:
    def build(stack: cdk.Stack) -> None:
        task, _ = app_task(stack)
        other = ecs.FargateTaskDefinition(stack, "Other")
        stranger = other.add_container("x", image=ecs.ContainerImage.from_registry("busybox"))
        CollectorSidecar(
            stack, "Otel", task_definition=task, app_containers=[stranger], exporters=[DebugExporter()]
        )

    with pytest.raises(OtelFargateError, match=r"app_containers: every container must belong to the sidecar's task definition Bad/Task, got 'Bad/Other/x'"):
        _sidecar_error(build)


def test_registry_image_without_probe_runs_when_health_checks_are_off() -> None:
    stack = new_stack("NoProbe")
    task, app = app_task(stack)
    CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app], exporters=[DebugExporter()],
        image=CollectorImage.from_registry("otel/opentelemetry-collector-contrib:0.1"),
        health_check=False,
    )
    found = containers(Template.from_stack(stack))
    assert "HealthCheck" not in found["otel-collector"]
    assert found["checkout"]["DependsOn"] == [{"ContainerName": "otel-collector", "Condition": "START"}]


# -- the gateway and the agent -----------------------------------------------------------------


@pytest.fixture(scope="module")
def gateway_stack() -> tuple[cdk.Stack, CollectorGateway]:
    stack = new_stack("GatewayStack")
    cluster = new_cluster(stack)
    gateway = CollectorGateway(
        stack, "Gateway", cluster=cluster, environment_name="dev", exporters=[XRayExporter()],
        cpu_architecture=ecs.CpuArchitecture.ARM64, internal_nlb=True,
    )
    task, app = app_task(stack)
    CollectorSidecar(stack, "Agent", task_definition=task, app_containers=[app], gateway=gateway)
    return stack, gateway


@pytest.fixture(scope="module")
def gateway_template(gateway_stack: tuple[cdk.Stack, CollectorGateway]) -> Template:
    return Template.from_stack(gateway_stack[0])


def test_gateway_service_connect(gateway_template: Template) -> None:
    gateway_template.has_resource_properties(
        "AWS::ECS::Service",
        {
            "ServiceConnectConfiguration": Match.object_like(
                {
                    "Enabled": True,
                    "Services": [
                        {"PortName": "otlp-grpc", "DiscoveryName": "otel-gateway",
                         "ClientAliases": [{"DnsName": "otel-gateway", "Port": 4317}]},
                        {"PortName": "otlp-http", "DiscoveryName": "otel-gateway-http",
                         "ClientAliases": [{"DnsName": "otel-gateway", "Port": 4318}]},
                    ],
                }
            ),
        },
    )
    ports = next(
        c["PortMappings"]
        for c in collector_containers(gateway_template.to_json())
        if "PortMappings" in c
    )
    by_name = {p["Name"]: p for p in ports}
    assert by_name["otlp-grpc"]["ContainerPort"] == 4317 and by_name["otlp-grpc"]["AppProtocol"] == "grpc"
    assert by_name["otlp-http"]["ContainerPort"] == 4318 and by_name["otlp-http"]["AppProtocol"] == "http"


def test_gateway_deploys_safely_and_scales(gateway_template: Template) -> None:
    gateway_template.has_resource_properties(
        "AWS::ECS::Service",
        {
            "DesiredCount": 2,
            "DeploymentConfiguration": Match.object_like(
                {
                    "MinimumHealthyPercent": 100,
                    "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
                }
            ),
            "AvailabilityZoneRebalancing": "ENABLED",
        },
    )
    gateway_template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 2, "MaxCapacity": 6}
    )
    metrics = {
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]
        for p in gateway_template.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()
    }
    assert metrics == {"ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization"}


def test_gateway_security_group_allows_otlp_from_the_vpc_only(gateway_template: Template) -> None:
    rules = [
        r
        for sg in gateway_template.find_resources("AWS::EC2::SecurityGroup").values()
        for r in sg["Properties"].get("SecurityGroupIngress", [])
    ]
    ports = {r["FromPort"] for r in rules}
    assert {4317, 4318} <= ports
    for rule in rules:
        assert rule.get("CidrIp") not in ("0.0.0.0/0",) and "CidrIpv6" not in rule
        assert rule["CidrIp"] == {"Fn::GetAtt": [Match.any_value(), "CidrBlock"]} or isinstance(
            rule["CidrIp"], dict
        )


def test_gateway_runs_on_arm64_with_a_matching_image(
    gateway_stack: tuple[cdk.Stack, CollectorGateway], gateway_template: Template
) -> None:
    gateway_template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {"RuntimePlatform": {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"}},
    )
    stack = gateway_stack[0]
    assembly = cdk.App.of(stack).synth()  # type: ignore[union-attr]
    manifest = json.loads(Path(assembly.directory, f"{stack.artifact_id}.assets.json").read_text())
    platforms = sorted(image["source"]["platform"] for image in manifest["dockerImages"].values())
    # the ARM64 gateway's image is built for arm64, the x86 agent's for amd64
    assert platforms == ["linux/amd64", "linux/arm64"]


def test_gateway_generates_a_bearer_token_that_agents_use(gateway_template: Template) -> None:
    gateway_template.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {"GenerateSecretString": Match.object_like({"PasswordLength": 48, "ExcludePunctuation": True})},
    )
    agent = next(
        c for c in collector_containers(gateway_template.to_json()) if "PortMappings" not in c
    )
    assert [s["Name"] for s in agent["Secrets"]] == ["OTEL_GATEWAY_TOKEN"]
    config = collector_config_text(agent)
    assert "otel-gateway:4317" in config and "${env:OTEL_GATEWAY_TOKEN}" in config


def test_gateway_internal_nlb_checks_the_health_endpoint(gateway_template: Template) -> None:
    gateway_template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer", {"Scheme": "internal", "Type": "network"}
    )
    gateway_template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {"Port": 4317, "HealthCheckPort": "13133", "HealthCheckProtocol": "HTTP", "HealthCheckPath": "/"},
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cpu": 300}, r"cpu: Fargate task CPU must be one of .*got 300"),
        ({"memory_mib": 512}, r"memory_mib: with cpu 512, Fargate accepts .*got 512"),
        ({"min_capacity": 5, "max_capacity": 3}, r"min_capacity: must not exceed max_capacity \(3\), got 5"),
        ({"desired_count": 1}, r"desired_count: must lie within min_capacity\.\.max_capacity \(2\.\.6\), got 1"),
        ({"cpu_target_percent": 120}, r"cpu_target_percent: must be a whole number from 10 to 95, got 120"),
        ({"allowed_peers": [ec2.Peer.any_ipv4()]}, r"allowed_peers: the gateway is never opened to the whole internet, got '0\.0\.0\.0/0'"),
        ({"allowed_peers": []}, r"allowed_peers: must name at least one peer, got \[\]"),
        ({"exporters": []}, r"exporters: a gateway needs at least one exporter, got \(\)"),
    ],
)
def test_gateway_bad_input(kwargs: dict[str, Any], message: str) -> None:
    stack = new_stack("BadGateway")
    cluster = new_cluster(stack)
    options: dict[str, Any] = {"exporters": [DebugExporter()], **kwargs}
    with pytest.raises(OtelFargateError, match=message):
        CollectorGateway(stack, "Gateway", cluster=cluster, **options)


def test_gateway_needs_a_namespace() -> None:
    stack = new_stack("NoNamespace")
    cluster = new_cluster(stack, namespace=False)
    with pytest.raises(OtelFargateError, match=r"namespace: the cluster has no default Cloud Map namespace"):
        CollectorGateway(stack, "Gateway", cluster=cluster, exporters=[DebugExporter()])


def test_allow_from_refuses_the_open_world(gateway_stack: tuple[cdk.Stack, CollectorGateway]) -> None:
    with pytest.raises(OtelFargateError, match=r"peer: the gateway is never opened to the whole internet, got '::/0'"):
        gateway_stack[1].allow_from(ec2.Peer.any_ipv6())


def test_agent_mode_refuses_its_own_exporters() -> None:
    # GIVEN a gateway  WHEN a sidecar forwarding to it also names exporters  THEN it is refused:
    # the gateway exports, so backend credentials and permissions stay in one place
    stack = new_stack("AgentWithExporters")
    gateway = CollectorGateway(stack, "Gateway", cluster=new_cluster(stack), exporters=[DebugExporter()])
    task, app = app_task(stack)
    with pytest.raises(OtelFargateError, match=r"exporters: the agent preset forwards everything to the gateway"):
        CollectorSidecar(
            stack, "Agent", task_definition=task, app_containers=[app], gateway=gateway,
            exporters=[XRayExporter()],
        )
