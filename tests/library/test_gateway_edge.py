"""The gateway's network edge and the agent → gateway hop: the internal NLB's security group
(who may reach the tasks through it) and TLS between agents and the gateway.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_servicediscovery as servicediscovery
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks
from otel_fargate import (
    CollectorConfigOptions,
    CollectorGateway,
    CollectorSidecar,
    ConfigError,
    DebugExporter,
    OtelFargateError,
    XRayExporter,
    render,
)
from otel_fargate.config.options.tls import GatewayTlsOptions
from otel_fargate.gateway.construct import GatewayTls

from tests.conftest import REPO_ROOT, checkov_binary, collector_config_text, collector_containers

CA_PEM = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBszCCAVmgAwIBAgIUQ2E=\n"
    "-----END CERTIFICATE-----\n"
)
KEY_PEM = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgE=\n-----END PRIVATE KEY-----\n"


def new_stack(name: str, app: cdk.App | None = None) -> cdk.Stack:
    return cdk.Stack(
        app if app is not None else cdk.App(),
        name,
        env=cdk.Environment(account="123456789012", region="eu-west-1"),
    )


def new_cluster(stack: cdk.Stack) -> ecs.Cluster:
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    vpc.add_flow_log("FlowLog")
    return ecs.Cluster(
        stack,
        "Cluster",
        vpc=vpc,
        container_insights_v2=ecs.ContainerInsights.ENHANCED,
        default_cloud_map_namespace=ecs.CloudMapNamespaceOptions(
            name="test.internal",
            type=servicediscovery.NamespaceType.HTTP,
            use_for_service_connect=True,
        ),
    )


def agent_task(stack: cdk.Stack) -> tuple[ecs.FargateTaskDefinition, ecs.ContainerDefinition]:
    task = ecs.FargateTaskDefinition(stack, "Task", cpu=512, memory_limit_mib=1024)
    app = task.add_container(
        "app",
        container_name="checkout",
        image=ecs.ContainerImage.from_registry("public.ecr.aws/docker/library/busybox:1.36"),
        memory_limit_mib=384,
        cpu=256,
        logging=ecs.LogDrivers.aws_logs(
            stream_prefix="app", log_retention=logs.RetentionDays.ONE_WEEK
        ),
    )
    return task, app


def tls_secrets(stack: cdk.Stack) -> dict[str, secretsmanager.ISecret]:
    """Secrets named ``otel/gateway-cert``, ``-key`` and ``-ca`` (imported once per stack)."""
    found: dict[str, secretsmanager.ISecret] = {}
    for name in ("cert", "key", "ca"):
        known = stack.node.try_find_child(name)
        found[name] = (
            known  # type: ignore[assignment]
            if known is not None
            else secretsmanager.Secret.from_secret_name_v2(stack, name, f"otel/gateway-{name}")
        )
    return found


def resources(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r["Properties"] for lid, r in template.find_resources(kind).items()}


def group_id(template: Template, description_start: str) -> str:
    (found,) = [
        lid
        for lid, props in resources(template, "AWS::EC2::SecurityGroup").items()
        if props["GroupDescription"].startswith(description_start)
    ]
    return found


def ingress_of(template: Template, group: str) -> list[tuple[int, Any]]:
    """(port, source) of every ingress rule of ``group``: inline CIDR rules and separate
    security-group rules."""
    inline = resources(template, "AWS::EC2::SecurityGroup")[group].get("SecurityGroupIngress", [])
    rules = [(r["FromPort"], r.get("CidrIp") or r.get("SourceSecurityGroupId")) for r in inline]
    for rule in resources(template, "AWS::EC2::SecurityGroupIngress").values():
        if rule["GroupId"] == {"Fn::GetAtt": [group, "GroupId"]}:
            assert rule["FromPort"] == rule["ToPort"]
            rules.append((rule["FromPort"], rule.get("CidrIp") or rule["SourceSecurityGroupId"]))
    return sorted(rules, key=json.dumps)


def sg_ref(group: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [group, "GroupId"]}


# -- 9. the internal NLB has a security group; allowed_peers hold through it ----------------------


@pytest.fixture(scope="module")
def nlb_stack() -> tuple[Template, CollectorGateway, ec2.SecurityGroup]:
    stack = new_stack("NlbEdge")
    cluster = new_cluster(stack)
    # GIVEN narrowed peers: one CIDR and one client security group (not the VPC's CIDR)
    clients = ec2.SecurityGroup(stack, "Clients", vpc=cluster.vpc, description="EC2 clients")
    gateway = CollectorGateway(
        stack, "Gateway", cluster=cluster, exporters=[DebugExporter()], internal_nlb=True,
        allowed_peers=[ec2.Peer.ipv4("10.0.64.0/24"), clients],
    )
    # AND one more peer opened afterwards
    gateway.allow_from(ec2.Peer.ipv4("10.0.65.0/24"))
    return Template.from_stack(stack), gateway, clients


def test_the_nlb_has_its_own_security_group(
    nlb_stack: tuple[Template, CollectorGateway, ec2.SecurityGroup],
) -> None:
    template, gateway, _ = nlb_stack
    nlb_group = group_id(template, "Internal OTLP load balancer")
    (nlb,) = resources(template, "AWS::ElasticLoadBalancingV2::LoadBalancer").values()
    assert nlb["Type"] == "network" and nlb["Scheme"] == "internal"
    assert nlb["SecurityGroups"] == [sg_ref(nlb_group)]
    assert gateway.load_balancer_security_group is not None


def test_the_nlb_admits_the_allowed_peers_only_on_the_otlp_ports(
    nlb_stack: tuple[Template, CollectorGateway, ec2.SecurityGroup],
) -> None:
    template, _, _ = nlb_stack
    nlb_group = group_id(template, "Internal OTLP load balancer")
    clients = group_id(template, "EC2 clients")
    peers = ["10.0.64.0/24", sg_ref(clients), "10.0.65.0/24"]
    expected = [(port, peer) for peer in peers for port in (4317, 4318)]
    assert ingress_of(template, nlb_group) == sorted(expected, key=json.dumps)


def test_the_tasks_take_otlp_and_health_checks_from_the_nlb_group_and_otlp_from_the_peers(
    nlb_stack: tuple[Template, CollectorGateway, ec2.SecurityGroup],
) -> None:
    template, _, _ = nlb_stack
    task_group = group_id(template, "otel-gateway collector gateway")
    nlb_group = group_id(template, "Internal OTLP load balancer")
    clients = group_id(template, "EC2 clients")
    # THEN Service Connect clients (the peers) reach 4317/4318 directly, the NLB reaches
    # 4317/4318 and the health port through its own group, and nothing else is open: no
    # health-check rule from the VPC's CIDR
    expected = [
        *((port, peer) for peer in ("10.0.64.0/24", sg_ref(clients), "10.0.65.0/24")
          for port in (4317, 4318)),
        *((port, sg_ref(nlb_group)) for port in (4317, 4318, 13133)),
    ]
    assert ingress_of(template, task_group) == sorted(expected, key=json.dumps)


def test_the_nlb_group_sends_only_to_the_tasks(
    nlb_stack: tuple[Template, CollectorGateway, ec2.SecurityGroup],
) -> None:
    template, _, _ = nlb_stack
    task_group = group_id(template, "otel-gateway collector gateway")
    nlb_group = group_id(template, "Internal OTLP load balancer")
    assert "SecurityGroupEgress" not in resources(template, "AWS::EC2::SecurityGroup")[nlb_group]
    egress = sorted(
        (rule["FromPort"], rule["ToPort"], json.dumps(rule["DestinationSecurityGroupId"]))
        for rule in resources(template, "AWS::EC2::SecurityGroupEgress").values()
        if rule["GroupId"] == sg_ref(nlb_group)
    )
    assert egress == [(p, p, json.dumps(sg_ref(task_group))) for p in (4317, 4318, 13133)]


def test_the_targets_see_the_nlb_and_health_checks_stay_http_on_13133(
    nlb_stack: tuple[Template, CollectorGateway, ec2.SecurityGroup],
) -> None:
    template, _, _ = nlb_stack
    groups = resources(template, "AWS::ElasticLoadBalancingV2::TargetGroup").values()
    assert sorted(g["Port"] for g in groups) == [4317, 4318]
    for group in groups:
        attributes = {a["Key"]: a["Value"] for a in group["TargetGroupAttributes"]}
        # the tasks' rule names the NLB's group, so the NLB must be the source they see
        assert attributes["preserve_client_ip.enabled"] == "false"
        assert (group["Protocol"], group["TargetType"]) == ("TCP", "ip")
        assert (group["HealthCheckProtocol"], group["HealthCheckPort"]) == ("HTTP", "13133")


def test_allow_from_opens_the_tasks_alone_without_an_nlb() -> None:
    stack = new_stack("NoNlb")
    gateway = CollectorGateway(
        stack, "Gateway", cluster=new_cluster(stack), exporters=[DebugExporter()],
        allowed_peers=[ec2.Peer.ipv4("10.0.64.0/24")],
    )
    gateway.allow_from(ec2.Peer.ipv4("10.0.65.0/24"))
    template = Template.from_stack(stack)
    assert gateway.load_balancer_security_group is None
    template.resource_count_is("AWS::EC2::SecurityGroup", 1)
    task_group = group_id(template, "otel-gateway collector gateway")
    assert ingress_of(template, task_group) == sorted(
        [(p, c) for c in ("10.0.64.0/24", "10.0.65.0/24") for p in (4317, 4318)], key=json.dumps
    )


def test_allow_from_refuses_the_open_world_on_the_nlb_too(
    nlb_stack: tuple[Template, CollectorGateway, ec2.SecurityGroup],
) -> None:
    with pytest.raises(OtelFargateError, match=r"^peer: the gateway is never opened to the whole internet, got '0\.0\.0\.0/0'$"):
        nlb_stack[1].allow_from(ec2.Peer.any_ipv4())


# -- 10. TLS between agents and the gateway --------------------------------------------------


@pytest.fixture(scope="module")
def tls_stack() -> Template:
    stack = new_stack("TlsEdge")
    secrets = tls_secrets(stack)
    gateway = CollectorGateway(
        stack, "Gateway", cluster=new_cluster(stack), exporters=[XRayExporter()],
        internal_nlb=True,
        tls=GatewayTls(certificate=secrets["cert"], private_key=secrets["key"], ca=secrets["ca"]),
    )
    task, app = agent_task(stack)
    CollectorSidecar(stack, "Agent", task_definition=task, app_containers=[app], gateway=gateway)
    return Template.from_stack(stack)


def gateway_and_agent(template: Template) -> tuple[dict[str, Any], dict[str, Any]]:
    found = collector_containers(template.to_json())
    (gateway,) = [c for c in found if "PortMappings" in c]
    (agent,) = [c for c in found if "PortMappings" not in c]
    return gateway, agent


def secret_names(container: dict[str, Any]) -> dict[str, Any]:
    return {s["Name"]: s["ValueFrom"] for s in container.get("Secrets", [])}


def test_the_gateway_serves_tls_with_the_certificate_and_key_from_secrets(tls_stack: Template) -> None:
    gateway, _ = gateway_and_agent(tls_stack)
    config = yaml.safe_load(collector_config_text(gateway))
    for protocol in ("grpc", "http"):
        assert config["receivers"]["otlp"]["protocols"][protocol]["tls"] == {
            "cert_pem": "${env:OTEL_GATEWAY_TLS_CERT}",
            "key_pem": "${env:OTEL_GATEWAY_TLS_KEY}",
            "min_version": "1.2",
        }
        # the bearer token is still required, now inside TLS
        assert config["receivers"]["otlp"]["protocols"][protocol]["auth"] == {
            "authenticator": "bearertokenauth/gateway"
        }
    secrets = secret_names(gateway)
    assert set(secrets) == {
        "OTEL_GATEWAY_TOKEN", "OTEL_GATEWAY_TOKEN_PREVIOUS", "OTEL_GATEWAY_TLS_CERT",
        "OTEL_GATEWAY_TLS_KEY",
    }
    assert ":secret:otel/gateway-cert" in json.dumps(secrets["OTEL_GATEWAY_TLS_CERT"])
    assert ":secret:otel/gateway-key" in json.dumps(secrets["OTEL_GATEWAY_TLS_KEY"])


def test_the_gateway_execution_role_may_read_the_certificate_and_key(tls_stack: Template) -> None:
    granted = json.dumps([
        statement
        for lid, policy in resources(tls_stack, "AWS::IAM::Policy").items()
        if lid.startswith("GatewayTaskDefinitionExecutionRole")
        for statement in policy["PolicyDocument"]["Statement"]
    ])
    assert ":secret:otel/gateway-cert-??????" in granted
    assert ":secret:otel/gateway-key-??????" in granted
    assert ":secret:otel/gateway-ca-" not in granted


def test_with_tls_service_connect_passes_tcp_through(tls_stack: Template) -> None:
    gateway, _ = gateway_and_agent(tls_stack)
    # Envoy cannot read gRPC/HTTP inside TLS: no app protocol, the same names and alias
    assert gateway["PortMappings"] == [
        {"ContainerPort": 4317, "Name": "otlp-grpc", "Protocol": "tcp"},
        {"ContainerPort": 4318, "Name": "otlp-http", "Protocol": "tcp"},
        {"ContainerPort": 13133, "Name": "health", "Protocol": "tcp"},
    ]
    (service,) = [
        s for s in resources(tls_stack, "AWS::ECS::Service").values()
        if "ServiceConnectConfiguration" in s
    ]
    aliases = [
        (s["PortName"], s["ClientAliases"]) for s in service["ServiceConnectConfiguration"]["Services"]
    ]
    assert aliases == [
        ("otlp-grpc", [{"DnsName": "otel-gateway", "Port": 4317}]),
        ("otlp-http", [{"DnsName": "otel-gateway", "Port": 4318}]),
    ]


def test_with_tls_the_nlb_passes_tcp_through_and_checks_plain_http_health(tls_stack: Template) -> None:
    listeners = resources(tls_stack, "AWS::ElasticLoadBalancingV2::Listener").values()
    assert sorted((lst["Port"], lst["Protocol"]) for lst in listeners) == [(4317, "TCP"), (4318, "TCP")]
    assert all("Certificates" not in lst for lst in listeners)
    for group in resources(tls_stack, "AWS::ElasticLoadBalancingV2::TargetGroup").values():
        assert (group["Protocol"], group["HealthCheckProtocol"]) == ("TCP", "HTTP")


def test_agents_verify_the_gateway_with_the_ca_and_send_the_token_inside_tls(tls_stack: Template) -> None:
    _, agent = gateway_and_agent(tls_stack)
    exporter = yaml.safe_load(collector_config_text(agent))["exporters"]["otlp_grpc/gateway"]
    assert exporter["endpoint"] == "otel-gateway:4317"
    # the host dialled is the name the certificate carries: no server_name_override needed
    assert exporter["tls"] == {"ca_pem": "${env:OTEL_GATEWAY_TLS_CA}"}
    assert exporter["headers"] == {"authorization": "Bearer ${env:OTEL_GATEWAY_TOKEN}"}
    secrets = secret_names(agent)
    assert set(secrets) == {"OTEL_GATEWAY_TOKEN", "OTEL_GATEWAY_TLS_CA"}
    assert ":secret:otel/gateway-ca" in json.dumps(secrets["OTEL_GATEWAY_TLS_CA"])


def test_a_ca_given_as_pem_text_is_written_into_the_agents_config() -> None:
    stack = new_stack("TlsInlineCa")
    secrets = tls_secrets(stack)
    gateway = CollectorGateway(
        stack, "Gateway", cluster=new_cluster(stack), exporters=[DebugExporter()],
        tls=GatewayTls(
            certificate=secrets["cert"], private_key=secrets["key"], ca=CA_PEM,
            server_name="gateway.otel.internal", min_version="1.3",
        ),
    )
    task, app = agent_task(stack)
    CollectorSidecar(stack, "Agent", task_definition=task, app_containers=[app], gateway=gateway)
    gateway_container, agent = gateway_and_agent(Template.from_stack(stack))
    exporter = yaml.safe_load(collector_config_text(agent))["exporters"]["otlp_grpc/gateway"]
    assert exporter["tls"] == {"ca_pem": CA_PEM, "server_name_override": "gateway.otel.internal"}
    assert set(secret_names(agent)) == {"OTEL_GATEWAY_TOKEN"}
    receivers = yaml.safe_load(collector_config_text(gateway_container))["receivers"]["otlp"]
    assert receivers["protocols"]["grpc"]["tls"]["min_version"] == "1.3"


def test_without_tls_the_hop_stays_plaintext_with_grpc_and_http_app_protocols() -> None:
    stack = new_stack("NoTls")
    gateway = CollectorGateway(stack, "Gateway", cluster=new_cluster(stack), exporters=[DebugExporter()])
    task, app = agent_task(stack)
    CollectorSidecar(stack, "Agent", task_definition=task, app_containers=[app], gateway=gateway)
    gateway_container, agent = gateway_and_agent(Template.from_stack(stack))
    assert "OTEL_GATEWAY_TLS" not in json.dumps(gateway_container) + json.dumps(agent)
    assert "tls" not in yaml.safe_load(collector_config_text(gateway_container))["receivers"]["otlp"]["protocols"]["grpc"]
    exporter = yaml.safe_load(collector_config_text(agent))["exporters"]["otlp_grpc/gateway"]
    assert exporter["tls"] == {"insecure": True}
    protocols = {p["Name"]: p.get("AppProtocol") for p in gateway_container["PortMappings"]}
    assert protocols == {"otlp-grpc": "grpc", "otlp-http": "http", "health": None}


def bad_tls(stack: cdk.Stack, **given: Any) -> GatewayTls:
    secrets = tls_secrets(stack)
    fields: dict[str, Any] = {
        "certificate": secrets["cert"], "private_key": secrets["key"], "ca": secrets["ca"],
    }
    return GatewayTls(**{**fields, **given})


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"certificate": "otel/gateway-cert"}, r"^tls\.certificate: must be a Secrets Manager secret \(secretsmanager\.ISecret\) or an ecs\.Secret holding PEM text, got 'otel/gateway-cert'$"),
        ({"private_key": None}, r"^tls\.private_key: must be a Secrets Manager secret .*, got None$"),
        ({"ca": "not a certificate"}, r"^tls\.ca: must be PEM text of one or more certificates \(-----BEGIN CERTIFICATE----- \.\.\.\), got 'not a certificate'$"),
        ({"ca": CA_PEM + KEY_PEM}, r"^tls\.ca: holds a private key; give the CA certificate\(s\) only \(every agent reads this\), got PEM text with a PRIVATE KEY block$"),
        ({"server_name": "otel-gateway:4317"}, r"^tls\.server_name: must be the DNS name the gateway's certificate carries \(letters, digits, hyphens and dots; no port\), got 'otel-gateway:4317'$"),
        ({"server_name": "*.otel.internal"}, r"^tls\.server_name: must be the DNS name .*, got '\*\.otel\.internal'$"),
        ({"min_version": "1.1"}, r"^tls\.min_version: must be one of 1\.2, 1\.3, got '1\.1'$"),
    ],
)
def test_bad_tls_settings_fail_naming_the_setting(given: dict[str, Any], message: str) -> None:
    with pytest.raises(OtelFargateError, match=message) as raised:
        bad_tls(new_stack("BadTls"), **given)
    assert "MIGHAgEA" not in str(raised.value)  # a private key is never echoed


def test_the_ca_may_not_be_the_private_key_secret() -> None:
    stack = new_stack("CaIsKey")
    key = secretsmanager.Secret(stack, "Key")
    for ca in (key, ecs.Secret.from_secrets_manager(key)):
        with pytest.raises(OtelFargateError, match=r"^tls\.ca: must not be the secret holding the private key \(every agent reads the CA\), got "):
            bad_tls(stack, private_key=key, ca=ca)
    # one secret holding the chain and the key serves as both (Go reads each block it needs)
    bad_tls(stack, certificate=key, private_key=key)


def test_tls_must_be_a_gateway_tls() -> None:
    stack = new_stack("TlsType")
    with pytest.raises(OtelFargateError, match=r"^tls: must be a GatewayTls or None, got True$"):
        CollectorGateway(stack, "Gateway", cluster=new_cluster(stack), exporters=[DebugExporter()], tls=True)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"receivers": {"otlp": {"protocols": {"http": {"tls": None}}}}}, r"^overrides: receivers\.otlp\.protocols\.http\.tls: the gateway has tls=GatewayTls\(\.\.\.\), so every OTLP receiver of the gateway must serve TLS with its certificate and key; a layer removed it \(no opt-out\), got None$"),
        ({"receivers": {"otlp": {"protocols": {"grpc": {"tls": {"cert_pem": None}}}}}}, r"^overrides: receivers\.otlp\.protocols\.grpc\.tls: .*a layer removed it \(no opt-out\), got \{'key_pem': "),
    ],
)
def test_overrides_may_not_drop_the_gateways_tls(overrides: dict[str, Any], message: str) -> None:
    stack = new_stack("DropTls")
    with pytest.raises(ConfigError, match=message):
        CollectorGateway(
            stack, "Gateway", cluster=new_cluster(stack), exporters=[DebugExporter()],
            tls=bad_tls(stack), config_overrides=overrides,
        )


@pytest.mark.parametrize(
    "tls",
    [None, {"insecure": True}, {"ca_pem": "${env:OTEL_GATEWAY_TLS_CA}", "insecure_skip_verify": True}],
)
def test_overrides_may_not_make_an_agent_skip_verifying_the_gateway(tls: Any) -> None:
    stack = new_stack("AgentDropTls")
    gateway = CollectorGateway(
        stack, "Gateway", cluster=new_cluster(stack), exporters=[DebugExporter()], tls=bad_tls(stack),
    )
    task, app = agent_task(stack)
    overrides = {"exporters": {"otlp_grpc/gateway": {"tls": None}}}
    if tls is not None:
        overrides = {"exporters": {"otlp_grpc/gateway": {"tls": tls}}}
    with pytest.raises(ConfigError, match=r"^overrides: exporters\.otlp_grpc/gateway: dials the gateway \('otel-gateway:4317'\), which serves TLS, so it must verify it with the CA"):
        CollectorSidecar(
            stack, "Agent", task_definition=task, app_containers=[app], gateway=gateway,
            config_overrides=overrides,
        )


# -- the configuration layer ---------------------------------------------------------------


def test_the_agent_names_the_server_only_when_it_dials_another_host() -> None:
    def tls_of(endpoint: str | None) -> dict[str, Any]:
        rendered = render(CollectorConfigOptions(
            preset="agent", gateway_endpoint=endpoint, gateway_tls=GatewayTlsOptions(),
        ))
        tls: dict[str, Any] = rendered.config["exporters"]["otlp_grpc/gateway"]["tls"]
        return tls

    assert tls_of(None) == {"ca_pem": "${env:OTEL_GATEWAY_TLS_CA}"}
    assert tls_of("OTEL-GATEWAY:4317") == {"ca_pem": "${env:OTEL_GATEWAY_TLS_CA}"}
    assert tls_of("internal-otel-123.elb.eu-west-1.amazonaws.com:4317") == {
        "ca_pem": "${env:OTEL_GATEWAY_TLS_CA}", "server_name_override": "otel-gateway",
    }


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: CollectorConfigOptions(preset="sidecar", exporters=[DebugExporter()], gateway_tls=GatewayTlsOptions()), r"^gateway_tls: only the agent, gateway and sampler presets speak to each other \(preset 'sidecar'\), got GatewayTlsOptions\("),
        (lambda: CollectorConfigOptions(preset="agent", gateway_tls=True), r"^gateway_tls: must be a GatewayTlsOptions or None, got True$"),
        (lambda: GatewayTlsOptions(min_version="1.0"), r"^gateway_tls\.min_version: must be one of 1\.2, 1\.3, got '1\.0'$"),
        (lambda: GatewayTlsOptions(server_name="otel gateway"), r"^gateway_tls\.server_name: must be the DNS name .*, got 'otel gateway'$"),
        (lambda: GatewayTlsOptions(ca_pem=KEY_PEM), r"^gateway_tls\.ca_pem: holds a private key"),
    ],
)
def test_bad_config_tls_options_fail_naming_the_setting(build: Callable[[], Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build()


def test_the_tls_variables_are_reserved() -> None:
    from otel_fargate.config import SecretRef

    for name in ("OTEL_GATEWAY_TLS_CERT", "OTEL_GATEWAY_TLS_KEY", "OTEL_GATEWAY_TLS_CA"):
        with pytest.raises(ConfigError, match=rf"^SecretRef\.env_name: '{name}' is reserved"):
            SecretRef(env_name=name, secret_id="x")


# -- policy checks on a stack with the NLB and TLS --------------------------------------------


def synth_with_nag(tmp_path: Path) -> Path:
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = new_stack("Edge", app)
    secrets = tls_secrets(stack)
    gateway = CollectorGateway(
        stack, "Gateway", cluster=new_cluster(stack), exporters=[XRayExporter()],
        internal_nlb=True, allowed_peers=[ec2.Peer.ipv4("10.0.64.0/24")],
        tls=GatewayTls(certificate=secrets["cert"], private_key=secrets["key"], ca=CA_PEM),
    )
    task, app_container = agent_task(stack)
    CollectorSidecar(stack, "Agent", task_definition=task, app_containers=[app_container], gateway=gateway)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    try:
        app.synth()
    except RuntimeError as error:  # the report says which rule, on what
        report = tmp_path / "cdk.out" / "validation-report.json"
        raise AssertionError(report.read_text() if report.exists() else str(error)) from None
    return tmp_path / "cdk.out" / "Edge.template.json"


@pytest.mark.slow
def test_cdk_nag_cfn_lint_and_checkov_accept_the_nlb_and_tls(tmp_path: Path) -> None:
    # GIVEN a gateway with the internal NLB and TLS, and an agent  WHEN synthesized with the
    # AWS Solutions checks THEN synth succeeds (nothing unacknowledged)
    template = synth_with_nag(tmp_path)
    # AND cfn-lint and checkov, with the repository's settings, find nothing
    lint = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--config-file",
         str(REPO_ROOT / ".cfnlintrc.yaml"), str(template)],
        capture_output=True, text=True, check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    only = tmp_path / "templates"
    only.mkdir()
    shutil.copy(template, only / template.name)
    result = subprocess.run(
        [checkov_binary(), "--directory", str(only), "--framework", "cloudformation",
         "--config-file", str(REPO_ROOT / ".checkov.yaml"), "--compact", "--quiet",
         "--output", "json"],
        capture_output=True, text=True, check=False,
    )
    reports = json.loads(result.stdout) if result.stdout.strip() else []
    reports = reports if isinstance(reports, list) else [reports]
    failed = [
        f"{check['check_id']} {check['resource']}"
        for report in reports
        for check in report.get("results", {}).get("failed_checks", [])
    ]
    assert result.returncode == 0 and not failed, "\n".join(failed) or result.stderr
