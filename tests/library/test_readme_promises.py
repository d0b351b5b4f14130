"""What README.md promises about the constructs, each asserted as the README states it.

One test per promise (or a few sharing one small stack): the number, the action, the refusal
text. A change to the code that breaks a promise fails here, naming the README's words.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template
from otel_fargate import (
    AwsOtlpExporter,
    CloudWatchEmfExporter,
    CloudWatchLogsExporter,
    CollectorGateway,
    CollectorImage,
    CollectorOptions,
    CollectorSidecar,
    ConfigError,
    OtelFargateError,
    OtlpExporter,
    SamplingTier,
    XRayExporter,
)

from tests.conftest import collector_config_text, container_environment
from tests.library.test_constructs import (
    app_task,
    containers,
    new_cluster,
    new_stack,
    policy_actions,
)

BACKEND = OtlpExporter(name="backend", endpoint="api.example.com:443")


def task_role_statements(template: Template) -> list[dict[str, Any]]:
    """The statements of the collector's export policy (what the collector process may call)."""
    return [
        statement
        for logical_id, policy in template.find_resources("AWS::IAM::Policy").items()
        if "ExportPolicy" in logical_id
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def actions_of(statement: dict[str, Any]) -> list[str]:
    found = statement["Action"]
    return found if isinstance(found, list) else [found]


def sidecar_stack(name: str, *, app_memory: int = 448, **kwargs: Any) -> tuple[cdk.Stack, CollectorSidecar]:
    stack = new_stack(name)
    task, app = app_task(stack, memory=app_memory)
    kwargs.setdefault("exporters", BACKEND)
    sidecar = CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app], **kwargs)
    return stack, sidecar


# -- "Pass them as keywords, or all at once as options=CollectorOptions(...) (keywords given
#    beside it win)" ----------------------------------------------------------------------------


def test_options_apply_and_keywords_given_beside_them_win() -> None:
    # GIVEN options with a retention and a stop timeout, and a keyword retention beside them
    stack, _ = sidecar_stack(
        "OptionsAndKeywords",
        options=CollectorOptions(log_retention_days=7, stop_timeout_seconds=100),
        log_retention_days=14,
    )
    template = Template.from_stack(stack)
    # THEN the keyword's retention is the collector log group's, and the option's stop timeout
    #      (which no keyword overrode) is the container's
    collector = containers(template)["otel-collector"]
    group_id = collector["LogConfiguration"]["Options"]["awslogs-group"]["Ref"]
    group = template.to_json()["Resources"][group_id]
    assert group["Properties"]["RetentionInDays"] == 14
    assert collector["StopTimeout"] == 100


# -- `environment_name`: "the stack name"; `service_name`: "the first app container's name, else
#    the task definition's family" ---------------------------------------------------------------


def test_environment_name_defaults_to_the_stack_name_and_service_to_the_first_app() -> None:
    # GIVEN a sidecar given neither an environment name nor a service name
    stack, sidecar = sidecar_stack("Checkout")
    # THEN the environment is the stack's name and the service the first app container's
    assert (sidecar.environment_name, sidecar.service_name) == ("Checkout", "checkout")
    # AND both reach the collector's own metrics and its log group's name
    resource = sidecar.rendered_config.config["service"]["telemetry"]["resource"]["attributes"]
    assert resource == [
        {"name": "environment", "value": "Checkout"},
        {"name": "service", "value": "checkout"},
    ]
    assert "/otel-fargate/Checkout/checkout/collector-metrics" in json.dumps(
        Template.from_stack(stack).to_json()
    )


def test_service_name_without_app_containers_is_the_task_family() -> None:
    # GIVEN a sidecar wired to no app container, in a task with a family
    stack = new_stack("Family")
    task = cdk.aws_ecs.FargateTaskDefinition(
        stack, "Task", cpu=512, memory_limit_mib=1024, family="orders-family"
    )
    sidecar = CollectorSidecar(stack, "Otel", task_definition=task, exporters=BACKEND)
    # THEN its service name is the family
    assert sidecar.service_name == "orders-family"


# -- "the collector's own metrics go ... into a log group /otel-fargate/<env>/<service>/
#    collector-metrics" ----------------------------------------------------------------------------


def test_the_self_metrics_log_group_is_named_by_environment_and_service() -> None:
    stack, sidecar = sidecar_stack("SelfMetrics", environment_name="dev")
    template = Template.from_stack(stack)
    # THEN the stack creates the group under that name and the collector writes into it
    names = [
        g["Properties"].get("LogGroupName")
        for g in template.find_resources("AWS::Logs::LogGroup").values()
    ]
    assert "/otel-fargate/dev/checkout/collector-metrics" in names
    emf = sidecar.rendered_config.config["exporters"]["awsemf/self"]
    assert emf["log_group_name"] == "/otel-fargate/dev/checkout/collector-metrics"


