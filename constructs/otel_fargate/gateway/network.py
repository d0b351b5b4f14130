"""The gateway's network edge: who may connect, Service Connect names, the internal NLB."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from otel_fargate.checks import fail
from otel_fargate.config.policy.peers import check_peer_union
from otel_fargate.names import GATEWAY_ALIAS, HEALTH_PORT, OTLP_GRPC_PORT, OTLP_HTTP_PORT
from otel_fargate.task._nag import acknowledge
from otel_fargate.task.health import HealthCheckTiming

_OPEN_WORLD = ("0.0.0.0/0", "::/0")


def check_peer(peer: ec2.IPeer, *, setting: str = "peer") -> None:
    """Refuse an open-world peer: the gateway is never opened to the whole internet."""
    if peer.unique_id in _OPEN_WORLD:
        raise fail(setting, "the gateway is never opened to the whole internet", peer.unique_id)


def resolve_peers(
    cluster: ecs.ICluster, allowed_peers: Sequence[ec2.IPeer] | None
) -> list[ec2.IPeer]:
    """``allowed_peers``, or the cluster VPC's CIDR block; at least one, none open-world."""
    peers = list(allowed_peers) if allowed_peers is not None else [vpc_cidr_peer(cluster.vpc)]
    if not peers:
        raise fail("allowed_peers", "must name at least one peer", peers)
    for peer in peers:
        check_peer(peer, setting="allowed_peers")
    check_peer_union([str(peer.unique_id) for peer in peers], setting="allowed_peers")
    return peers


def vpc_cidr_peer(vpc: ec2.IVpc) -> ec2.IPeer:
    """The VPC's CIDR block as a peer; an imported VPC without one fails naming the way out."""
    try:
        cidr = vpc.vpc_cidr_block
    except RuntimeError:  # jsii: an imported VPC without vpc_cidr_block cannot answer
        raise fail(
            "allowed_peers",
            "the cluster's VPC was imported without its CIDR block, so the default (the VPC's "
            "CIDR) is unknown; pass allowed_peers=[...] or import the VPC with vpc_cidr_block",
            None,
        ) from None
    return ec2.Peer.ipv4(cidr)


def resolve_namespace(
    cluster: ecs.ICluster, namespace: servicediscovery.INamespace | None
) -> servicediscovery.INamespace:
    """``namespace``, or the cluster's default Cloud Map namespace."""
    resolved = namespace if namespace is not None else cluster.default_cloud_map_namespace
    if resolved is None:
        raise fail(
            "namespace",
            "the cluster has no default Cloud Map namespace; pass namespace=... or create the "
            "cluster with default_cloud_map_namespace",
            None,
        )
    return resolved


def port_mappings(*, tls: bool = False) -> list[ecs.PortMapping]:
    """Named port mappings; gRPC and HTTP app protocols so Envoy balances per request.

    With ``tls`` the OTLP ports carry no app protocol: Service Connect then passes the
    encrypted bytes through as TCP (its proxy cannot read requests inside TLS), balancing
    per connection; the receivers' ``max_connection_age`` keeps spreading gRPC clients.
    """
    protocols: dict[str, ecs.AppProtocol | None] = {
        "otlp-grpc": None if tls else ecs.AppProtocol.grpc,  # type: ignore[dict-item]  # jsii
        "otlp-http": None if tls else ecs.AppProtocol.http,  # type: ignore[dict-item]  # jsii
    }
    return [
        *(
            ecs.PortMapping(container_port=port, name=name, app_protocol=protocols[name])
            for port, name in ((OTLP_GRPC_PORT, "otlp-grpc"), (OTLP_HTTP_PORT, "otlp-http"))
        ),
        ecs.PortMapping(container_port=HEALTH_PORT, name="health"),
    ]


def service_connect_services(service_name: str) -> list[ecs.ServiceConnectService]:
    """``<service_name>`` (gRPC) and ``<service_name>-http``, both behind ``otel-gateway``."""
    return [
        ecs.ServiceConnectService(
            port_mapping_name="otlp-grpc",
            discovery_name=service_name,
            dns_name=GATEWAY_ALIAS,
            port=OTLP_GRPC_PORT,
        ),
        ecs.ServiceConnectService(
            port_mapping_name="otlp-http",
            discovery_name=f"{service_name}-http",
            dns_name=GATEWAY_ALIAS,
            port=OTLP_HTTP_PORT,
        ),
    ]


