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
from aws_cdk import aws_logs as logs
from aws_cdk import aws_servicediscovery as servicediscovery
from aws_cdk.assertions import Match, Template
from otel_fargate import (
    AwsOtlpExporter,
    CloudWatchEmfExporter,
    CollectorGateway,
    CollectorImage,
    CollectorSidecar,
    DebugExporter,
    HealthCheckTiming,
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


def app_task(stack: cdk.Stack, *, env: dict[str, str] | None = None, memory: int = 512) -> tuple[ecs.FargateTaskDefinition, ecs.ContainerDefinition]:
    task = ecs.FargateTaskDefinition(stack, "Task", cpu=512, memory_limit_mib=1024)
    app = task.add_container(
        "app",
        container_name="checkout",
        image=ecs.ContainerImage.from_registry("public.ecr.aws/docker/library/busybox:1.36"),
        memory_limit_mib=memory,
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
    # the supervisor runs the collector and drains it within the stop timeout (120 s - 15 s)
    assert collector["EntryPoint"] == ["/supervisor"]
    assert collector["Command"] == [
        "--collector-only",
        "--collector=/otelcol-contrib",
        "--collector-arg=--config=env:OTEL_FARGATE_CONFIG",
        "--drain-metrics-url=http://127.0.0.1:8888/metrics",
        "--drain-timeout=105s",
        "--drain-min-wait=0s",
        "--collector-stop-timeout=10s",
        "--probe=",
    ]
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
    collector = containers(sidecar_template)["otel-collector"]
    assert collector["LogConfiguration"]["LogDriver"] == "awslogs"
    group_id = collector["LogConfiguration"]["Options"]["awslogs-group"]["Ref"]
    group = sidecar_template.find_resources("AWS::Logs::LogGroup")[group_id]
    assert group["Properties"]["RetentionInDays"] == 30


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
    assert {"xray:PutTraceSegments", "logs:PutLogEvents"} <= actions
    # PutTelemetryRecords only for an awsxray exporter that reports telemetry (off here)
    assert "xray:PutTelemetryRecords" not in actions
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
        self_telemetry_namespace=None, monitoring=False,
    )
    return Template.from_stack(stack)


def test_no_aws_exporter_means_no_aws_permissions(debug_only_template: Template) -> None:
    actions = policy_actions(debug_only_template)
    assert not {a for a in actions if a.startswith(("xray:", "logs:PutLogEvents", "cloudwatch:"))}
    env = container_environment(containers(debug_only_template)["checkout"])
    assert env["OTEL_PROPAGATORS"] == "tracecontext,baggage"


def test_a_changed_config_changes_the_task_definition(debug_only_template: Template) -> None:
    # GIVEN the same sidecar with one option changed
    stack = new_stack("DebugSidecarStack")
    task, app = app_task(stack)
    CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app],
        exporters=[DebugExporter(verbosity="detailed")], self_telemetry_namespace=None,
        monitoring=False,
    )
    changed = Template.from_stack(stack)
    # THEN only the task definition's collector config differs, so a deploy rolls it out
    before = containers(debug_only_template)["otel-collector"]
    after = containers(changed)["otel-collector"]
    assert collector_config_text(before) != collector_config_text(after)
    assert "verbosity: detailed" in collector_config_text(after)
    assert {k: v for k, v in before.items() if k not in ("Environment", "Image")} == {
        k: v for k, v in after.items() if k not in ("Environment", "Image")
    }


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
    # a secret named by its name is granted with the six characters Secrets Manager appends
    assert "honeycomb/api-key-??????" in json.dumps(secret_grants[0]["Resource"])


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
        ({"app_protocol": "thrift"}, r"app_protocol: must be one of http/protobuf, grpc, got 'thrift'"),
        ({"restart_attempt_period_seconds": 30}, r"restart_attempt_period_seconds: ECS accepts 60 to 1800.*got 30"),
        ({"stop_timeout_seconds": 300}, r"stop_timeout_seconds: must be an integer from 2 to 120 \(Fargate's limit\), got 300"),
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
    # 384 (app) + 512 (agent) + 128 for the Service Connect proxy = 1024
    task, app = app_task(stack, memory=384)
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
    (vpc_id,) = gateway_template.find_resources("AWS::EC2::VPC")
    for rule in rules:
        assert "CidrIpv6" not in rule
        assert rule["CidrIp"] == {"Fn::GetAtt": [vpc_id, "CidrBlock"]}


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


# -- secrets, IAM and log groups in the less common shapes ------------------------------------------


def sidecar_with(stack: cdk.Stack, exporters: list[Any]) -> None:
    task, app = app_task(stack)
    CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app], exporters=exporters,
        monitoring=False, self_telemetry_namespace=None,
    )


def honeycomb(secret: SecretRef) -> OtlpExporter:
    return OtlpExporter(name="hc", endpoint="api.honeycomb.io:443", headers={"x-honeycomb-team": secret})


def test_a_partial_secrets_manager_arn_is_refused() -> None:
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:otel/api-key"
    with pytest.raises(OtelFargateError, match=r"secrets\.HC_KEY\.secret_id: a Secrets Manager ARN must be complete .*got 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:otel/api-key'"):
        sidecar_with(new_stack("PartialArn"), [honeycomb(SecretRef(env_name="HC_KEY", secret_id=arn))])


def test_a_complete_secret_arn_is_granted_exactly() -> None:
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:otel-tokens-AbC123"
    stack = new_stack("CompleteArn")
    sidecar_with(stack, [honeycomb(SecretRef(env_name="HC_KEY", secret_id=arn))])
    assert arn in json.dumps(Template.from_stack(stack).to_json())


