"""The collector gateway: a separate Fargate service behind ECS Service Connect."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_servicediscovery as servicediscovery
from aws_cdk import aws_sns as sns
from constructs import Construct

from ._fargate import SERVICE_CONNECT_PROXY_MEMORY_MIB, check_fargate_size
from ._nag import acknowledge
from .config import CollectorConfigOptions, RenderedConfig, render
from .container import (
    MAX_STOP_TIMEOUT_SECONDS,
    HealthCheckTiming,
    add_collector,
)
from .errors import OtelFargateError
from .image import CollectorImage
from .monitoring import CollectorMonitoring, monitor_collector

#: Service Connect alias (DNS name) that clients use: ``otel-gateway:4317`` / ``otel-gateway:4318``.
GATEWAY_ALIAS = "otel-gateway"
#: Environment variable that holds the bearer token in the gateway and in agents.
TOKEN_ENV = "OTEL_GATEWAY_TOKEN"
OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
HEALTH_PORT = 13133

_OPEN_WORLD = ("0.0.0.0/0", "::/0")


def _fail(setting: str, message: str, value: object) -> OtelFargateError:
    return OtelFargateError(f"{setting}: {message}, got {value!r}")


class CollectorGateway(Construct):
    """A collector gateway service on Fargate.

    Clients in the Service Connect namespace reach it as ``otel-gateway:4317`` (OTLP/gRPC) and
    ``otel-gateway:4318`` (OTLP/HTTP); every request must carry the bearer token that the
    gateway generates in Secrets Manager (``Authorization: Bearer <token>``). Envoy balances
    gRPC per request, and the receivers close connections after ``max_connection_age`` so
    long-lived clients spread over new tasks.

    :param cluster: the ECS cluster; it needs a VPC and, unless ``namespace`` is given, a
        default Cloud Map namespace.
    :param exporters: where the gateway exports (``otel_fargate.config`` exporters).
        Default: none, which is refused unless ``config_replacement`` is given.
    :param namespace: Service Connect namespace. Default: the cluster's default namespace.
    :param environment_name: goes into resource attributes and metric dimensions.
        Default: the stack name.
    :param service_name: Cloud Map discovery name prefix and metric dimension.
        Default: ``otel-gateway``.
    :param cpu: task CPU units (1024 = 1 vCPU). Default: 512.
    :param memory_mib: task memory. The collector gets all of it but
        ``SERVICE_CONNECT_PROXY_MEMORY_MIB`` (128 MiB), left to the Service Connect proxy that
        ECS adds to the task; the memory limiter and ``GOMEMLIMIT`` are sized from the rest.
        Default: 1024.
    :param desired_count: tasks to run initially. Default: 2, spread across Availability Zones.
    :param min_capacity: autoscaling minimum. Default: 2.
    :param max_capacity: autoscaling maximum. Default: 6.
    :param cpu_target_percent: target-tracking CPU utilisation. Default: 60.
    :param memory_target_percent: target-tracking memory utilisation. Default: 70.
    :param cpu_architecture: ``X86_64`` or ``ARM64`` (Graviton); the bundled image is built to
        match. Default: ``X86_64``.
    :param image: the collector image. Default: ``CollectorImage.bundled()``.
    :param health_check: run the ECS health check with the image's probe. Default: on; a
        registry image without a probe must switch it off explicitly.
    :param health_check_timing: ECS health-check timing. Default: ``HealthCheckTiming()``.
    :param allowed_peers: who may connect to 4317/4318. Default: the VPC's CIDR block. An
        open-world peer (``0.0.0.0/0``, ``::/0``) is refused.
    :param internal_nlb: also put an internal Network Load Balancer in front, for clients that
        cannot use Service Connect (EC2, Lambda in the VPC). Default: off.
    :param vpc_subnets: where tasks run. Default: private subnets with egress.
    :param token_secret: the bearer-token secret. Default: a new Secrets Manager secret with a
        generated 48-character token.
    :param stop_timeout_seconds: flush time on stop (Fargate max 120 s). Default: 120.
    :param log_retention_days: retention of the collector's log group. Default: 30.
    :param max_connection_age: gRPC ``max_connection_age`` of the receivers. Default: ``60s``.
    :param processors: extra processors. Default: none.
    :param config_overrides: deep-merged into the rendered config. Default: none.
    :param config_replacement: replaces the rendered config (validated). Default: none.
    :param self_telemetry_namespace: CloudWatch namespace of the collector's own metrics, or
        ``None`` to keep them local (and create no dashboard). Default: ``OtelFargate/Collector``.
    :param monitoring: create the dashboard and alarms. Default: on.
    :param container_insights_enhanced: the cluster runs Container Insights with enhanced
        observability, so restart counts are per container. Default: off. The running-vs-desired
        alarm needs Container Insights on the cluster either way, and treats missing data as
        breaching so that an unobserved gateway is noticed.
    :param alarm_topic: SNS topic for alarm notifications. Default: alarms have no actions.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: ecs.ICluster,
        exporters: Sequence[Any] = (),
        namespace: servicediscovery.INamespace | None = None,
        environment_name: str | None = None,
        service_name: str = GATEWAY_ALIAS,
        cpu: int = 512,
        memory_mib: int = 1024,
        desired_count: int = 2,
        min_capacity: int = 2,
        max_capacity: int = 6,
        cpu_target_percent: int = 60,
        memory_target_percent: int = 70,
        cpu_architecture: ecs.CpuArchitecture = ecs.CpuArchitecture.X86_64,
        image: CollectorImage | None = None,
        health_check: bool = True,
        health_check_timing: HealthCheckTiming | None = None,
        allowed_peers: Sequence[ec2.IPeer] | None = None,
        internal_nlb: bool = False,
        vpc_subnets: ec2.SubnetSelection | None = None,
        token_secret: secretsmanager.ISecret | None = None,
        stop_timeout_seconds: int = MAX_STOP_TIMEOUT_SECONDS,
        log_retention_days: int = 30,
        max_connection_age: str = "60s",
        processors: Mapping[str, Any] | None = None,
        config_overrides: Mapping[str, Any] | None = None,
        config_replacement: Mapping[str, Any] | str | None = None,
        self_telemetry_namespace: str | None = "OtelFargate/Collector",
        monitoring: bool = True,
        container_insights_enhanced: bool = False,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        check_fargate_size("", cpu, memory_mib)
        for name, value, low, high in (
            ("min_capacity", min_capacity, 1, 1000),
            ("max_capacity", max_capacity, 1, 1000),
            ("cpu_target_percent", cpu_target_percent, 10, 95),
            ("memory_target_percent", memory_target_percent, 10, 95),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise _fail(name, f"must be a whole number from {low} to {high}", value)
        if min_capacity > max_capacity:
            raise _fail(
                "min_capacity", f"must not exceed max_capacity ({max_capacity})", min_capacity
            )
        if not min_capacity <= desired_count <= max_capacity:
            raise _fail(
                "desired_count",
                f"must lie within min_capacity..max_capacity ({min_capacity}..{max_capacity})",
                desired_count,
            )
        if not 2 <= stop_timeout_seconds <= MAX_STOP_TIMEOUT_SECONDS:
            raise _fail(
                "stop_timeout_seconds",
                f"Fargate accepts 2 to {MAX_STOP_TIMEOUT_SECONDS} seconds",
                stop_timeout_seconds,
            )
        if not exporters and config_replacement is None:
            raise _fail("exporters", "a gateway needs at least one exporter", tuple(exporters))
        resolved_namespace = (
            namespace if namespace is not None else cluster.default_cloud_map_namespace
        )
        if resolved_namespace is None:
            raise _fail(
                "namespace",
                "the cluster has no default Cloud Map namespace; pass namespace=... or create the "
                "cluster with default_cloud_map_namespace",
                None,
            )
        peers = (
            list(allowed_peers)
            if allowed_peers is not None
            else [ec2.Peer.ipv4(cluster.vpc.vpc_cidr_block)]
        )
        if not peers:
            raise _fail("allowed_peers", "must name at least one peer", peers)
        for peer in peers:
            if peer.unique_id in _OPEN_WORLD:
                raise _fail(
                    "allowed_peers",
                    "the gateway is never opened to the whole internet",
                    peer.unique_id,
                )

        self.cluster = cluster
        self.namespace = resolved_namespace
        self.environment_name = (
            environment_name if environment_name is not None else Stack.of(self).stack_name
        )
        self.service_name = service_name
        image = image if image is not None else CollectorImage.bundled()
        timing = health_check_timing if health_check_timing is not None else HealthCheckTiming()

        self.token_secret: secretsmanager.ISecret = (
            token_secret
            if token_secret is not None
            else secretsmanager.Secret(
                self,
                "Token",
                description=f"Bearer token agents present to the {service_name} collector gateway",
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=48, exclude_punctuation=True
                ),
            )
        )
        if token_secret is None:
            acknowledge(
                self.token_secret,
                "AwsSolutions-SMG4",
                "The bearer token is shared by the gateway and every agent; rotating it "
                "needs a coordinated redeploy of both, so it is rotated by redeploying, not by "
                "a rotation Lambda.",
            )

        collector_memory_mib = memory_mib - SERVICE_CONNECT_PROXY_MEMORY_MIB
        self.config_options = CollectorConfigOptions(
            preset="gateway",
            exporters=tuple(exporters),
            memory_mib=collector_memory_mib,
            cpu_units=cpu,
            environment_name=self.environment_name,
            service_name=service_name,
            health_check_endpoint=f"0.0.0.0:{HEALTH_PORT}"
            if internal_nlb
            else f"127.0.0.1:{HEALTH_PORT}",
            processors=processors,
            overrides=config_overrides,
            replacement=config_replacement,
            self_telemetry_namespace=self_telemetry_namespace,
            self_telemetry_log_group=(
                f"/otel-fargate/{self.environment_name}/{service_name}/collector-metrics"
            ),
            stop_timeout_seconds=stop_timeout_seconds,
            max_connection_age=max_connection_age,
        )
        self.rendered_config: RenderedConfig = render(self.config_options)

        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "TaskDefinition",
            cpu=cpu,
            memory_limit_mib=memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=cpu_architecture,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        parts = add_collector(
            self,
            task_definition=self.task_definition,
            rendered=self.rendered_config,
            image=image,
            health_check=health_check,
            timing=timing,
            cpu=cpu,
            memory_mib=collector_memory_mib,
            log_retention_days=log_retention_days,
            stop_timeout_seconds=stop_timeout_seconds,
            essential=True,
            restart_attempt_period_seconds=None,
            extra_secrets=self.token_ecs_secret(),
            port_mappings=[
                ecs.PortMapping(
                    container_port=OTLP_GRPC_PORT,
                    name="otlp-grpc",
                    app_protocol=ecs.AppProtocol.grpc,  # type: ignore[arg-type]  # jsii class property
                ),
                ecs.PortMapping(
                    container_port=OTLP_HTTP_PORT,
                    name="otlp-http",
                    app_protocol=ecs.AppProtocol.http,  # type: ignore[arg-type]  # jsii class property
                ),
                ecs.PortMapping(container_port=HEALTH_PORT, name="health"),
            ],
        )
        self.container = parts.container
        self.log_group = parts.log_group
        self.export_log_groups = parts.export_log_groups
        self.export_policy = parts.export_policy

        subnets = (
            vpc_subnets
            if vpc_subnets is not None
            else ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=cluster.vpc,
            description=f"{service_name} collector gateway: OTLP from allowed peers only",
            allow_all_outbound=True,
        )
        for peer in peers:
            self.allow_from(peer)
        acknowledge(
            self.security_group,
            "AwsSolutions-EC23",
            "Ingress is limited to the VPC's CIDR block or the peers named in allowed_peers; "
            "the CIDR is a reference the rule cannot evaluate, and open-world peers are refused "
            "when the construct is created.",
        )

        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=self.task_definition,
            desired_count=desired_count,
            min_healthy_percent=100,
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            availability_zone_rebalancing=ecs.AvailabilityZoneRebalancing.ENABLED,
            security_groups=[self.security_group],
            vpc_subnets=subnets,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            enable_ecs_managed_tags=True,
            service_connect_configuration=ecs.ServiceConnectProps(
                namespace=self.namespace.namespace_arn,
                services=[
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
                ],
                log_driver=ecs.LogDrivers.aws_logs(
                    stream_prefix="service-connect", log_group=self.log_group
                ),
            ),
        )
        # Tasks start only once they may write, and where: the exporters create no groups.
        if self.export_policy is not None:
            self.service.node.add_dependency(self.export_policy)
        for group in self.export_log_groups.values():
            self.service.node.add_dependency(group)
        self.scaling = self.service.auto_scale_task_count(
            min_capacity=min_capacity, max_capacity=max_capacity
        )
        self.scaling.scale_on_cpu_utilization(
            "CpuScaling",
            target_utilization_percent=cpu_target_percent,
            scale_in_cooldown=Duration.seconds(300),
            scale_out_cooldown=Duration.seconds(60),
        )
        self.scaling.scale_on_memory_utilization(
            "MemoryScaling",
            target_utilization_percent=memory_target_percent,
            scale_in_cooldown=Duration.seconds(300),
            scale_out_cooldown=Duration.seconds(60),
        )

        self.load_balancer: elbv2.NetworkLoadBalancer | None = None
        if internal_nlb:
            self.load_balancer = self._add_internal_nlb(cluster, timing, subnets)

        self.monitoring: CollectorMonitoring | None = None
        if monitoring:
            self.monitoring = monitor_collector(
                self,
                rendered_config=self.rendered_config.config,
                environment_name=self.environment_name,
                service_name=service_name,
                namespace=self_telemetry_namespace,
                memory_limit_mib=collector_memory_mib,
                service=self.service,
                container_insights_enhanced=container_insights_enhanced,
                collector_log_group=self.log_group,
                alarm_topic=alarm_topic,
            )

    def _add_internal_nlb(
        self,
        cluster: ecs.ICluster,
        timing: HealthCheckTiming,
        subnets: ec2.SubnetSelection,
    ) -> elbv2.NetworkLoadBalancer:
        # NLB health checks come from the load balancer's nodes inside the VPC.
        self.security_group.add_ingress_rule(
            ec2.Peer.ipv4(cluster.vpc.vpc_cidr_block),
            ec2.Port.tcp(HEALTH_PORT),
            "health checks from the internal load balancer",
        )
        nlb = elbv2.NetworkLoadBalancer(
            self,
            "LoadBalancer",
            vpc=cluster.vpc,
            internet_facing=False,
            cross_zone_enabled=True,
            vpc_subnets=subnets,
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
                deregistration_delay=Duration.seconds(timing.interval_seconds * 3),
                targets=[
                    self.service.load_balancer_target(
                        container_name=self.container.container_name, container_port=port
                    )
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
        return nlb

    # -- helpers for other services -------------------------------------------------------------

    def token_ecs_secret(self) -> dict[str, ecs.Secret]:
        """The bearer token as an ECS secret, keyed by the environment variable agents read."""
        return {TOKEN_ENV: ecs.Secret.from_secrets_manager(self.token_secret)}

    def grant_token_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the bearer token (e.g. a Lambda that sends OTLP through the NLB)."""
        return self.token_secret.grant_read(grantee)

    def allow_from(self, peer: ec2.IPeer) -> None:
        """Open 4317 and 4318 to ``peer``; an open-world peer is refused."""
        if peer.unique_id in _OPEN_WORLD:
            raise _fail("peer", "the gateway is never opened to the whole internet", peer.unique_id)
        for port in (OTLP_GRPC_PORT, OTLP_HTTP_PORT):
            self.security_group.add_ingress_rule(peer, ec2.Port.tcp(port), f"OTLP {port}")

    @property
    def connections(self) -> ec2.Connections:
        """The gateway service's connections, for ``connections.allow_from(...)``."""
        return self.service.connections

    def service_connect_client(self) -> ecs.ServiceConnectProps:
        """Service Connect settings for an application service whose agents use this gateway.

        Pass them as ``service_connect_configuration`` of the application's ``FargateService``;
        the service then resolves ``otel-gateway`` through its Envoy proxy.
        """
        return ecs.ServiceConnectProps(namespace=self.namespace.namespace_arn)