def allow_otlp(group: ec2.SecurityGroup, peer: ec2.IPeer) -> None:
    """Open 4317 and 4318 of ``group`` to ``peer`` (checked: never the open world)."""
    check_peer(peer)
    for port in (OTLP_GRPC_PORT, OTLP_HTTP_PORT):
        group.add_ingress_rule(peer, ec2.Port.tcp(port), f"OTLP {port}")


@dataclass(frozen=True)
class InternalNlb:
    """The internal Network Load Balancer and the security group in front of it."""

    load_balancer: elbv2.NetworkLoadBalancer
    security_group: ec2.SecurityGroup


def admit_peers(group: ec2.SecurityGroup, peers: Sequence[ec2.IPeer]) -> None:
    """Open OTLP on ``group`` to ``peers`` alone, and say why cdk-nag's open-ingress rule
    does not apply.
    """
    for peer in peers:
        allow_otlp(group, peer)
    acknowledge(
        group,
        "AwsSolutions-EC23",
        "Ingress is limited to the VPC's CIDR block or the peers named in allowed_peers; "
        "the CIDR is a reference the rule cannot evaluate, and open-world peers are refused "
        "when the construct is created.",
    )


def add_internal_nlb(
    scope: Construct,
    *,
    service: ecs.FargateService,
    task_security_group: ec2.SecurityGroup,
    peers: Sequence[ec2.IPeer],
    subnets: ec2.SubnetSelection,
    timing: HealthCheckTiming,
    container_name: str,
) -> InternalNlb:
    """An internal NLB on 4317/4318 whose target health check is HTTP on the health port.

    The NLB has its own security group: clients are filtered there (4317/4318 from
    ``peers`` only), and the tasks accept 4317, 4318 and the health port from that group
    only. Client IP preservation stays off (the tasks see the NLB's addresses), so the
    tasks' rule naming the NLB's group is what admits the traffic. An NLB gets its security
    groups when it is created, never later: this one has a construct id of its own, so a
    stack that had the NLB without one replaces it (a new DNS name).
    """
    group = _load_balancer_security_group(scope, service.cluster.vpc, peers, task_security_group)
    nlb = elbv2.NetworkLoadBalancer(
        scope,
        "InternalLoadBalancer",
        vpc=service.cluster.vpc,
        internet_facing=False,
        cross_zone_enabled=True,
        vpc_subnets=subnets,
        security_groups=[group],
    )
    acknowledge(
        nlb,
        "AwsSolutions-ELB2",
        "Access logs of an internal OTLP load balancer would only repeat the "
        "collector's own receiver metrics; enable them with load_balancer.log_access_logs().",
    )
    for port, name in ((OTLP_GRPC_PORT, "Grpc"), (OTLP_HTTP_PORT, "Http")):
        listener = nlb.add_listener(f"{name}Listener", port=port, protocol=elbv2.Protocol.TCP)
        listener.add_targets(
            f"{name}Targets",
            port=port,
            protocol=elbv2.Protocol.TCP,
            preserve_client_ip=False,
            deregistration_delay=Duration.seconds(timing.interval_seconds * 3),
            targets=[
                service.load_balancer_target(container_name=container_name, container_port=port)
            ],
            health_check=elbv2.HealthCheck(
                protocol=elbv2.Protocol.HTTP,
                port=str(HEALTH_PORT),
                path="/",
                interval=Duration.seconds(10),
                healthy_threshold_count=2,
                unhealthy_threshold_count=2,
            ),
        )
    return InternalNlb(load_balancer=nlb, security_group=group)


def _load_balancer_security_group(
    scope: Construct,
    vpc: ec2.IVpc,
    peers: Sequence[ec2.IPeer],
    task_security_group: ec2.SecurityGroup,
) -> ec2.SecurityGroup:
    """The NLB's group: OTLP in from ``peers``; OTLP and health checks out to the tasks only."""
    group = ec2.SecurityGroup(
        scope,
        "LoadBalancerSecurityGroup",
        vpc=vpc,
        description="Internal OTLP load balancer of the collector gateway: allowed peers only",
        allow_all_outbound=False,
    )
    admit_peers(group, peers)
    for port, what in (
        (OTLP_GRPC_PORT, "OTLP/gRPC"),
        (OTLP_HTTP_PORT, "OTLP/HTTP"),
        (HEALTH_PORT, "health checks"),
    ):
        task_security_group.connections.allow_from(
            group, ec2.Port.tcp(port), f"{what}: internal load balancer to the gateway tasks"
        )
    return group
