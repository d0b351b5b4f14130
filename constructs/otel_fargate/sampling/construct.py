"""The sampling tier: tail-sampling collectors behind a routing gateway.

The gateway's ``load_balancing`` exporter hashes each trace id onto the sampler tasks, so every
span of a trace reaches the same sampler, which decides the whole trace (``tail_sampling``)
and exports what it keeps. The routing gateway learns the sampler tasks' addresses from DNS:
the samplers' ECS service registers one A record per task in a Cloud Map private DNS
namespace, and the gateway resolves that name every few seconds.

Why DNS rather than the exporter's ``aws_cloud_map`` resolver: DNS needs no IAM, no Cloud Map
API endpoint (no NAT or VPC endpoint for ``data-servicediscovery``) and no per-router API calls,
and the VPC resolver is already what everything else depends on. Its limit is Route 53's
multivalue answer, which carries at most eight records: with more sampler tasks each router
would see a different eight and split traces, so the tier is capped at eight tasks (size the
tasks up instead). Service Connect does not fit: it gives one alias for the whole service,
and the routing tier needs every task's address.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from otel_fargate.checks import check_int, fail
from otel_fargate.config import Exporter
from otel_fargate.config.core.durations import parse_duration
from otel_fargate.config.options.tls import GatewayTlsOptions
from otel_fargate.config.policy.guards import check_gateway_tls_kept
from otel_fargate.config.sampling.tier import TailSampling, TraceRouting
from otel_fargate.names import OTLP_GRPC_PORT
from otel_fargate.task._nag import acknowledge
from otel_fargate.task._wiring import monitoring_for, render_collector
from otel_fargate.task.container import CollectorContainerSpec, CollectorParts, add_collector
from otel_fargate.task.drain import SAMPLER_DRAIN_METRIC, RoleDrain
from otel_fargate.task.fargate import check_fargate_size, linux_task_definition
from otel_fargate.task.options import CollectorOptions
from otel_fargate.task.scaling import SERVICE_DEFAULTS, autoscale, check_scaling

__all__ = [
    "MAX_SAMPLERS",
    "SAMPLER_DNS_TTL_SECONDS",
    "CollectorSamplers",
    "SamplingTier",
    "sampler_options",
]

#: Records one multivalue DNS answer carries; more sampler tasks would split traces.
MAX_SAMPLERS = 8
#: TTL of the samplers' A records: how long a router may keep a stopped task's address.
SAMPLER_DNS_TTL_SECONDS = 10
#: Deployments stop old sampler tasks before starting new ones (``maximumPercent`` 100), so
#: no more tasks than the desired count (at most :data:`MAX_SAMPLERS`) are ever registered;
#: half of them keep running meanwhile (``minimumHealthyPercent`` 50, rounded up by ECS).
#: Availability Zone rebalancing is off: it starts a task before stopping one, which needs
#: ``maximumPercent`` above 100.
SAMPLER_DEPLOYMENT = {
    "max_healthy_percent": 100,
    "min_healthy_percent": 50,
    "availability_zone_rebalancing": ecs.AvailabilityZoneRebalancing.DISABLED,
}
#: Seconds a router may still send to a stopped sampler: the record's TTL plus the routers'
#: resolve interval (``TraceRouting.interval``, 5 s).
SAMPLER_DISCOVERY_LAG_SECONDS = SAMPLER_DNS_TTL_SECONDS + 5
#: The samplers' DNS name within their namespace.
SAMPLER_RECORD_NAME = "otel-sampler"


@dataclass(frozen=True, kw_only=True)
class SamplingTier:
    """The sampling tier of a gateway: its decisions and its Fargate service.

    Attributes:
        tail_sampling: the policies and sizing; default: ``TailSampling()`` (keep errors,
            traces slower than 1 s, and 10 % of the rest).
        cpu: sampler task CPU units; default: 1024.
        memory_mib: sampler task memory, all of it the collector's; default: 2048.
        desired_count: tasks at first; default: 2.
        min_capacity: autoscaling minimum, at least 2 so a sampler's loss never stops
            sampling; default: 2.
        max_capacity: autoscaling maximum, at most 8 (see the module's notes); default: 6.
        cpu_target_percent: target-tracking CPU utilisation; default: 60.
        memory_target_percent: target-tracking memory utilisation; default: 70.
        dns_namespace: the private DNS namespace of the samplers' records; default: a new one
            named ``otel-sampling.<environment>.internal`` in the cluster's VPC.
        config_overrides: a mapping or YAML text deep-merged into the samplers' rendered
            configuration, checked like the gateway's; default: none. The gateway's own
            ``config_overrides``, ``config_replacement`` and ``processors`` stay on the
            gateway; its ``secrets`` and ``environment`` reach the samplers too, so these
            overrides may read them.
    """

    tail_sampling: TailSampling = field(default_factory=TailSampling)
    cpu: int = 1024
    memory_mib: int = 2048
    desired_count: int = 2
    min_capacity: int = 2
    max_capacity: int = 6
    cpu_target_percent: int = 60
    memory_target_percent: int = 70
    dns_namespace: servicediscovery.IPrivateDnsNamespace | None = None
    config_overrides: Mapping[str, Any] | str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.tail_sampling, TailSampling):
            raise fail("sampling.tail_sampling", "must be TailSampling(...)", self.tail_sampling)
        overrides = self.config_overrides
        if overrides is not None and not isinstance(overrides, Mapping | str):
            raise fail("sampling.config_overrides", "must be a mapping or YAML text", overrides)
        check_fargate_size("sampling.", self.cpu, self.memory_mib)
        check_scaling(
            desired=self.desired_count,
            low=self.min_capacity,
            high=self.max_capacity,
            cpu_percent=self.cpu_target_percent,
            memory_percent=self.memory_target_percent,
            prefix="sampling.",
        )
        check_int("sampling.min_capacity", self.min_capacity, low=2)
        if self.max_capacity > MAX_SAMPLERS:
            raise fail(
                "sampling.max_capacity",
                f"the routing gateway finds samplers by DNS, and one answer carries at most "
                f"{MAX_SAMPLERS} records; with more tasks routers would see different ones and "
                f"split traces (give the samplers more CPU and memory instead)",
                self.max_capacity,
            )

    @staticmethod
    def of(value: object) -> SamplingTier | None:
        """``value`` as a SamplingTier: a TailSampling is wrapped, None stays None."""
        if value is None or isinstance(value, SamplingTier):
            return value
        if isinstance(value, TailSampling):
            return SamplingTier(tail_sampling=value)
        raise fail("sampling", "must be SamplingTier(...), TailSampling(...) or None", value)


def sampler_options(gateway: CollectorOptions, tier: SamplingTier) -> CollectorOptions:
    """The samplers' options: the gateway's, less what configures the gateway's collector
    alone (its overrides, replacement and extra processors), plus the tier's own overrides.
    """
    return dataclasses.replace(
        gateway,
        config_overrides=tier.config_overrides,
        config_replacement=None,
        processors=None,
    )


class CollectorSamplers(Construct):
    """The sampler service of a routing gateway (created by ``CollectorGateway(sampling=...)``).

    Args:
        scope: the parent construct (the gateway).
        construct_id: the construct id.
        cluster: the gateway's ECS cluster.
        tier: the sampling tier's settings.
        exporters: the gateway's exporters; the samplers keep those that take traces.
        options: the options the gateway was given (image, monitoring, log retention, ...);
            what shapes the gateway's own configuration (its overrides, replacement and
            extra processors) is left out: the samplers take ``tier.config_overrides``.
        environment_name: the otel-fargate environment.
        service_name: the samplers' metric dimension and log group name part.
        subnets: where the tasks run.
        cpu_architecture: the task's CPU architecture.
        tls: with the gateway's TLS, what the samplers' receiver serves (the gateway's
            certificate, which the routing gateway verifies); default: none, plaintext
            OTLP/gRPC from the gateway's security group only.
        tls_secrets: with ``tls``, the certificate chain and key as ECS secrets (the
            gateway's); default: none.

    Attributes:
        service, task_definition, container, log_group: the samplers' ``ecs.FargateService``,
            its task definition, the collector container and its log group.
        namespace: the private DNS namespace the samplers register their task IPs in.
        routing: the ``TraceRouting`` the gateway's ``loadbalancing`` exporter uses.
        security_group: the sampler tasks' ``ec2.SecurityGroup``.
        scaling: the service's ``ScalableTaskCount``.
        monitoring: the samplers' ``CollectorMonitoring``, or None.
        rendered_config, config_options: the samplers' rendered configuration and its options.
        tier, tls, service_name: what was passed in.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: ecs.ICluster,
        tier: SamplingTier,
        exporters: Sequence[Exporter],
        options: CollectorOptions,
        environment_name: str,
        service_name: str,
        subnets: ec2.SubnetSelection,
        cpu_architecture: ecs.CpuArchitecture,
        tls: GatewayTlsOptions | None = None,
        tls_secrets: Mapping[str, ecs.Secret] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.tls = tls
        self._tls_secrets = dict(tls_secrets) if tls_secrets is not None else {}
        if (tls is None) != (not self._tls_secrets):
            raise fail("tls_secrets", "come with tls, and only with it", sorted(self._tls_secrets))
        self.tier, self.service_name = tier, service_name
        options = sampler_options(options, tier)
        self.namespace: servicediscovery.IPrivateDnsNamespace = (
            tier.dns_namespace
            if tier.dns_namespace is not None
            else servicediscovery.PrivateDnsNamespace(
                self,
                "Namespace",
                name=f"otel-sampling.{environment_name}.internal",
                vpc=cluster.vpc,
                description=f"{environment_name}: one A record per sampler task",
            )
        )
        #: Where the routing gateway sends traces.
        self.routing = TraceRouting(
            hostname=f"{SAMPLER_RECORD_NAME}.{self.namespace.namespace_name}"
        )
        parts = self._add_collector(options, environment_name, exporters, cpu_architecture)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=cluster.vpc,
            description=f"{service_name}: OTLP/gRPC from the routing gateway only",
            allow_all_outbound=True,
        )
        self.service = self._service(cluster, subnets, parts.export_policy)
        for group in parts.export_log_groups.values():
            self.service.node.add_dependency(group)
        self.scaling = autoscale(
            self.service,
            low=tier.min_capacity,
            high=tier.max_capacity,
            cpu_percent=tier.cpu_target_percent,
            memory_percent=tier.memory_target_percent,
        )
        self.monitoring = monitoring_for(
            self,
            options,
            self.rendered_config,
            environment_name=environment_name,
            service_name=service_name,
            memory_limit_mib=tier.memory_mib,
            service=self.service,
            collector_log_group=self.log_group,
        )

    def _add_collector(
        self,
        options: CollectorOptions,
        environment_name: str,
        exporters: Sequence[Exporter],
        cpu_architecture: ecs.CpuArchitecture,
    ) -> CollectorParts:
        """Render the sampler preset; add the task definition and the collector container."""
        tier, service_name = self.tier, self.service_name
        self.config_options, self.rendered_config = render_collector(
            options,
            preset="sampler",
            exporters=tuple(exporters),
            environment=environment_name,
            service=service_name,
            memory_mib=tier.memory_mib,
            cpu=tier.cpu,
            sampling=tier.tail_sampling,
            gateway_tls=self.tls,
        )
        if self.tls is not None:
            check_gateway_tls_kept(
                self.rendered_config.config,
                preset="sampler",
                layer="config",
                min_version=self.tls.min_version,
            )
        self.task_definition = linux_task_definition(
            self, cpu=tier.cpu, memory_mib=tier.memory_mib, cpu_architecture=cpu_architecture
        )
        spec = CollectorContainerSpec(
            rendered=self.rendered_config,
            options=options,
            cpu=tier.cpu,
            memory_mib=tier.memory_mib,
            essential=True,
            restart_attempt_period_seconds=None,
            port_mappings=[ecs.PortMapping(container_port=OTLP_GRPC_PORT, name="otlp-grpc")],
            extra_secrets=self._tls_secrets,
            drain=self._drain(),
        )
        parts = add_collector(self, task_definition=self.task_definition, spec=spec)
        self.container, self.log_group = parts.container, parts.log_group
        return parts

    def _drain(self) -> RoleDrain:
        """On stop, a sampler keeps receiving while the routers may still resolve it, then
        keeps deciding until it holds no undecided trace (and its queue is sent).
        """
        wait = parse_duration(
            self.tier.tail_sampling.decision_wait, setting="sampling.decision_wait"
        )
        return RoleDrain(
            metrics=(SAMPLER_DRAIN_METRIC,),
            min_wait_seconds=SAMPLER_DISCOVERY_LAG_SECONDS + math.ceil(wait),
        )

    def _service(
        self, cluster: ecs.ICluster, subnets: ec2.SubnetSelection, policy: iam.Policy | None
    ) -> ecs.FargateService:
        service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=self.task_definition,
            desired_count=self.tier.desired_count,
            security_groups=[self.security_group],
            vpc_subnets=subnets,
            **{**SERVICE_DEFAULTS, **SAMPLER_DEPLOYMENT},
            cloud_map_options=ecs.CloudMapOptions(
                cloud_map_namespace=self.namespace,
                name=SAMPLER_RECORD_NAME,
                dns_record_type=servicediscovery.DnsRecordType.A,
                dns_ttl=Duration.seconds(SAMPLER_DNS_TTL_SECONDS),
            ),
        )
        if policy is not None:
            service.node.add_dependency(policy)
        return service

    def allow_routers(self, routers: ec2.ISecurityGroup) -> None:
        """Admit OTLP/gRPC from the routing gateway's tasks, and from nothing else."""
        self.security_group.add_ingress_rule(
            routers,
            ec2.Port.tcp(OTLP_GRPC_PORT),
            "OTLP/gRPC from the routing gateway",
        )
        acknowledge(
            self.security_group,
            "AwsSolutions-EC23",
            "Ingress comes only from the routing gateway's security group.",
        )