def test_an_ssm_parameter_arn_keeps_its_account() -> None:
    arn = "arn:aws:ssm:eu-west-1:999999999999:parameter/otel/key"
    stack = new_stack("SsmArn")
    sidecar_with(stack, [honeycomb(SecretRef(env_name="HC_KEY", secret_id=arn, kind="ssm"))])
    text = json.dumps(Template.from_stack(stack).to_json())
    assert "eu-west-1:999999999999:parameter/otel/key" in text
    assert "eu-west-1:123456789012:parameter/otel/key" not in text


def test_an_ssm_parameter_arn_in_another_region_is_refused() -> None:
    arn = "arn:aws:ssm:us-east-1:999999999999:parameter/otel/key"
    with pytest.raises(OtelFargateError, match=r"secrets\.HC_KEY\.secret_id: an SSM parameter ARN must be in the stack's region \(eu-west-1\), got 'arn:aws:ssm:us-east-1"):
        sidecar_with(new_stack("SsmOtherRegion"), [honeycomb(SecretRef(env_name="HC_KEY", secret_id=arn, kind="ssm"))])


def test_cdk_tokens_in_exporter_settings_resolve_in_the_config() -> None:
    # GIVEN an EMF exporter writing to a log group the stack owns, named by a token
    stack = new_stack("TokenGroup")
    group = logs.LogGroup(stack, "Metrics")
    sidecar_with(stack, [CloudWatchEmfExporter(namespace="Shop", log_group_name=group.log_group_name)])
    template = Template.from_stack(stack)
    collector = containers(template)["otel-collector"]
    config = container_environment(collector)["OTEL_FARGATE_CONFIG"]
    # THEN the config references the group (CloudFormation resolves it), never a token string
    assert "Token[" not in json.dumps(config)
    assert {"Ref": template_logical_id(template, "AWS::Logs::LogGroup", "Metrics")} in config["Fn::Join"][1]


def template_logical_id(template: Template, kind: str, prefix: str) -> str:
    (found,) = [k for k in template.find_resources(kind) if k.startswith(prefix)]
    return found


def test_cloudwatch_otlp_metrics_may_put_metric_data() -> None:
    stack = new_stack("OtlpMetrics")
    sidecar_with(stack, [AwsOtlpExporter(signal="metrics", region="eu-west-1")])
    assert "cloudwatch:PutMetricData" in policy_actions(Template.from_stack(stack))


def test_aws_otlp_logs_group_must_exist_and_is_not_created() -> None:
    stack = new_stack("OtlpLogs")
    sidecar_with(stack, [AwsOtlpExporter(
        signal="logs", region="eu-west-1", log_group_name="/app/otlp", log_stream_name="app",
    )])
    template = Template.from_stack(stack)
    names = [g["Properties"].get("LogGroupName") for g in template.find_resources("AWS::Logs::LogGroup").values()]
    assert "/app/otlp" not in names
    assert "logs:PutLogEvents" in policy_actions(template)
    assert "logs:CreateLogGroup" not in policy_actions(template)


def test_an_exporter_in_another_region_is_granted_there_and_creates_its_own_group() -> None:
    stack = new_stack("OtherRegion")
    sidecar_with(stack, [CloudWatchEmfExporter(namespace="Shop", log_group_name="/shop/metrics", region="us-east-1")])
    template = Template.from_stack(stack)
    names = [g["Properties"].get("LogGroupName") for g in template.find_resources("AWS::Logs::LogGroup").values()]
    assert "/shop/metrics" not in names  # the stack cannot create a group in us-east-1
    text = json.dumps(template.find_resources("AWS::IAM::Policy"))
    assert ":logs:us-east-1:" in text and "/shop/metrics" in text
    assert "logs:CreateLogGroup" in policy_actions(template)


def test_export_log_groups_are_removed_with_the_stack(sidecar_template: Template) -> None:
    groups = sidecar_template.find_resources("AWS::Logs::LogGroup", {"Properties": {"LogGroupName": "/shop/metrics"}})
    (group,) = groups.values()
    assert group["DeletionPolicy"] == "Delete"


@pytest.mark.parametrize(
    ("probe_timeout", "expected"), [(2.0, "2s"), (1.5, "1500ms"), (0.25, "250ms")]
)
def test_probe_timeout_is_a_go_duration(probe_timeout: float, expected: str) -> None:
    from otel_fargate.task.health import probe_command

    timing = HealthCheckTiming(probe_timeout_seconds=probe_timeout)
    assert probe_command("/healthcheck", "http://127.0.0.1:13133/", timing)[-1] == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"probe_timeout_seconds": 0.01}, r"health_check\.probe_timeout_seconds: must be from 0\.1 up to below timeout_seconds \(5\), got 0\.01"),
        ({"probe_timeout_seconds": "2s"}, r"health_check\.probe_timeout_seconds: .*got '2s'"),
        ({"interval_seconds": 4}, r"health_check\.interval_seconds: must be a whole number from 5 to 300, got 4"),
        ({"retries": 11}, r"health_check\.retries: must be a whole number from 1 to 10, got 11"),
        ({"timeout_seconds": 10}, r"health_check\.timeout_seconds: must be shorter than interval_seconds \(10\), got 10"),
    ],
)
def test_health_check_timing_bad_input(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(OtelFargateError, match=message):
        HealthCheckTiming(**kwargs)


def test_gateway_gives_the_service_connect_proxy_memory(gateway_template: Template) -> None:
    gateway = next(c for c in collector_containers(gateway_template.to_json()) if "PortMappings" in c)
    assert gateway["Memory"] == 1024 - 128
    limit = int(container_environment(gateway)["GOMEMLIMIT"].removesuffix("MiB"))
    assert limit < 1024 - 128
