"""Typed receivers: the X-Ray daemon protocol beside OTLP, rendered, refused and wired."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Match, Template
from otel_fargate import CollectorGateway, CollectorSidecar, OtelFargateError
from otel_fargate.config import (
    CollectorConfigOptions,
    ConfigError,
    DebugExporter,
    FluentForwardReceiver,
    XRayDaemonReceiver,
    XRayExporter,
    render,
)

from tests.library.test_constructs import app_task, containers, new_cluster, new_stack

SAMPLING = ["xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"]


def _sidecar(**extra: Any) -> CollectorConfigOptions:
    return CollectorConfigOptions(
        preset="sidecar", exporters=(XRayExporter(),), receivers=(XRayDaemonReceiver(),), **extra
    )


# --- rendering ---------------------------------------------------------------------------


def test_xray_daemon_receiver_renders_udp_and_the_sampling_proxy_on_loopback() -> None:
    # GIVEN a sidecar with an X-Ray daemon receiver WHEN it renders
    rendered = render(_sidecar())

    # THEN the awsxray receiver listens for segments on UDP and for sampling calls on TCP,
    # both on loopback, and feeds the traces pipeline next to OTLP
    assert rendered.config["receivers"]["awsxray"] == {
        "endpoint": "127.0.0.1:2000",
        "transport": "udp",
        "proxy_server": {"endpoint": "127.0.0.1:2000"},
    }
    assert rendered.config["service"]["pipelines"]["traces"]["receivers"] == ["otlp", "awsxray"]
    assert rendered.ports["awsxray"] == 2000
    assert rendered.ports["awsxray-proxy"] == 2000


def test_only_the_pipelines_of_the_receivers_signals_get_it() -> None:
    # GIVEN a sidecar exporting every signal WHEN it renders with an X-Ray receiver
    rendered = render(
        CollectorConfigOptions(
            preset="sidecar", exporters=(DebugExporter(),), receivers=(XRayDaemonReceiver(),)
        )
    )
    pipelines = rendered.config["service"]["pipelines"]

    # THEN only traces take X-Ray segments
    assert pipelines["traces"]["receivers"] == ["otlp", "awsxray"]
    assert pipelines["metrics"]["receivers"] == ["otlp"]
    assert pipelines["logs"]["receivers"] == ["otlp"]


def test_agent_forwards_xray_segments_to_the_gateway() -> None:
    # GIVEN an agent WHEN it renders with an X-Ray receiver with its own region
    rendered = render(
        CollectorConfigOptions(
            preset="agent", receivers=(XRayDaemonReceiver(name="legacy", region="eu-west-1"),)
        )
    )

    # THEN the segments go the agent's traces way, to the gateway
    traces = rendered.config["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp", "awsxray/legacy"]
    assert traces["exporters"] == ["otlp_grpc/gateway"]
    assert rendered.config["receivers"]["awsxray/legacy"]["proxy_server"]["region"] == "eu-west-1"


def test_the_receiver_needs_the_sampling_reads() -> None:
    # GIVEN a sidecar with the receiver, and one without WHEN their permissions are derived
    # THEN the receiver (whose proxy always runs upstream) brings the X-Ray sampling reads
    assert render(_sidecar()).iam.xray_sampling is True
    plain = CollectorConfigOptions(preset="sidecar", exporters=(XRayExporter(),))
    assert render(plain).iam.xray_sampling is False


@pytest.mark.parametrize(
    ("endpoint", "proxy", "address"),
    [
        ("127.0.0.1:2000", "127.0.0.1:2000", "127.0.0.1:2000"),
        ("127.0.0.1:2000", "127.0.0.1:2001", "tcp:127.0.0.1:2001 udp:127.0.0.1:2000"),
    ],
)
def test_daemon_address_is_one_address_or_the_sdk_pair(endpoint: str, proxy: str, address: str) -> None:
    # GIVEN segment and proxy endpoints WHEN the SDK variable is derived
    # THEN it is host:port when they agree, the SDKs' "tcp:... udp:..." form otherwise
    assert XRayDaemonReceiver(endpoint=endpoint, proxy_endpoint=proxy).daemon_address == address


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"endpoint": "2000"}, r"receivers\.awsxray\.endpoint: must be host:port .* got '2000'"),
        (
            {"proxy_endpoint": "127.0.0.1:70000"},
            r"receivers\.awsxray\.proxy_endpoint: must be host:port .* got '127\.0\.0\.1:70000'",
        ),
        (
            {"endpoint": "${env:OTEL_GATEWAY_TOKEN}:1"},
            r"receivers\.awsxray\.endpoint: must be a literal",
        ),
        ({"region": "Ireland"}, r"receivers\.awsxray\.region: must be an AWS region .*'Ireland'"),
        ({"name": "a b"}, r"receivers\.awsxray\.name: must match .*'a b'"),
    ],
)
def test_bad_receiver_settings_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        XRayDaemonReceiver(**kwargs)


def test_gateway_refuses_typed_receivers() -> None:
    with pytest.raises(ConfigError, match=r"receivers: the gateway preset .* got awsxray"):
        CollectorConfigOptions(
            preset="gateway", exporters=(XRayExporter(),), receivers=(XRayDaemonReceiver(),)
        )


def test_receivers_must_be_typed() -> None:
    with pytest.raises(ConfigError, match=r"receivers\[0\]: must be a receiver .* got 'awsxray'"):
        CollectorConfigOptions(preset="sidecar", exporters=(XRayExporter(),), receivers=("awsxray",))  # type: ignore[arg-type]


def test_one_receiver_id_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"receivers: two receivers have one id.*'awsxray'"):
        CollectorConfigOptions(
            preset="sidecar",
            exporters=(XRayExporter(),),
            receivers=(XRayDaemonReceiver(), XRayDaemonReceiver(endpoint="127.0.0.1:2002")),
        )


def test_receivers_beside_a_replacement_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"receivers: cannot be combined with replacement"):
        CollectorConfigOptions(
            preset="sidecar", replacement="receivers: {}", receivers=(XRayDaemonReceiver(),)
        )


def test_a_sidecar_exporting_no_traces_refuses_the_xray_receiver() -> None:
    # GIVEN a sidecar whose only exporter takes logs WHEN it renders with an X-Ray receiver
    options = CollectorConfigOptions(
        preset="sidecar",
        exporters=(DebugExporter(signals=("logs",)),),
        receivers=(XRayDaemonReceiver(),),
    )
    # THEN it is refused, naming the receiver and the missing pipeline
    with pytest.raises(
        ConfigError, match=r"receivers\.awsxray: feeds traces, but this collector has no traces "
        r"pipeline \(no exporter takes traces; pipelines: logs"
    ):
        render(options)


def test_an_agent_forwarding_no_traces_refuses_the_xray_receiver() -> None:
    options = CollectorConfigOptions(
        preset="agent", forward_signals=("metrics",), receivers=(XRayDaemonReceiver(),)
    )
    with pytest.raises(ConfigError, match=r"receivers\.awsxray: .*no exporter or forwarded signal"):
        render(options)


def test_open_receiver_endpoint_is_refused_by_the_loopback_guard() -> None:
    options = _sidecar(overrides={"receivers": {"awsxray": {"proxy_server": {"endpoint": "0.0.0.0:2000"}}}})
    with pytest.raises(
        ConfigError, match=r"overrides: receivers\.awsxray\.proxy_server\.endpoint: must listen on loopback"
    ):
        render(options)
    udp = _sidecar(overrides={"receivers": {"awsxray": {"endpoint": "0.0.0.0:2000"}}})
    with pytest.raises(ConfigError, match=r"receivers\.awsxray\.endpoint: must listen on loopback"):
        render(udp)


def test_the_proxy_cannot_take_a_tcp_port_in_use() -> None:
    options = CollectorConfigOptions(
        preset="sidecar",
        exporters=(XRayExporter(),),
        receivers=(XRayDaemonReceiver(proxy_endpoint="127.0.0.1:4317"),),
    )
    with pytest.raises(
        ConfigError, match=r"receivers\.awsxray\.proxy_server\.endpoint: port 4317 is already used"
    ):
        render(options)


def test_udp_segments_may_share_a_port_number_with_a_tcp_listener() -> None:
    # GIVEN segments on UDP 4318, the OTLP/HTTP port number on TCP WHEN it renders
    # THEN nothing clashes: UDP and TCP ports are distinct
    rendered = render(
        CollectorConfigOptions(
            preset="sidecar",
            exporters=(XRayExporter(),),
            receivers=(XRayDaemonReceiver(endpoint="127.0.0.1:4318", proxy_endpoint="127.0.0.1:2000"),),
        )
    )
    assert rendered.config["receivers"]["awsxray"]["endpoint"] == "127.0.0.1:4318"


def test_a_misspelled_receiver_key_is_refused() -> None:
    options = _sidecar(overrides={"receivers": {"awsxray": {"proxy_server": {"regoin": "eu-west-1"}}}})
    with pytest.raises(
        ConfigError,
        match=r"overrides: receivers\.awsxray\.proxy_server\.regoin: unknown setting of awsxray v0\.158\.0",
    ):
        render(options)


# --- constructs --------------------------------------------------------------------------


def test_sidecar_points_app_containers_at_the_daemon_receiver_and_grants_sampling() -> None:
    # GIVEN a sidecar with an X-Ray daemon receiver WHEN the stack synthesizes
    stack = new_stack("XRayDaemon")
    task, app = app_task(stack)
    CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app],
        exporters=[XRayExporter()], receivers=[XRayDaemonReceiver(proxy_endpoint="127.0.0.1:2001")],
    )
    template = Template.from_stack(stack)

    # THEN the app gets the SDK's daemon address, and the task role the sampling reads
    env = {e["Name"]: e["Value"] for e in containers(template)["checkout"]["Environment"]}
    assert env["AWS_XRAY_DAEMON_ADDRESS"] == "tcp:127.0.0.1:2001 udp:127.0.0.1:2000"
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyDocument": {"Statement": Match.array_with([
            Match.object_like({"Action": SAMPLING, "Effect": "Allow", "Resource": "*"})
        ])}},
    )


def test_an_app_already_pointing_at_the_same_address_is_accepted() -> None:
    stack = new_stack("XRaySame")
    task, app = app_task(stack, env={"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"})
    CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app],
                     exporters=[XRayExporter()], receivers=[XRayDaemonReceiver()])
    env = containers(Template.from_stack(stack))["checkout"]["Environment"]
    assert [e["Value"] for e in env if e["Name"] == "AWS_XRAY_DAEMON_ADDRESS"] == ["127.0.0.1:2000"]


def test_an_app_pointing_elsewhere_is_refused() -> None:
    stack = new_stack("XRayElsewhere")
    task, app = app_task(stack, env={"AWS_XRAY_DAEMON_ADDRESS": "xray-daemon:2000"})
    with pytest.raises(
        OtelFargateError,
        match=r"app_containers\.checkout\.AWS_XRAY_DAEMON_ADDRESS: .*'127\.0\.0\.1:2000'.*"
        r"got 'xray-daemon:2000'",
    ):
        CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app],
                         exporters=[XRayExporter()], receivers=[XRayDaemonReceiver()])


def test_without_the_receiver_no_daemon_address_is_set() -> None:
    stack = new_stack("NoXRayDaemon")
    task, app = app_task(stack)
    CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app], exporters=[XRayExporter()])
    env = {e["Name"] for e in containers(Template.from_stack(stack))["checkout"]["Environment"]}
    assert "AWS_XRAY_DAEMON_ADDRESS" not in env


def test_gateway_construct_refuses_receivers() -> None:
    stack = new_stack("GatewayReceivers")
    with pytest.raises(ConfigError, match=r"receivers: the gateway preset"):
        CollectorGateway(stack, "Gateway", cluster=new_cluster(stack), exporters=[XRayExporter()],
                         receivers=[XRayDaemonReceiver()])


# --- stdout logs through FireLens ----------------------------------------------------------


def _stdout_stack(name: str, **options: Any) -> tuple[Template, CollectorSidecar]:
    stack = new_stack(name)
    task, app = app_task(stack, memory=256)
    sidecar = CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app],
        exporters=[DebugExporter(signals=("logs",))], stdout_logs=True, **options,
    )
    return Template.from_stack(stack), sidecar


def test_fluent_forward_receiver_renders_into_the_logs_pipeline() -> None:
    rendered = render(
        CollectorConfigOptions(
            preset="sidecar", exporters=(DebugExporter(),), receivers=(FluentForwardReceiver(),)
        )
    )
    assert rendered.config["receivers"]["fluent_forward"] == {"endpoint": "127.0.0.1:8006"}
    pipelines = rendered.config["service"]["pipelines"]
    assert pipelines["logs"]["receivers"] == ["otlp", "fluent_forward"]
    assert pipelines["traces"]["receivers"] == ["otlp"]


def test_stdout_logs_add_a_firelens_router_and_route_the_app_through_it() -> None:
    # GIVEN a sidecar with stdout logs WHEN the stack synthesizes
    template, sidecar = _stdout_stack("StdoutLogs", log_retention_days=14)
    found = containers(template)

    # THEN the task has a Fluent Bit FireLens router (its image built from the pinned AWS for
    # Fluent Bit, see test_firelens_buffer) with ECS metadata on and the buffer file included
    router = found["log-router"]
    assert "container-assets" in router["Image"]["Fn::Sub"]
    assert router["FirelensConfiguration"] == {
        "Type": "fluentbit",
        "Options": {
            "enable-ecs-log-metadata": "true",
            "config-file-type": "file",
            "config-file-value": "/fluent-bit/etc/otel-fargate/buffer.conf",
        },
    }
    assert router["MemoryReservation"] == 64
    assert router["Essential"] is False
    assert router["LogConfiguration"]["LogDriver"] == "awslogs"
    # AND its own output goes to a log group with the construct's retention
    template.has_resource_properties(
        "AWS::Logs::LogGroup", {"RetentionInDays": 14}
    )
    group = router["LogConfiguration"]["Options"]["awslogs-group"]["Ref"]
    assert template.to_json()["Resources"][group]["Properties"]["RetentionInDays"] == 14
    # AND the app logs through FireLens to the router's disk buffer, which forwards to the
    # collector's fluent_forward receiver
    app = found["checkout"]
    assert app["LogConfiguration"] == {
        "LogDriver": "awsfirelens",
        "Options": {"Name": "forward", "Host": "127.0.0.1", "Port": "24225", "Retry_Limit": "30"},
    }
    assert _env(router)["OTEL_FARGATE_LOG_FORWARD_PORT"] == "8006"
    assert {"Condition": "START", "ContainerName": "log-router"} in app["DependsOn"]
    assert sidecar.rendered_config.config["service"]["pipelines"]["logs"]["receivers"] == [
        "otlp", "fluent_forward"
    ]


def test_stdout_logs_forward_to_the_port_of_a_given_receiver() -> None:
    template, _ = _stdout_stack(
        "StdoutLogsPort", receivers=[FluentForwardReceiver(endpoint="127.0.0.1:8010")]
    )
    assert _env(containers(template)["log-router"])["OTEL_FARGATE_LOG_FORWARD_PORT"] == "8010"


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {pair["Name"]: pair["Value"] for pair in container.get("Environment", [])}


def test_without_stdout_logs_there_is_no_router() -> None:
    stack = new_stack("NoStdoutLogs")
    task, app = app_task(stack)
    CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app],
                     exporters=[DebugExporter()])
    found = containers(Template.from_stack(stack))
    assert "log-router" not in found
    assert "LogConfiguration" not in found["checkout"]


def test_stdout_logs_without_a_logs_exporter_are_refused() -> None:
    stack = new_stack("StdoutNoLogs")
    task, app = app_task(stack)
    with pytest.raises(OtelFargateError, match=r"stdout_logs: .*no logs pipeline \(no exporter takes logs\).*got True"):
        CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app],
                         exporters=[XRayExporter()], stdout_logs=True)


def test_stdout_logs_beside_a_replacement_are_refused() -> None:
    stack = new_stack("StdoutReplacement")
    task, app = app_task(stack)
    with pytest.raises(OtelFargateError, match=r"stdout_logs: cannot be combined with config_replacement"):
        CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app],
                         config_replacement="receivers: {}", stdout_logs=True)


def test_an_app_container_with_its_own_log_driver_is_refused() -> None:
    stack = new_stack("StdoutOwnDriver")
    task, _ = app_task(stack, memory=256)
    logged = task.add_container(
        "logged", image=ecs.ContainerImage.from_registry("my/app"), memory_limit_mib=128,
        logging=ecs.LogDrivers.aws_logs(stream_prefix="app"),
    )
    with pytest.raises(OtelFargateError, match=r"app_containers\.logged\.logging: .*leave its logging unset, got 'awslogs'"):
        CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[logged],
                         exporters=[DebugExporter()], stdout_logs=True)


def test_a_task_with_a_log_router_already_is_refused() -> None:
    stack = new_stack("StdoutTwoRouters")
    task, app = app_task(stack, memory=256)
    task.add_firelens_log_router(
        "Router", image=ecs.ContainerImage.from_registry("my/fluent-bit"), memory_limit_mib=64,
        firelens_config=ecs.FirelensConfig(type=ecs.FirelensLogRouterType.FLUENTBIT),
    )
    with pytest.raises(OtelFargateError, match=r"stdout_logs: task .* already has a FireLens log router"):
        CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app],
                         exporters=[DebugExporter()], stdout_logs=True)


def test_stdout_logs_must_be_a_bool() -> None:
    stack = new_stack("StdoutNotBool")
    task, app = app_task(stack)
    with pytest.raises(OtelFargateError, match=r"stdout_logs: .*'yes'"):
        CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app],
                         exporters=[DebugExporter()], stdout_logs="yes")  # type: ignore[arg-type]


def test_the_router_memory_counts_in_the_task() -> None:
    # GIVEN a 1024 MiB task whose app and collector leave less than the router's 64 MiB
    stack = new_stack("StdoutTooBig")
    task, app = app_task(stack, memory=480)
    CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app],
                     exporters=[DebugExporter()], stdout_logs=True)
    # WHEN the app synthesizes THEN the router's memory tips the task over, and synth says so
    with pytest.raises(RuntimeError, match=r"memory_mib: the containers of task StdoutTooBig/Task reserve 1056 MiB"):
        Template.from_stack(stack)