# -- `essential`: "False ... (`essential=True` trades this for stopping the whole task)";
#    `restart_attempt_period_seconds`: "60 ... (`None` switches restarts off)" ------------------


def test_essential_true_makes_the_collector_essential() -> None:
    stack, _ = sidecar_stack("Essential", essential=True)
    assert containers(Template.from_stack(stack))["otel-collector"]["Essential"] is True


def test_restart_attempt_period_none_switches_restarts_off() -> None:
    # GIVEN a sidecar whose restart policy is switched off
    stack, _ = sidecar_stack("NoRestarts", restart_attempt_period_seconds=None)
    collector = containers(Template.from_stack(stack))["otel-collector"]
    # THEN the container has no restart policy, and is still not essential
    assert collector.get("RestartPolicy", {"Enabled": False})["Enabled"] is False
    assert collector["Essential"] is False


# -- the gateway: targets 60/70, scale-in cooldown 300 s, private subnets with egress,
#    grant_token_read, container_insights_enhanced off ------------------------------------------


@pytest.fixture(scope="module")
def gateway() -> tuple[Template, CollectorGateway, iam.Role]:
    stack = new_stack("GatewayPromises")
    cluster = new_cluster(stack)
    gateway = CollectorGateway(
        stack, "Gateway", cluster=cluster, environment_name="dev",
        exporters=[XRayExporter(), AwsOtlpExporter(signal="metrics", region="eu-west-1")],
        sampling=SamplingTier(),
    )
    client = iam.Role(stack, "Client", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    gateway.grant_token_read(client)
    return Template.from_stack(stack), gateway, client


def _scaling_policies(template: Template) -> list[dict[str, Any]]:
    return [
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"]
        for p in template.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()
    ]


def test_target_tracking_at_60_and_70_percent_with_a_300_s_scale_in_cooldown(
    gateway: tuple[Template, CollectorGateway, iam.Role],
) -> None:
    template, _, _ = gateway
    policies = _scaling_policies(template)
    # THEN the gateway and the samplers each track CPU at 60 % and memory at 70 %
    targets = sorted(
        (p["PredefinedMetricSpecification"]["PredefinedMetricType"], p["TargetValue"])
        for p in policies
    )
    assert targets == [
        ("ECSServiceAverageCPUUtilization", 60),
        ("ECSServiceAverageCPUUtilization", 60),
        ("ECSServiceAverageMemoryUtilization", 70),
        ("ECSServiceAverageMemoryUtilization", 70),
    ]
    # AND every policy scales in only 300 s after the last change
    assert {p["ScaleInCooldown"] for p in policies} == {300}


def test_the_sampling_tier_defaults(gateway: tuple[Template, CollectorGateway, iam.Role]) -> None:
    # GIVEN SamplingTier() with every default
    template, gateway_construct, _ = gateway
    assert gateway_construct.samplers is not None
    definitions = template.find_resources("AWS::ECS::TaskDefinition")
    sampler = next(
        d["Properties"] for d in definitions.values()
        if "tail_sampling" in collector_config_text(d["Properties"]["ContainerDefinitions"][0])
    )
    # THEN its tasks are 1024 CPU units and 2048 MiB, and the collector gets the whole task
    assert (sampler["Cpu"], sampler["Memory"]) == ("1024", "2048")
    assert sampler["ContainerDefinitions"][0]["Memory"] == 2048
    # AND it runs 2 tasks, scaling between 2 and 6
    targets = template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget")
    ranges = sorted((t["Properties"]["MinCapacity"], t["Properties"]["MaxCapacity"]) for t in targets.values())
    assert ranges == [(2, 6), (2, 6)]
    counts = sorted(s["Properties"]["DesiredCount"] for s in template.find_resources("AWS::ECS::Service").values())
    assert counts == [2, 2]


def test_the_sampler_dns_records_live_10_s_and_the_gateway_resolves_every_5_s(
    gateway: tuple[Template, CollectorGateway, iam.Role],
) -> None:
    template, _, _ = gateway
    (registry,) = template.find_resources("AWS::ServiceDiscovery::Service").values()
    (record,) = registry["Properties"]["DnsConfig"]["DnsRecords"]
    assert record == {"TTL": 10, "Type": "A"}
    routing = next(
        yaml.safe_load(collector_config_text(d["Properties"]["ContainerDefinitions"][0]))
        for d in template.find_resources("AWS::ECS::TaskDefinition").values()
        if "load_balancing" in collector_config_text(d["Properties"]["ContainerDefinitions"][0])
    )
    assert routing["exporters"]["load_balancing"]["resolver"]["dns"]["interval"] == "5s"


def test_sampling_max_capacity_above_8_is_refused() -> None:
    with pytest.raises(
        OtelFargateError,
        match=r"^sampling\.max_capacity: the routing gateway finds samplers by DNS, and one "
        r"answer carries at most 8 records",
    ):
        SamplingTier(max_capacity=9)


def test_gateway_tasks_run_in_private_subnets_with_egress(
    gateway: tuple[Template, CollectorGateway, iam.Role],
) -> None:
    template, _, _ = gateway
    resources = template.to_json()["Resources"]
    service_id = next(
        logical_id for logical_id, r in resources.items()
        if r["Type"] == "AWS::ECS::Service" and "Gateway" in logical_id and "Sampl" not in logical_id
    )
    subnets = resources[service_id]["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"]
    assert subnets
    for subnet in subnets:
        tags = {t["Key"]: t["Value"] for t in resources[subnet["Ref"]]["Properties"]["Tags"]}
        # the CDK's "Private" subnet type is PRIVATE_WITH_EGRESS (isolated ones are "Isolated")
        assert tags["aws-cdk:subnet-type"] == "Private", subnet
        (table,) = [
            r["Properties"]["RouteTableId"]["Ref"] for r in resources.values()
            if r["Type"] == "AWS::EC2::SubnetRouteTableAssociation"
            and r["Properties"]["SubnetId"] == subnet
        ]
        (route,) = [
            r["Properties"] for r in resources.values()
            if r["Type"] == "AWS::EC2::Route" and r["Properties"]["RouteTableId"] == {"Ref": table}
        ]
        assert route["DestinationCidrBlock"] == "0.0.0.0/0" and "NatGatewayId" in route


def test_grant_token_read_lets_a_client_read_the_token_secret(
    gateway: tuple[Template, CollectorGateway, iam.Role],
) -> None:
    template, gateway_construct, client = gateway
    stack = cdk.Stack.of(client)
    client_id = stack.get_logical_id(client.node.default_child)  # type: ignore[arg-type]
    token_id = stack.get_logical_id(gateway_construct.token_secret.node.default_child)  # type: ignore[arg-type]
    statements = [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": client_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    # THEN the client's role may read exactly the current token's secret
    assert [(sorted(actions_of(s)), s["Resource"]) for s in statements] == [
        (["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], {"Ref": token_id})
    ]


def test_container_insights_enhanced_is_off_by_default(
    gateway: tuple[Template, CollectorGateway, iam.Role],
) -> None:
    # GIVEN a gateway that does not say container_insights_enhanced
    template, _, _ = gateway
    # THEN its restart figures read the service's RestartCount, not the per-container one that
    #      only enhanced observability reports
    dashboards = json.dumps(template.find_resources("AWS::CloudWatch::Dashboard"))
    assert "RestartCount" in dashboards
    assert '\\"ContainerName\\",\\"otel-collector\\"' not in dashboards.replace(" ", "")


# -- Exporters and the IAM they grant ------------------------------------------------------------


def test_aws_otlp_traces_grant_xray_put_spans_on_everything() -> None:
    # GIVEN a sidecar exporting traces to the X-Ray OTLP endpoint
    stack, _ = sidecar_stack(
        "OtlpTraces", exporters=[AwsOtlpExporter(signal="traces", region="eu-west-1")],
        monitoring=False, self_telemetry_namespace=None,
    )
    statements = task_role_statements(Template.from_stack(stack))
    # THEN the task role may call xray:PutSpans on *, and nothing else of X-Ray
    assert statements == [
        {"Action": "xray:PutSpans", "Effect": "Allow", "Resource": "*", "Sid": "XRayWrite"}
    ]


def test_a_fixed_group_in_another_region_gets_create_and_retention_rights_there() -> None:
    # GIVEN an EMF exporter writing a fixed-name group with a retention in another region
    stack, _ = sidecar_stack(
        "RetentionElsewhere",
        exporters=[CloudWatchEmfExporter(
            namespace="Shop", log_group_name="/shop/metrics", region="us-east-1", retention_days=14
        )],
        monitoring=False, self_telemetry_namespace=None,
    )
    by_sid = {s["Sid"]: s for s in task_role_statements(Template.from_stack(stack))}
    # THEN the exporter creates the group (the stack cannot, in us-east-1) and sets its
    #      retention: CreateLogGroup and PutRetentionPolicy on that group only
    for sid, action in (("LogsCreate", "logs:CreateLogGroup"), ("LogsRetention", "logs:PutRetentionPolicy")):
        assert actions_of(by_sid[sid]) == [action]
        resource = json.dumps(by_sid[sid]["Resource"])
        assert ":logs:us-east-1:" in resource and ":log-group:/shop/metrics" in resource
        assert "*" not in resource.replace('"Fn::Join"', "")


def test_a_placeholder_group_gets_create_but_never_retention_rights() -> None:
    # GIVEN an EMF exporter writing a group named per task
    stack, _ = sidecar_stack(
        "PerTaskGroup",
        exporters=[CloudWatchEmfExporter(namespace="Shop", log_group_name="/shop/{TaskId}")],
        monitoring=False, self_telemetry_namespace=None,
    )
    template = Template.from_stack(stack)
    by_sid = {s["Sid"]: s for s in task_role_statements(template)}
    # THEN the exporter may create it under the static prefix, and may never set a retention
    assert actions_of(by_sid["LogsCreate"]) == ["logs:CreateLogGroup"]
    assert ":log-group:/shop/*" in json.dumps(by_sid["LogsCreate"]["Resource"])
    assert "logs:PutRetentionPolicy" not in policy_actions(template)


def test_existing_log_groups_of_a_replacement_are_neither_created_nor_creatable() -> None:
    # GIVEN a replacement writing EMF into a group an earlier ADOT deployment created
    replacement = {
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "127.0.0.1:4317"}}}},
        "exporters": {"awsemf": {"namespace": "Shop", "log_group_name": "/adot/metrics"}},
        "service": {"pipelines": {"metrics": {"receivers": ["otlp"], "exporters": ["awsemf"]}}},
    }
    stack, _ = sidecar_stack(
        "ExistingGroups", exporters=(), config_replacement=yaml.safe_dump(replacement),
        existing_log_groups=["/adot/metrics"], monitoring=False,
    )
    template = Template.from_stack(stack)
    names = [g["Properties"].get("LogGroupName") for g in template.find_resources("AWS::Logs::LogGroup").values()]
    # THEN the stack does not create it, and the collector may write but not create it
    assert "/adot/metrics" not in names
    assert policy_actions(template) == {"logs:CreateLogStream", "logs:PutLogEvents"}


