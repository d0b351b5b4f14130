"""Valid apps written the ways users write them synthesize clean; the hostile ones are still
refused.

Every synth check that refuses makes a claim about runtime. The agent's check claims that the
app's service cannot resolve ``otel-gateway`` because it joins another Service Connect
namespace than the gateway's; each shape below is a service that does join the gateway's
namespace, named by its name, its ARN, a token, an import or a cross-stack reference.
"""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_servicediscovery as servicediscovery
from aws_cdk import aws_ssm as ssm
from otel_fargate import CollectorGateway, CollectorSidecar, OtelFargateError, XRayExporter

from tests.library.test_constructs import app_task, new_cluster

ENV = cdk.Environment(account="123456789012", region="eu-west-1")
NS_ID = "ns-0123456789abcdef"
NS_ARN = f"arn:aws:servicediscovery:eu-west-1:123456789012:namespace/{NS_ID}"
NS_NAME = "shop.internal"

Build = Callable[[cdk.App], None]


def _agent_service(
    stack: cdk.Stack,
    gateway: CollectorGateway,
    cluster: ecs.ICluster,
    service_connect: ecs.ServiceConnectProps,
) -> None:
    """An app task with an agent forwarding to ``gateway``, run by a service in ``cluster``."""
    task, app = app_task(stack, memory=384)
    CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app], gateway=gateway)
    ecs.FargateService(
        stack, "Orders", cluster=cluster, task_definition=task,
        service_connect_configuration=service_connect,
    )


def _one_stack(app: cdk.App, name: str = "Shop") -> tuple[cdk.Stack, ecs.Cluster, CollectorGateway]:
    stack = cdk.Stack(app, name, env=ENV)
    cluster = new_cluster(stack)
    return stack, cluster, CollectorGateway(stack, "Gateway", cluster=cluster, exporters=XRayExporter())


def _imported_vpc(stack: cdk.Stack) -> ec2.IVpc:
    return ec2.Vpc.from_vpc_attributes(
        stack, "ImportedVpc", vpc_id="vpc-0123456789abcdef0", vpc_cidr_block="10.0.0.0/16",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        private_subnet_ids=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    )


def _imported_http_namespace(stack: cdk.Stack, cid: str = "Namespace") -> servicediscovery.IHttpNamespace:
    return servicediscovery.HttpNamespace.from_http_namespace_attributes(
        stack, cid, namespace_arn=NS_ARN, namespace_id=NS_ID, namespace_name=NS_NAME
    )


def _imported_cluster(stack: cdk.Stack, namespace: servicediscovery.INamespace) -> ecs.ICluster:
    return ecs.Cluster.from_cluster_attributes(
        stack, "Cluster", cluster_name="shop", vpc=_imported_vpc(stack),
        default_cloud_map_namespace=namespace,
    )


# -- the valid shapes -----------------------------------------------------------------------------


def cluster_default_namespace(app: cdk.App) -> None:
    stack, cluster, gateway = _one_stack(app)
    _agent_service(stack, gateway, cluster, ecs.ServiceConnectProps())


def gateway_client(app: cdk.App) -> None:
    stack, cluster, gateway = _one_stack(app)
    _agent_service(stack, gateway, cluster, gateway.service_connect_client())


def namespace_name_literal(app: cdk.App) -> None:
    stack, cluster, gateway = _one_stack(app)
    _agent_service(stack, gateway, cluster, ecs.ServiceConnectProps(namespace="test.internal"))


