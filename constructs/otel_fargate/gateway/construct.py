"""The collector gateway: a separate Fargate service behind ECS Service Connect."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from otel_fargate.checks import fail
from otel_fargate.config import Exporter, RenderedConfig
from otel_fargate.config.sampling.tier import TailSampling
from otel_fargate.gateway import network, tokens
from otel_fargate.gateway.checks import one_gateway_per_namespace
from otel_fargate.gateway.tls import GatewayTls, check_tls_argument, check_tls_kept
from otel_fargate.names import (
    GATEWAY_ALIAS,
    GATEWAY_TOKEN_ENV,
    GATEWAY_TOKEN_PREVIOUS_ENV,
    HEALTH_PORT,
    SERVICE_CONNECT_PROXY_MEMORY_MIB,
)
from otel_fargate.sampling.construct import CollectorSamplers, SamplingTier
from otel_fargate.task._wiring import (
    environment_name,
    exporter_tuple,
    monitoring_for,
    render_collector,
)
from otel_fargate.task.container import CollectorContainerSpec, add_collector
from otel_fargate.task.fargate import check_fargate_size, linux_task_definition
from otel_fargate.task.options import CollectorOptions, CollectorOptionsArgs
from otel_fargate.task.scaling import SERVICE_DEFAULTS, autoscale, check_scaling
from otel_fargate.task.synth import add_check

__all__ = ["PREVIOUS_TOKEN_ENV", "TOKEN_ENV", "CollectorGateway", "GatewayTls", "SamplingTier"]

#: Environment variable that holds the bearer token in the gateway and in agents.
TOKEN_ENV = GATEWAY_TOKEN_ENV
#: Environment variable of the gateway's second accepted token (the gateway only).
PREVIOUS_TOKEN_ENV = GATEWAY_TOKEN_PREVIOUS_ENV


class CollectorGateway(Construct):
    """A collector gateway service on Fargate.

    Clients in the Service Connect namespace reach it as ``otel-gateway:4317`` (OTLP/gRPC) and
    ``otel-gateway:4318`` (OTLP/HTTP); every request must carry the bearer token that the
    gateway generates in Secrets Manager (``Authorization: Bearer <token>``). Envoy balances
    gRPC per request, and the receivers close connections after ``max_connection_age`` so
    long-lived clients spread over new tasks.

    The gateway accepts two tokens, read when a task starts: ``OTEL_GATEWAY_TOKEN`` (current,
    which agents send) and ``OTEL_GATEWAY_TOKEN_PREVIOUS`` (random until the first rotation).
    No rotation Lambda: ``python -m tools.cli rotate-token --env NAME`` stages a new token as
    the previous one, redeploys the gateways and waits, makes it current (the old one becomes
    previous), then redeploys every service reading the current secret, so nothing is refused.
    It changes secret values, never the resources: a redeploy never regenerates a token, and
    a stack importing the current secret's ARN (a cross-stack export) is untouched.

    Args:
        scope: the parent construct.
        construct_id: the construct id.
        cluster: the ECS cluster; it needs a VPC and, unless ``namespace`` is given, a
            default Cloud Map namespace.
        exporters: one exporter or a list of them (``otel_fargate.config``). Default: none,
            which is refused unless ``config_replacement`` is given.
        namespace: Service Connect namespace. Default: the cluster's default namespace.
        service_name: Cloud Map discovery name prefix and metric dimension. Default:
            ``otel-gateway``.
        cpu: task CPU units (1024 = 1 vCPU). Default: 512.
        memory_mib: task memory. The collector gets all of it but the 128 MiB left to the
            Service Connect proxy that ECS adds to the task; the memory limiter and
            ``GOMEMLIMIT`` are sized from the rest. Default: 1024.
        desired_count: tasks to run initially, spread across Availability Zones. Default: 2.
        min_capacity: autoscaling minimum. Default: 2.
        max_capacity: autoscaling maximum. Default: 6.
        cpu_target_percent: target-tracking CPU utilisation. Default: 60.
        memory_target_percent: target-tracking memory utilisation. Default: 70.
        cpu_architecture: ``X86_64`` or ``ARM64`` (Graviton); the bundled image is built to
            match. Default: ``X86_64``.
        allowed_peers: who may connect to 4317/4318: the tasks (Service Connect clients) and,
            with ``internal_nlb``, the load balancer's security group. Default: the VPC's
            CIDR block. An open-world peer (``0.0.0.0/0``, ``::/0``) is refused.
        internal_nlb: also put an internal Network Load Balancer in front, for clients that
            cannot use Service Connect (EC2, Lambda in the VPC). It has its own security
            group (``load_balancer_security_group``) admitting ``allowed_peers`` on
            4317/4318; the tasks accept the NLB's traffic and health checks from that group
            only. Default: off.
        tls: TLS on the receivers, which agents verify (:class:`GatewayTls`); with
            ``sampling``, the samplers serve the same certificate and the gateway verifies
            them. Default: off (plaintext inside the VPC); see :mod:`otel_fargate.gateway.tls`.
        vpc_subnets: where tasks run. Default: private subnets with egress.
        token_secret: the bearer-token secret, read by the gateway and every agent. Default:
            a new Secrets Manager secret with a generated 48-character token.
        previous_token_secret: the gateway's second accepted token (a plain-string Secrets
            Manager secret, never the same as ``token_secret``). Default: a new secret with a
            generated 48-character token.
        max_connection_age: gRPC ``max_connection_age`` of the receivers. Default: ``60s``.
        container_insights_enhanced: the cluster runs Container Insights with enhanced
            observability, so restart counts are per container. Default: off. The
            running-vs-desired alarm needs Container Insights on the cluster either way, and
            treats missing data as breaching so that an unobserved gateway is noticed.
        sampling: a sampling tier (:class:`~otel_fargate.sampling.SamplingTier`, or just its
            :class:`~otel_fargate.config.TailSampling`): the gateway then routes traces by
            trace id to a service of samplers, which decide whole traces and own the trace
            exporters; metrics and logs still go from the gateway to their exporters.
            Default: none, the gateway exports traces itself.
        options: the options the gateway shares with the sidecar, all at once. Default:
            ``CollectorOptions()``; keywords of CollectorOptions given beside it win.
        **kwargs: any field of :class:`CollectorOptions` (``environment_name``, ``image``,
            ``health_check``, ``log_retention_days``, ``config_overrides``, ...), documented
            there.

    Attributes:
        service, task_definition, container, log_group: the ``ecs.FargateService``, its task
            definition, the collector container and its log group.
        namespace, security_group: the Service Connect namespace and the tasks' group.
        load_balancer, load_balancer_security_group: with ``internal_nlb``, the
            ``elbv2.NetworkLoadBalancer`` (its ``load_balancer_dns_name`` is what clients
            outside ECS dial) and its group; else both None.
        token_secret, previous_token_secret: the current token and the second accepted one.
        samplers: with ``sampling``, the ``CollectorSamplers``, else None.
        scaling, rendered_config, config_options, export_log_groups, export_policy, monitoring,
            tls, cluster, options, service_name, environment_name: as for the sidecar, and
            what was passed in.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: ecs.ICluster,
        exporters: Exporter | Sequence[Exporter] = (),
        namespace: servicediscovery.INamespace | None = None,
        service_name: str = GATEWAY_ALIAS,
        cpu: int = 512,
        memory_mib: int = 1024,
        desired_count: int = 2,
        min_capacity: int = 2,
        max_capacity: int = 6,
        cpu_target_percent: int = 60,
        memory_target_percent: int = 70,
        cpu_architecture: ecs.CpuArchitecture = ecs.CpuArchitecture.X86_64,
        allowed_peers: Sequence[ec2.IPeer] | None = None,
        internal_nlb: bool = False,
        tls: GatewayTls | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        token_secret: secretsmanager.ISecret | None = None,
        previous_token_secret: secretsmanager.ISecret | None = None,
        max_connection_age: str = "60s",
        container_insights_enhanced: bool = False,
        sampling: SamplingTier | TailSampling | None = None,
        options: CollectorOptions | None = None,
        **kwargs: Unpack[CollectorOptionsArgs],
    ) -> None:
        super().__init__(scope, construct_id)
        opts = CollectorOptions.combine(options, kwargs, construct="CollectorGateway")
        exporter_list = exporter_tuple(exporters)
        check_fargate_size("", cpu, memory_mib)
        check_scaling(
            desired=desired_count,
            low=min_capacity,
            high=max_capacity,
            cpu_percent=cpu_target_percent,
            memory_percent=memory_target_percent,
        )
        if not exporter_list and opts.config_replacement is None:
            raise fail("exporters", "a gateway needs at least one exporter", ())
        self.namespace = network.resolve_namespace(cluster, namespace)
        peers = network.resolve_peers(cluster, allowed_peers)
        self.cluster, self.options = cluster, opts
        self.environment_name = environment_name(self, opts)
        self.service_name, self.tls = service_name, check_tls_argument(tls)
        self.token_secret = tokens.current_token(self, token_secret, service_name)
        self.previous_token_secret = tokens.previous_token(
            self, previous_token_secret, self.token_secret, service_name
        )
        subnets = vpc_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        #: The sampling tier, when ``sampling`` is given.
        self.samplers = self._add_samplers(
            SamplingTier.of(sampling), exporter_list, subnets, cpu_architecture
        )
        self._add_collector(
            exporter_list,
            cpu=cpu,
            memory_mib=memory_mib,
            cpu_architecture=cpu_architecture,
            health_host="0.0.0.0" if internal_nlb else "127.0.0.1",
            max_connection_age=max_connection_age,
        )
        self.load_balancer: elbv2.NetworkLoadBalancer | None = None
        self.load_balancer_security_group: ec2.SecurityGroup | None = None
        self.security_group = self._security_group(peers)
        if self.samplers is not None:
            self.samplers.allow_routers(self.security_group)
        self.service = self._service(desired_count, subnets)
        scaling = {"cpu_percent": cpu_target_percent, "memory_percent": memory_target_percent}
        self.scaling = autoscale(self.service, low=min_capacity, high=max_capacity, **scaling)
        if internal_nlb:
            self._add_internal_nlb(peers, subnets)
        ns = self.namespace
        add_check(self, lambda: one_gateway_per_namespace(self, ns, kind=CollectorGateway))
        self.monitoring = monitoring_for(
            self,
            opts,
            self.rendered_config,
            environment_name=self.environment_name,
            service_name=service_name,
            memory_limit_mib=memory_mib - SERVICE_CONNECT_PROXY_MEMORY_MIB,
            service=self.service,
            container_insights_enhanced=container_insights_enhanced,
            collector_log_group=self.log_group,
        )

    def _add_samplers(
        self,
        tier: SamplingTier | None,
        exporters: tuple[Exporter, ...],
        subnets: ec2.SubnetSelection,
        cpu_architecture: ecs.CpuArchitecture,
    ) -> CollectorSamplers | None:
        if tier is None:
            return None
        return CollectorSamplers(
            self,
            "Samplers",
            cluster=self.cluster,
            tier=tier,
            exporters=exporters,
            options=self.options,
            environment_name=self.environment_name,
            service_name=f"{self.service_name}-sampler",
            subnets=subnets,
            cpu_architecture=cpu_architecture,
            tls=self.tls.sampler_options() if self.tls is not None else None,
            tls_secrets=self.tls.gateway_secrets() if self.tls is not None else None,
        )

    def _add_collector(
        self,
        exporters: tuple[Exporter, ...],
        *,
        cpu: int,
        memory_mib: int,
        cpu_architecture: ecs.CpuArchitecture,
        health_host: str,
        max_connection_age: str,
    ) -> None:
        """Render the gateway preset and add its task definition and collector container."""
        collector_memory_mib = memory_mib - SERVICE_CONNECT_PROXY_MEMORY_MIB
        self.config_options, self.rendered_config = render_collector(
            self.options,
            preset="gateway",
            exporters=exporters,
            environment=self.environment_name,
            service=self.service_name,
            memory_mib=collector_memory_mib,
            cpu=cpu,
            health_check_endpoint=f"{health_host}:{HEALTH_PORT}",
            max_connection_age=max_connection_age,
            gateway_tls=self.tls.gateway_options() if self.tls is not None else None,
            trace_routing=self.samplers.routing if self.samplers is not None else None,
        )
        check_tls_kept(self.tls, self.rendered_config)
        self.task_definition = linux_task_definition(
            self, cpu=cpu, memory_mib=memory_mib, cpu_architecture=cpu_architecture
        )
        spec = CollectorContainerSpec(
            rendered=self.rendered_config,
            options=self.options,
            cpu=cpu,
            memory_mib=collector_memory_mib,
            essential=True,
            restart_attempt_period_seconds=None,
            extra_secrets={
                **self.token_ecs_secret(),
                PREVIOUS_TOKEN_ENV: ecs.Secret.from_secrets_manager(self.previous_token_secret),
                **(
                    self.tls.gateway_secrets(routing=self.samplers is not None)
                    if self.tls is not None
                    else {}
                ),
            },
            port_mappings=network.port_mappings(tls=self.tls is not None),
        )
        parts = add_collector(self, task_definition=self.task_definition, spec=spec)
        self.container = parts.container
        self.log_group = parts.log_group
        self.export_log_groups = parts.export_log_groups
        self.export_policy = parts.export_policy

    def _security_group(self, peers: Sequence[ec2.IPeer]) -> ec2.SecurityGroup:
        group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=self.cluster.vpc,
            description=f"{self.service_name} collector gateway: OTLP from allowed peers only",
            allow_all_outbound=True,
        )
        self.security_group = group
        network.admit_peers(group, peers)
        return group

    def _service(self, desired_count: int, subnets: ec2.SubnetSelection) -> ecs.FargateService:
        service = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=self.task_definition,
            desired_count=desired_count,
            security_groups=[self.security_group],
            vpc_subnets=subnets,
            **SERVICE_DEFAULTS,
            service_connect_configuration=ecs.ServiceConnectProps(
                namespace=self.namespace.namespace_arn,
                services=network.service_connect_services(self.service_name),
                log_driver=ecs.LogDrivers.aws_logs(
                    stream_prefix="service-connect", log_group=self.log_group
                ),
            ),
        )
        # Tasks start only once they may write, and where: the exporters create no groups.
        if self.export_policy is not None:
            service.node.add_dependency(self.export_policy)
        for group in self.export_log_groups.values():
            service.node.add_dependency(group)
        return service

    def _add_internal_nlb(self, peers: Sequence[ec2.IPeer], subnets: ec2.SubnetSelection) -> None:
        nlb = network.add_internal_nlb(
            self,
            service=self.service,
            task_security_group=self.security_group,
            peers=peers,
            subnets=subnets,
            timing=self.options.resolved_timing,
            container_name=self.container.container_name,
        )
        self.load_balancer = nlb.load_balancer
        self.load_balancer_security_group = nlb.security_group

    # -- helpers for other services -------------------------------------------------------------

    def token_ecs_secret(self) -> dict[str, ecs.Secret]:
        """The bearer token as an ECS secret, keyed by the environment variable agents read."""
        return {TOKEN_ENV: ecs.Secret.from_secrets_manager(self.token_secret)}

    def grant_token_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the bearer token (e.g. a Lambda that sends OTLP through the NLB)."""
        return self.token_secret.grant_read(grantee)

    def agent_ecs_secrets(self) -> dict[str, ecs.Secret]:
        """What an agent's collector reads: the bearer token and, with TLS, the CA (a secret)."""
        tls = self.tls.agent_secrets() if self.tls is not None else {}
        return {**self.token_ecs_secret(), **tls}

    def allow_from(self, peer: ec2.IPeer) -> None:
        """Open 4317 and 4318 to ``peer`` on both paths: the tasks (Service Connect) and, with
        ``internal_nlb``, the load balancer; an open-world peer is refused.
        """
        network.allow_otlp(self.security_group, peer)
        if self.load_balancer_security_group is not None:
            network.allow_otlp(self.load_balancer_security_group, peer)

    @property
    def collector_configs(self) -> tuple[RenderedConfig, ...]:
        """The rendered configuration of every collector the gateway runs: its own and, with a
        sampling tier, the samplers'.
        """
        own = (self.rendered_config,)
        return own if self.samplers is None else (*own, self.samplers.rendered_config)

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