# -- a replacement: retries "bounded to end 10 s before the stop timeout"; templates refused ---


@pytest.mark.parametrize(
    ("stop_timeout", "timeout", "expected"),
    [(120, None, "105s"), (60, "20s", "30s"), (30, "8s", "12s")],
)
def test_default_retries_of_a_replacement_end_10_s_before_the_stop_timeout(
    stop_timeout: int, timeout: str | None, expected: str
) -> None:
    # GIVEN a replacement whose exporter leaves its retries to the collector (300 s)
    exporter: dict[str, Any] = {"endpoint": "https://otlp.example.com"}
    if timeout is not None:
        exporter["timeout"] = timeout
    replacement = {
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": "127.0.0.1:4318"}}}},
        "exporters": {"otlp_http": exporter},
        "service": {"pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["otlp_http"]}}},
    }
    _, sidecar = sidecar_stack(
        f"Retries{stop_timeout}", exporters=(), config_replacement=yaml.safe_dump(replacement),
        stop_timeout_seconds=stop_timeout, monitoring=False,
    )
    # THEN retries plus one attempt (5 s when the exporter sets no timeout) end 10 s before it
    retry = sidecar.rendered_config.config["exporters"]["otlp_http"]["retry_on_failure"]
    assert retry["max_elapsed_time"] == expected
    attempt = int((timeout or "5s").rstrip("s"))
    assert int(expected.rstrip("s")) + attempt + 10 == stop_timeout


def test_default_retries_of_an_sdk_exporter_count_its_sdk_attempts() -> None:
    # GIVEN a replacement's awscloudwatchlogs exporter (30 s x 3 SDK tries an attempt by default)
    replacement = {
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": "127.0.0.1:4318"}}}},
        "exporters": {"awscloudwatchlogs": {"log_group_name": "/shop/app", "log_stream_name": "s"}},
        "service": {"pipelines": {"logs": {"receivers": ["otlp"], "exporters": ["awscloudwatchlogs"]}}},
    }
    _, sidecar = sidecar_stack(
        "SdkRetries", exporters=(), config_replacement=yaml.safe_dump(replacement), monitoring=False
    )
    # THEN its retries also end 10 s before the stop timeout: 120 - 90 - 10
    retry = sidecar.rendered_config.config["exporters"]["awscloudwatchlogs"]["retry_on_failure"]
    assert retry["max_elapsed_time"] == "20s"


def test_a_replacement_gets_the_health_check_it_lacks() -> None:
    # GIVEN a replacement that declares no health_check at all
    replacement = {
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": "127.0.0.1:4318"}}}},
        "exporters": {"debug": {}},
        "service": {"pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["debug"]}}},
    }
    _, sidecar = sidecar_stack(
        "NoHealthCheck", exporters=(), config_replacement=yaml.safe_dump(replacement), monitoring=False
    )
    config = sidecar.rendered_config.config
    # THEN it is added, where the probe looks, and enabled
    assert config["extensions"]["health_check"]["endpoint"] == "127.0.0.1:13133"
    assert "health_check" in config["service"]["extensions"]


def test_template_placeholders_are_refused_with_what_to_write_instead() -> None:
    replacement = """
receivers:
  otlp: {protocols: {grpc: {endpoint: "127.0.0.1:4317"}}}
exporters:
  awsemf: {log_group_name: "/aws/ecs/{{cluster_name}}/metrics"}
service:
  pipelines:
    metrics: {receivers: [otlp], exporters: [awsemf]}
"""
    with pytest.raises(
        ConfigError,
        match=r"exporters\.awsemf\.log_group_name: \{\{cluster_name\}\} is a template placeholder "
        r"the collector does not fill .*; write the value, or \$\{env:NAME\} with the "
        r"construct's environment=",
    ):
        sidecar_stack("Templates", exporters=(), config_replacement=replacement, monitoring=False)


# -- persistent queues on the slim image -------------------------------------------------------


def test_the_slim_image_keeps_its_queues_on_the_task_volume() -> None:
    stack, sidecar = sidecar_stack("SlimQueues", image=CollectorImage.slim())
    config = sidecar.rendered_config.config
    # THEN the exporter's queue lives in file_storage on /var/lib/otelcol/queue, a task volume
    assert config["exporters"]["otlp_grpc/backend"]["sending_queue"]["storage"] == "file_storage/queue"
    assert config["extensions"]["file_storage/queue"]["directory"] == "/var/lib/otelcol/queue"
    collector = containers(Template.from_stack(stack))["otel-collector"]
    assert [m["ContainerPath"] for m in collector["MountPoints"]] == ["/var/lib/otelcol/queue"]


# -- stdout logs: the log router restarts like the collector; refused without a logs pipeline --


def test_the_log_router_is_not_essential_and_is_restarted() -> None:
    stack, _ = sidecar_stack(
        "Router", exporters=[CloudWatchLogsExporter(log_group_name="/shop/orders")],
        stdout_logs=True, app_memory=256,
    )
    router = containers(Template.from_stack(stack))["log-router"]
    assert router["Essential"] is False
    assert router["RestartPolicy"] == {"Enabled": True, "RestartAttemptPeriod": 60}


def test_stdout_logs_are_refused_when_the_agents_gateway_takes_no_logs() -> None:
    # GIVEN a gateway exporting traces only
    stack = new_stack("NoLogsGateway")
    gateway = CollectorGateway(stack, "Gateway", cluster=new_cluster(stack), exporters=[XRayExporter()])
    task, app = app_task(stack, memory=384)
    # WHEN an agent of it is asked to send the apps' stdout THEN synth refuses, naming the setting
    with pytest.raises(
        OtelFargateError,
        match=r"^stdout_logs: the collector has no logs pipeline \(its gateway accepts no logs\)",
    ):
        CollectorSidecar(
            stack, "Agent", task_definition=task, app_containers=[app], gateway=gateway,
            stdout_logs=True,
        )


def test_agent_environment_says_none_for_signals_the_gateway_refuses() -> None:
    # the same gateway: an agent's apps get `none` for logs and metrics (the gateway takes traces)
    stack = new_stack("AgentSignals")
    gateway = CollectorGateway(stack, "Gateway", cluster=new_cluster(stack), exporters=[XRayExporter()])
    task, app = app_task(stack, memory=384)
    CollectorSidecar(stack, "Agent", task_definition=task, app_containers=[app], gateway=gateway)
    env = container_environment(containers(Template.from_stack(stack))["checkout"])
    assert (env["OTEL_TRACES_EXPORTER"], env["OTEL_METRICS_EXPORTER"], env["OTEL_LOGS_EXPORTER"]) == (
        "otlp", "none", "none"
    )