def explicit_namespace_object(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Shop", env=ENV)
    cluster = new_cluster(stack, namespace=False)
    namespace = servicediscovery.HttpNamespace(stack, "Namespace", name=NS_NAME)
    gateway = CollectorGateway(
        stack, "Gateway", cluster=cluster, namespace=namespace, exporters=XRayExporter()
    )
    _agent_service(stack, gateway, cluster, ecs.ServiceConnectProps(namespace=namespace.namespace_arn))


def explicit_namespace_by_name_token(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Shop", env=ENV)
    cluster = new_cluster(stack, namespace=False)
    namespace = servicediscovery.PrivateDnsNamespace(
        stack, "Namespace", name=NS_NAME, vpc=cluster.vpc
    )
    gateway = CollectorGateway(
        stack, "Gateway", cluster=cluster, namespace=namespace, exporters=XRayExporter()
    )
    _agent_service(stack, gateway, cluster, ecs.ServiceConnectProps(namespace=namespace.namespace_name))


def imported_namespace_by_arn_literal(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Shop", env=ENV)
    cluster = new_cluster(stack, namespace=False)
    gateway = CollectorGateway(
        stack, "Gateway", cluster=cluster, namespace=_imported_http_namespace(stack),
        exporters=XRayExporter(),
    )
    _agent_service(stack, gateway, cluster, ecs.ServiceConnectProps(namespace=NS_ARN))


def imported_namespace_by_name_literal(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Shop", env=ENV)
    cluster = new_cluster(stack, namespace=False)
    gateway = CollectorGateway(
        stack, "Gateway", cluster=cluster, namespace=_imported_http_namespace(stack),
        exporters=XRayExporter(),
    )
    _agent_service(stack, gateway, cluster, ecs.ServiceConnectProps(namespace=NS_NAME))


def namespace_imported_twice(app: cdk.App) -> None:
    # the gateway's code and the app's code each import the namespace themselves
    stack = cdk.Stack(app, "Shop", env=ENV)
    cluster = new_cluster(stack, namespace=False)
    gateway = CollectorGateway(
        stack, "Gateway", cluster=cluster, namespace=_imported_http_namespace(stack),
        exporters=XRayExporter(),
    )
    again = _imported_http_namespace(stack, "SameNamespaceAgain")
    _agent_service(stack, gateway, cluster, ecs.ServiceConnectProps(namespace=again.namespace_arn))


def imported_private_dns_namespace(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Shop", env=ENV)
    namespace = servicediscovery.PrivateDnsNamespace.from_private_dns_namespace_attributes(
        stack, "Namespace", namespace_arn=NS_ARN, namespace_id=NS_ID, namespace_name=NS_NAME
    )
    cluster = _imported_cluster(stack, namespace)
    gateway = CollectorGateway(stack, "Gateway", cluster=cluster, exporters=XRayExporter())
    _agent_service(stack, gateway, cluster, ecs.ServiceConnectProps())


def imported_cluster_with_its_default_namespace(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Shop", env=ENV)
    cluster = _imported_cluster(stack, _imported_http_namespace(stack))
    gateway = CollectorGateway(stack, "Gateway", cluster=cluster, exporters=XRayExporter())
    _agent_service(stack, gateway, cluster, gateway.service_connect_client())


def cross_stack_gateway_client(app: cdk.App) -> None:
    _base, cluster, gateway = _one_stack(app, "Base")
    _agent_service(cdk.Stack(app, "Orders", env=ENV), gateway, cluster, gateway.service_connect_client())


def cross_stack_cluster_default(app: cdk.App) -> None:
    _base, cluster, gateway = _one_stack(app, "Base")
    _agent_service(cdk.Stack(app, "Orders", env=ENV), gateway, cluster, ecs.ServiceConnectProps())


def cross_stack_namespace_token(app: cdk.App) -> None:
    base = cdk.Stack(app, "Base", env=ENV)
    cluster = new_cluster(base, namespace=False)
    namespace = servicediscovery.HttpNamespace(base, "Namespace", name=NS_NAME)
    gateway = CollectorGateway(
        base, "Gateway", cluster=cluster, namespace=namespace, exporters=XRayExporter()
    )
    orders = cdk.Stack(app, "Orders", env=ENV)
    _agent_service(orders, gateway, cluster, ecs.ServiceConnectProps(namespace=namespace.namespace_arn))


def imported_output_tokens(app: cdk.App) -> None:
    # the namespace comes from another CDK app's outputs: every identity is an Fn::ImportValue
    stack = cdk.Stack(app, "Shop", env=ENV)
    namespace = servicediscovery.HttpNamespace.from_http_namespace_attributes(
        stack, "Namespace", namespace_arn=cdk.Fn.import_value("SharedNamespaceArn"),
        namespace_id=cdk.Fn.import_value("SharedNamespaceId"),
        namespace_name=cdk.Fn.import_value("SharedNamespaceName"),
    )
    cluster = _imported_cluster(stack, namespace)
    gateway = CollectorGateway(stack, "Gateway", cluster=cluster, exporters=XRayExporter())
    _agent_service(stack, gateway, cluster, ecs.ServiceConnectProps(
        namespace=cdk.Fn.import_value("SharedNamespaceArn")
    ))


def ssm_parameter_lookup(app: cdk.App) -> None:
    # the app reads the namespace from an SSM parameter the platform team publishes
    stack, cluster, gateway = _one_stack(app)
    arn = ssm.StringParameter.value_for_string_parameter(stack, "/platform/namespace-arn")
    _agent_service(stack, gateway, cluster, ecs.ServiceConnectProps(namespace=arn))


def cfn_parameter(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Shop", env=ENV)
    name = cdk.CfnParameter(stack, "NamespaceName", default=NS_NAME).value_as_string
    cluster = new_cluster(stack, namespace=False)
    namespace = servicediscovery.HttpNamespace(stack, "Namespace", name=name)
    gateway = CollectorGateway(
        stack, "Gateway", cluster=cluster, namespace=namespace, exporters=XRayExporter()
    )
    _agent_service(stack, gateway, cluster, ecs.ServiceConnectProps(namespace=name))


def app_in_another_cluster_of_the_namespace(app: cdk.App) -> None:
    stack, cluster, gateway = _one_stack(app)
    other = ecs.Cluster(stack, "AppsCluster", vpc=cluster.vpc)
    _agent_service(stack, gateway, other, gateway.service_connect_client())


VALID: dict[str, Build] = {
    build.__name__: build
    for build in (
        cluster_default_namespace,
        gateway_client,
        namespace_name_literal,
        explicit_namespace_object,
        explicit_namespace_by_name_token,
        imported_namespace_by_arn_literal,
        imported_namespace_by_name_literal,
        namespace_imported_twice,
        imported_private_dns_namespace,
        imported_cluster_with_its_default_namespace,
        cross_stack_gateway_client,
        cross_stack_cluster_default,
        cross_stack_namespace_token,
        imported_output_tokens,
        ssm_parameter_lookup,
        cfn_parameter,
        app_in_another_cluster_of_the_namespace,
    )
}


@pytest.mark.parametrize("shape", list(VALID))
def test_a_valid_app_synthesizes_clean(shape: str) -> None:
    # GIVEN an agent's service joining the gateway's namespace, written one way users write it
    app = cdk.App()
    VALID[shape](app)
    # WHEN the app synthesizes THEN no check refuses it
    assembly = app.synth()
    assert any(s.template["Resources"] for s in assembly.stacks)


# -- the hostile shapes ---------------------------------------------------------------------------


def another_namespace_object(app: cdk.App) -> None:
    stack, cluster, gateway = _one_stack(app)
    other = servicediscovery.HttpNamespace(stack, "Other", name="other.internal")
    _agent_service(stack, gateway, cluster, ecs.ServiceConnectProps(namespace=other.namespace_arn))


def another_namespace_name(app: cdk.App) -> None:
    stack, cluster, gateway = _one_stack(app)
    _agent_service(stack, gateway, cluster, ecs.ServiceConnectProps(namespace="other.internal"))


def another_namespace_arn(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Shop", env=ENV)
    cluster = new_cluster(stack, namespace=False)
    gateway = CollectorGateway(
        stack, "Gateway", cluster=cluster, namespace=_imported_http_namespace(stack),
        exporters=XRayExporter(),
    )
    other = NS_ARN.replace(NS_ID, "ns-fedcba9876543210")
    _agent_service(stack, gateway, cluster, ecs.ServiceConnectProps(namespace=other))


def cluster_default_other_than_the_gateways(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Shop", env=ENV)
    cluster = new_cluster(stack)  # default namespace test.internal
    namespace = servicediscovery.HttpNamespace(stack, "GatewayNamespace", name=NS_NAME)
    gateway = CollectorGateway(
        stack, "Gateway", cluster=cluster, namespace=namespace, exporters=XRayExporter()
    )
    _agent_service(stack, gateway, cluster, ecs.ServiceConnectProps())


HOSTILE: dict[str, tuple[Build, str]] = {
    build.__name__: (build, given)
    for build, given in (
        (another_namespace_object, r"\{'Fn::GetAtt': \['Other[0-9A-F]+', 'Arn'\]\}"),
        (another_namespace_name, r"'other.internal'"),
        (another_namespace_arn, r"'arn:aws:servicediscovery:eu-west-1:123456789012:namespace/ns-fedcba9876543210'"),
        (cluster_default_other_than_the_gateways, r"'test.internal'"),
    )
}


@pytest.mark.parametrize("shape", list(HOSTILE))
def test_a_service_in_another_namespace_is_still_refused(shape: str) -> None:
    # GIVEN an agent's service whose namespace is provably not the gateway's
    app = cdk.App()
    build, given = HOSTILE[shape]
    build(app)
    # WHEN the app synthesizes THEN synth names the service, the gateway's namespace and the value
    with pytest.raises(
        RuntimeError,
        match=r"service_connect_configuration.namespace: service Shop/Orders uses another "
        rf"namespace than its agent's gateway \(.*\); pass gateway.service_connect_client\(\), got {given}",
    ):
        app.synth()


# -- the same class in the app wiring: values known at deploy time only ---------------------------


def _sidecar_app(app: cdk.App, env: dict[str, str], secrets: dict[str, ecs.Secret] | None = None) -> None:
    from otel_fargate import XRayDaemonReceiver

    stack = cdk.Stack(app, "Shop", env=ENV)
    task = ecs.FargateTaskDefinition(stack, "Task", cpu=512, memory_limit_mib=1024)
    container = task.add_container(
        "app", container_name="checkout", image=ecs.ContainerImage.from_registry("busybox"),
        memory_limit_mib=256, environment=env, secrets=secrets,
    )
    CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[container],
        exporters=XRayExporter(), receivers=[XRayDaemonReceiver()],
    )


def endpoint_from_a_parameter(app: cdk.App) -> None:
    _sidecar_app(app, {"OTEL_EXPORTER_OTLP_ENDPOINT": ssm.StringParameter.value_for_string_parameter(
        cdk.Stack(app, "Params", env=ENV), "/shop/otlp-endpoint"
    )})


def daemon_address_from_a_token(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Params", env=ENV)
    address = cdk.CfnParameter(stack, "DaemonAddress", default="127.0.0.1:2000").value_as_string
    _sidecar_app(app, {"AWS_XRAY_DAEMON_ADDRESS": address})


def daemon_address_from_a_secret(app: cdk.App) -> None:
    from aws_cdk import aws_secretsmanager as secretsmanager

    stack = cdk.Stack(app, "Params", env=ENV)
    secret = secretsmanager.Secret.from_secret_name_v2(stack, "Daemon", "shop/daemon-address")
    _sidecar_app(app, {}, {"AWS_XRAY_DAEMON_ADDRESS": ecs.Secret.from_secrets_manager(secret)})


WIRING: dict[str, Build] = {
    build.__name__: build
    for build in (endpoint_from_a_parameter, daemon_address_from_a_token, daemon_address_from_a_secret)
}


@pytest.mark.parametrize("shape", list(WIRING))
def test_an_app_variable_known_at_deploy_time_only_is_not_refused(shape: str) -> None:
    # GIVEN an app container setting an OTLP or receiver variable from a token or a secret
    app = cdk.App()
    # WHEN it is wired THEN nothing refuses it: its value is not provably wrong
    WIRING[shape](app)
    assert app.synth().get_stack_by_name("Shop").template["Resources"]


def test_a_literal_daemon_address_elsewhere_is_still_refused() -> None:
    with pytest.raises(OtelFargateError, match=r"app_containers.checkout.AWS_XRAY_DAEMON_ADDRESS: .*got '10.0.0.1:2000'"):
        _sidecar_app(cdk.App(), {"AWS_XRAY_DAEMON_ADDRESS": "10.0.0.1:2000"})
