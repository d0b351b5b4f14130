"""What a user builds must run: synth refuses, or wires correctly, what would fail once
deployed (unprovided variables, tasks that do not fit, half-wired apps, monitoring that can
never fire, agents that cannot reach their gateway)."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_servicediscovery as servicediscovery
from aws_cdk.assertions import Annotations, Match, Template
from otel_fargate import (
    CloudWatchEmfExporter,
    CollectorGateway,
    CollectorSidecar,
    ConfigError,
    DebugExporter,
    OtelFargateError,
    SecretRef,
    XRayExporter,
)

from tests.conftest import container_environment
from tests.library.test_constructs import app_task, containers, new_cluster, new_stack

HONEYCOMB_REPLACEMENT = """
extensions:
  health_check: {endpoint: "127.0.0.1:13133", path: /}
receivers:
  otlp: {protocols: {grpc: {endpoint: "127.0.0.1:4317"}}}
exporters:
  otlp_http/honeycomb:
    endpoint: https://api.honeycomb.io
    headers: {x-honeycomb-team: "${env:HONEYCOMB_API_KEY}"}
    timeout: 5s
    retry_on_failure: {max_elapsed_time: 60s}
service:
  extensions: [health_check]
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp_http/honeycomb]}
"""


def test_a_variable_nothing_provides_fails_synth_naming_it() -> None:
    # GIVEN a replacement config that reads HONEYCOMB_API_KEY and no secret for it
    stack = new_stack("Unprovided")
    task, app = app_task(stack)
    # WHEN the sidecar is created THEN synth stops, naming the variable and the remedy
    with pytest.raises(
        OtelFargateError,
        match=r"^config: \$\{env:HONEYCOMB_API_KEY\} is read by the collector configuration, "
        r"but no secret or environment variable .*secrets=\[SecretRef\(env_name='HONEYCOMB_API_KEY'",
    ):
        CollectorSidecar(
            stack, "Otel", task_definition=task, app_containers=[app],
            config_replacement=HONEYCOMB_REPLACEMENT, monitoring=False,
        )


def test_secrets_and_environment_provide_what_a_replacement_reads() -> None:
    # GIVEN the same replacement with the secret passed, and its endpoint as a plain variable
    stack = new_stack("Provided")
    task, app = app_task(stack)
    CollectorSidecar(
        stack,
        "Otel",
        task_definition=task,
        app_containers=[app],
        config_replacement=HONEYCOMB_REPLACEMENT.replace(
            "https://api.honeycomb.io", "${env:HONEYCOMB_ENDPOINT}"
        ),
        secrets=[SecretRef(env_name="HONEYCOMB_API_KEY", secret_id="honeycomb/api-key")],
        environment={"HONEYCOMB_ENDPOINT": "https://api.eu1.honeycomb.io"},
        monitoring=False,
    )
    collector = containers(Template.from_stack(stack))["otel-collector"]
    # THEN the key is an ECS secret and the plain value an environment variable
    assert [s["Name"] for s in collector["Secrets"]] == ["HONEYCOMB_API_KEY"]
    assert container_environment(collector)["HONEYCOMB_ENDPOINT"] == "https://api.eu1.honeycomb.io"


def test_a_container_added_after_the_sidecar_must_still_fit_the_task() -> None:
    # GIVEN a sidecar of 512 MiB in a 1024 MiB task, then an app of 768 MiB added later
    stack = new_stack("LateApp")
    task = ecs.FargateTaskDefinition(stack, "Task", cpu=512, memory_limit_mib=1024)
    sidecar = CollectorSidecar(
        stack, "Otel", task_definition=task, exporters=DebugExporter(), monitoring=False
    )
    late = task.add_container(
        "late", image=ecs.ContainerImage.from_registry("busybox"), memory_limit_mib=768
    )
    sidecar.wire_app_container(late)
    # WHEN synthesized THEN the final task is checked and refused
    with pytest.raises(RuntimeError, match=r"memory_mib: the containers of task LateApp/Task reserve 1280 MiB"):
        Template.from_stack(stack)


def test_an_agent_task_leaves_room_for_the_service_connect_proxy() -> None:
    stack = new_stack("NoProxyRoom")
    gateway = CollectorGateway(stack, "Gateway", cluster=new_cluster(stack), exporters=XRayExporter())
    task, app = app_task(stack)  # 512 (app) + 512 (agent) leaves nothing for the proxy
    CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app], gateway=gateway)
    with pytest.raises(RuntimeError, match=r"reserve 1024 MiB plus 128 MiB for the Service Connect proxy"):
        Template.from_stack(stack)


@pytest.mark.parametrize(
    ("app_env", "expected"),
    [
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4317"}, "grpc"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318"}, "http/protobuf"),
    ],
)
def test_an_app_endpoint_gets_the_protocol_of_its_port(app_env: dict[str, str], expected: str) -> None:
    stack = new_stack("HalfWired")
    task, app = app_task(stack, env=app_env)
    sidecar = CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app], exporters=DebugExporter(),
        monitoring=False,
    )
    env = container_environment(containers(Template.from_stack(stack))["checkout"])
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == app_env["OTEL_EXPORTER_OTLP_ENDPOINT"]
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == expected
    assert sidecar.app_protocol == "http/protobuf"  # the sidecar's own default is unchanged


def test_an_app_protocol_gets_the_endpoint_of_its_port() -> None:
    stack = new_stack("ProtocolOnly")
    task, app = app_task(stack, env={"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app], exporters=DebugExporter(),
        monitoring=False,
    )
    env = container_environment(containers(Template.from_stack(stack))["checkout"])
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4317"


@pytest.mark.parametrize(
    ("app_env", "message"),
    [
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
            r"^app_containers.checkout.OTEL_EXPORTER_OTLP_PROTOCOL: OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 is the collector's grpc port, got 'http/protobuf'$",
        ),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:9999"},
            r"^app_containers.checkout.OTEL_EXPORTER_OTLP_ENDPOINT: the app sets the endpoint but not OTEL_EXPORTER_OTLP_PROTOCOL.*got 'http://localhost:9999'$",
        ),
    ],
)
def test_a_contradictory_app_pair_is_refused(app_env: dict[str, str], message: str) -> None:
    stack = new_stack("Contradiction")
    task, app = app_task(stack, env=app_env)
    with pytest.raises(OtelFargateError, match=message):
        CollectorSidecar(
            stack, "Otel", task_definition=task, app_containers=[app], exporters=DebugExporter()
        )


def test_no_monitoring_is_built_on_metrics_that_are_never_published() -> None:
    # GIVEN a sidecar that keeps its own metrics local
    stack = new_stack("NoSelfMetrics")
    task, app = app_task(stack)
    sidecar = CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app], exporters=DebugExporter(),
        self_telemetry_namespace=None,
    )
    template = Template.from_stack(stack)
    # THEN no alarm or dashboard exists that could never see data, and synth says why
    assert sidecar.monitoring is None
    assert template.find_resources("AWS::CloudWatch::Alarm") == {}
    assert template.find_resources("AWS::CloudWatch::Dashboard") == {}
    Annotations.from_stack(stack).has_warning(
        "/NoSelfMetrics/Otel", Match.string_like_regexp("publishes none of the collector's own metrics")
    )


def test_a_replacement_without_self_metrics_gets_no_monitoring() -> None:
    stack = new_stack("ReplacementNoSelf")
    task, app = app_task(stack)
    sidecar = CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app],
        config_replacement=HONEYCOMB_REPLACEMENT,
        secrets=[SecretRef(env_name="HONEYCOMB_API_KEY", secret_id="honeycomb/api-key")],
    )
    assert sidecar.monitoring is None
    assert Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm") == {}


def test_an_agent_service_without_service_connect_is_refused() -> None:
    # GIVEN an agent whose service does not join the gateway's Service Connect namespace
    stack = new_stack("NoServiceConnect")
    cluster = new_cluster(stack)
    gateway = CollectorGateway(stack, "Gateway", cluster=cluster, exporters=XRayExporter())
    task, app = app_task(stack, memory=384)
    CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app], gateway=gateway)
    ecs.FargateService(stack, "Orders", cluster=cluster, task_definition=task)
    # WHEN synthesized THEN synth names the service and the fix
    with pytest.raises(
        RuntimeError,
        match=r"service_connect_configuration: service NoServiceConnect/Orders runs an agent that "
        r"forwards to otel-gateway, which only Service Connect resolves; pass "
        r"service_connect_configuration=gateway.service_connect_client\(\), got none",
    ):
        Template.from_stack(stack)


def test_an_agent_service_with_the_gateway_client_synthesizes() -> None:
    stack = new_stack("WithServiceConnect")
    cluster = new_cluster(stack)
    gateway = CollectorGateway(stack, "Gateway", cluster=cluster, exporters=XRayExporter())
    task, app = app_task(stack, memory=384)
    CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app], gateway=gateway)
    ecs.FargateService(
        stack, "Orders", cluster=cluster, task_definition=task,
        service_connect_configuration=gateway.service_connect_client(),
    )
    Template.from_stack(stack).resource_count_is("AWS::ECS::Service", 2)


def test_two_gateways_cannot_claim_the_alias_in_one_namespace() -> None:
    stack = new_stack("TwoGateways")
    cluster = new_cluster(stack)
    CollectorGateway(stack, "First", cluster=cluster, exporters=XRayExporter())
    CollectorGateway(
        stack, "Second", cluster=cluster, exporters=XRayExporter(), service_name="otel-gateway-2"
    )
    with pytest.raises(RuntimeError, match=r"namespace: TwoGateways/First and TwoGateways/Second both claim"):
        Template.from_stack(stack)


def test_a_misspelled_keyword_names_the_construct_and_the_argument() -> None:
    stack = new_stack("Typo")
    task, _ = app_task(stack)
    with pytest.raises(OtelFargateError, match=r"^CollectorSidecar: unknown argument 'exporter' "):
        CollectorSidecar(stack, "Otel", task_definition=task, exporter=DebugExporter())  # type: ignore[call-arg]


def test_app_in_another_stack_still_gets_checked() -> None:
    # GIVEN the gateway in one stack and the agent's service in another
    app = cdk.App()
    env = cdk.Environment(account="123456789012", region="eu-west-1")
    base = cdk.Stack(app, "Base", env=env)
    cluster = new_cluster(base)
    gateway = CollectorGateway(base, "Gateway", cluster=cluster, exporters=XRayExporter())
    orders = cdk.Stack(app, "Orders", env=env)
    task, container = app_task(orders, memory=384)
    CollectorSidecar(orders, "Otel", task_definition=task, app_containers=[container], gateway=gateway)
    ecs.FargateService(orders, "Service", cluster=cluster, task_definition=task)
    with pytest.raises(RuntimeError, match=r"service Orders/Service runs an agent"):
        app.synth()


def _emf_sidecar(stack: cdk.Stack, name: str) -> CollectorSidecar:
    task = ecs.FargateTaskDefinition(stack, f"{name}Task", cpu=512, memory_limit_mib=1024)
    app = task.add_container(
        "app", container_name=name, image=ecs.ContainerImage.from_registry("busybox"),
        memory_limit_mib=256,
    )
    return CollectorSidecar(
        stack, name, task_definition=task, app_containers=[app], environment_name="dev",
        exporters=CloudWatchEmfExporter(namespace="Shop", log_group_name="/shop/metrics"),
    )


def test_two_collectors_writing_one_log_group_create_it_once() -> None:
    # GIVEN two sidecars in one stack exporting EMF to the same log group
    stack = new_stack("SharedGroup")
    first, second = _emf_sidecar(stack, "orders"), _emf_sidecar(stack, "payments")
    groups = Template.from_stack(stack).find_resources(
        "AWS::Logs::LogGroup", {"Properties": {"LogGroupName": "/shop/metrics"}}
    )
    # THEN the group is created once, and both collectors use it
    assert len(groups) == 1
    assert second.export_log_groups["/shop/metrics"] is first.export_log_groups["/shop/metrics"]


def test_a_log_group_owned_by_another_stack_is_used_not_created() -> None:
    app = cdk.App()
    env = cdk.Environment(account="123456789012", region="eu-west-1")
    orders = cdk.Stack(app, "Orders", env=env)
    payments = cdk.Stack(app, "Payments", env=env)
    _emf_sidecar(orders, "orders")
    _emf_sidecar(payments, "payments")
    named = {"Properties": {"LogGroupName": "/shop/metrics"}}
    assert len(Template.from_stack(orders).find_resources("AWS::Logs::LogGroup", named)) == 1
    assert Template.from_stack(payments).find_resources("AWS::Logs::LogGroup", named) == {}
    # AND the stack that uses it deploys after the one that creates it
    assert orders in payments.dependencies


def test_dashboard_names_carry_the_region_and_service_names_are_readable() -> None:
    stack = new_stack("Names")
    task, app = app_task(stack)
    sidecar = CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app], exporters=DebugExporter(),
        environment_name="dev",
    )
    # THEN the service is named after the app container, not the generated family
    assert sidecar.service_name == "checkout"
    Template.from_stack(stack).has_resource_properties(
        "AWS::CloudWatch::Dashboard", {"DashboardName": "otel-fargate-dev-checkout-eu-west-1"}
    )


def test_a_gateway_on_an_imported_vpc_without_cidr_names_allowed_peers() -> None:
    stack = new_stack("ImportedVpc")
    vpc = ec2.Vpc.from_vpc_attributes(
        stack, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["eu-west-1a"],
        private_subnet_ids=["subnet-0123456789abcdef0"],
    )
    namespace = servicediscovery.HttpNamespace(stack, "Ns", name="imported.internal")
    cluster = ecs.Cluster(stack, "Cluster", vpc=vpc)
    with pytest.raises(OtelFargateError, match=r"^allowed_peers: the cluster's VPC was imported without its CIDR block"):
        CollectorGateway(stack, "Gateway", cluster=cluster, namespace=namespace, exporters=XRayExporter())


def test_a_secret_under_a_customer_managed_key_gets_decrypt() -> None:
    stack = new_stack("Kms")
    task, app = app_task(stack)
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app], monitoring=False,
        config_replacement=HONEYCOMB_REPLACEMENT,
        secrets=[SecretRef(env_name="HONEYCOMB_API_KEY", secret_id="honeycomb/api-key", kms_key_arn=key)],
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyDocument": {"Statement": Match.array_with(
            [Match.object_like({"Action": "kms:Decrypt", "Resource": key})]
        )}},
    )
    with pytest.raises(OtelFargateError, match=r"^SecretRef.kms_key_arn: must be a KMS key ARN"):
        SecretRef(env_name="K", secret_id="s", kms_key_arn="alias/mine")


@pytest.mark.parametrize(
    ("group", "retention", "message"),
    [
        ("{TaskId}", None, r"a name with placeholders needs a static prefix such as /app/"),
        ("/{ClusterName}/metrics", None, r"a name with placeholders needs a static prefix"),
        ("/app/{Whatever}", None, r"\{Whatever\} is not a placeholder the exporters fill"),
        ("/app/{TaskId}", 30, r"retention cannot be set on a group named with placeholders"),
    ],
)
def test_placeholder_log_groups_are_scoped_and_never_set_retention(
    group: str, retention: int | None, message: str
) -> None:
    with pytest.raises(ConfigError, match=rf"^exporters.awsemf.log_group_name: {message}"):
        CloudWatchEmfExporter(namespace="Shop", log_group_name=group, retention_days=retention)


def test_a_placeholder_log_group_is_granted_under_its_prefix_without_retention_rights() -> None:
    stack = new_stack("PerTask")
    task, app = app_task(stack)
    CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app], monitoring=False,
        self_telemetry_namespace=None,
        exporters=CloudWatchEmfExporter(namespace="Shop", log_group_name="/shop/{TaskId}"),
    )
    statements = [
        statement
        for policy in Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    create = [s for s in statements if s.get("Sid") == "LogsCreate"]
    assert create and create[0]["Action"] == "logs:CreateLogGroup"
    assert "log-group:/shop/*" in str(create[0]["Resource"])
    assert not any("logs:PutRetentionPolicy" in str(s["Action"]) for s in statements)


def test_an_override_cannot_give_a_placeholder_group_a_retention() -> None:
    from otel_fargate.config import CollectorConfigOptions, render

    with pytest.raises(ConfigError, match=r"exporters.awsemf.log_group_name: retention cannot be set"):
        render(
            CollectorConfigOptions(
                preset="sidecar",
                exporters=(CloudWatchEmfExporter(namespace="Shop", log_group_name="/shop/metrics"),),
                overrides={"exporters": {"awsemf": {"log_group_name": "/shop/{TaskId}", "log_retention": 7}}},
            )
        )


def test_the_app_service_waits_for_its_collector_permissions_and_log_groups() -> None:
    # GIVEN a sidecar exporting EMF and the service created afterwards, elsewhere in the code
    stack = new_stack("WaitsFor")
    cluster = new_cluster(stack)
    task, app = app_task(stack)
    sidecar = CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app],
        exporters=CloudWatchEmfExporter(namespace="Shop", log_group_name="/shop/metrics"),
    )
    ecs.FargateService(stack, "Orders", cluster=cluster, task_definition=task)
    template = Template.from_stack(stack)
    (service,) = template.find_resources("AWS::ECS::Service").values()
    # THEN its tasks start only once the collector may write, and where
    assert sidecar.export_policy is not None
    depends = set(service["DependsOn"])
    assert stack.get_logical_id(sidecar.export_policy.node.default_child) in depends  # type: ignore[arg-type]
    group = sidecar.export_log_groups["/shop/metrics"]
    assert stack.get_logical_id(group.node.default_child) in depends  # type: ignore[arg-type]


def test_an_existing_log_group_is_used_not_created_nor_creatable() -> None:
    # GIVEN an EMF exporter writing to a group an earlier deployment created
    stack = new_stack("ExistingGroup")
    task, app = app_task(stack)
    CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app], monitoring=False,
        self_telemetry_namespace=None,
        exporters=CloudWatchEmfExporter(
            namespace="Shop", log_group_name="/aws/ecs/application/metrics", log_group_exists=True
        ),
    )
    template = Template.from_stack(stack)
    # THEN the stack creates no group and the collector may write but not create one
    assert template.find_resources("AWS::Logs::LogGroup", {"Properties": {"LogGroupName": "/aws/ecs/application/metrics"}}) == {}
    actions = json_actions(template)
    assert {"logs:CreateLogStream", "logs:PutLogEvents"} <= actions
    assert "logs:CreateLogGroup" not in actions
    with pytest.raises(ConfigError, match=r"^exporters.awsemf.retention_days: the log group exists already"):
        CloudWatchEmfExporter(namespace="S", log_group_name="/g", log_group_exists=True, retention_days=7)


def json_actions(template: Template) -> set[str]:
    found: set[str] = set()
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            action = statement["Action"]
            found |= set(action if isinstance(action, list) else [action])
    return found


def test_variables_ecs_sets_in_every_task_need_no_provider() -> None:
    stack = new_stack("EcsVars")
    task, app = app_task(stack)
    CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app], monitoring=False,
        config_replacement=HONEYCOMB_REPLACEMENT.replace("https://api.honeycomb.io", "https://otlp.${env:AWS_REGION}.example"),
        secrets=[SecretRef(env_name="HONEYCOMB_API_KEY", secret_id="honeycomb/api-key")],
    )
    Template.from_stack(stack)


def test_put_telemetry_records_only_when_the_xray_exporter_reports_telemetry() -> None:
    stack = new_stack("XrayTelemetry")
    task, app = app_task(stack)
    CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app], exporters=XRayExporter(),
        config_overrides={"exporters": {"awsxray": {"telemetry": {"enabled": True}}}},
    )
    assert {"xray:PutTraceSegments", "xray:PutTelemetryRecords"} <= json_actions(Template.from_stack(stack))
