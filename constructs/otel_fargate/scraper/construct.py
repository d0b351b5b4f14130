"""The Prometheus scraper: one collector task that scrapes every marked container of a cluster.

Its collector runs the ``ecs_observer`` extension, which lists the cluster's tasks and writes
the containers marked with :func:`~otel_fargate.scraper.targets.scrape_target` into a
Prometheus file-SD file on a task volume, and a ``prometheus`` receiver that scrapes the
targets in that file. Metrics go to a gateway, as an agent's do, or to the scraper's own
exporters.

**Exactly one scraper runs, even during a deployment.** Two scrapers would scrape every target
twice and send every series twice (double counts wherever series are summed, and twice the
cost). The service has one task and deploys with ``maximumPercent`` 100 and
``minimumHealthyPercent`` 0: ECS stops the old task before it starts the new one, so there is
a gap of one task start (no scrape, no duplicate) rather than an overlap. Availability Zone
rebalancing, which starts a task before stopping one, is off. The scraper does not scale: give
it more CPU and memory for more targets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Unpack

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from otel_fargate.checks import fail
from otel_fargate.config import EcsScrapeReceiver, Exporter
from otel_fargate.names import (
    SCRAPE_DIRECTORY,
    SERVICE_CONNECT_PROXY_MEMORY_MIB,
)
from otel_fargate.task._wiring import (
    environment_name,
    exporter_tuple,
    gateway_forwarding,
    monitoring_for,
    render_collector,
)
from otel_fargate.task.container import CollectorContainerSpec, add_collector
from otel_fargate.task.fargate import check_fargate_size, linux_task_definition
from otel_fargate.task.options import CollectorOptions, CollectorOptionsArgs
from otel_fargate.task.scaling import SERVICE_DEFAULTS
from otel_fargate.task.synth import add_check, task_fits

if TYPE_CHECKING:
    from otel_fargate.gateway.construct import CollectorGateway

#: One task, stopped before its replacement starts: never two scrapers (see the module notes).
SCRAPER_DEPLOYMENT = {
    "desired_count": 1,
    "max_healthy_percent": 100,
    "min_healthy_percent": 0,
    "availability_zone_rebalancing": ecs.AvailabilityZoneRebalancing.DISABLED,
}
#: The task volume the observer writes its file-SD file on.
SCRAPE_VOLUME = "otel-scrape-targets"


class PrometheusScraper(Construct):
    """A single-task Fargate service whose collector scrapes the cluster's marked containers.

    Args:
        scope: the parent construct.
        construct_id: the construct id.
        cluster: the ECS cluster whose tasks are discovered; the scraper runs in it too.
        gateway: send the scraped metrics to this gateway, as an agent does (bearer token,
            TLS when the gateway has it, Service Connect). Default: none, use ``exporters``.
        exporters: one exporter or a list of them, without a gateway. Default: none; one of
            ``gateway`` and ``exporters`` is required, and not both.
        service_name: the scraper's service name in its own metrics, log group and dashboard.
            Default: ``otel-scraper``.
        cpu: task CPU units, all of them the collector's. Default: 256.
        memory_mib: task memory; the collector gets it all, less the Service Connect proxy's
            128 MiB with a gateway. Default: 512.
        scrape_interval_seconds: how often each target is scraped (5-3600). Default: 30.
        scrape_timeout_seconds: how long one scrape may take, at most the interval. Default: 10.
        refresh_interval_seconds: how often the cluster's tasks are listed (10-3600); a task
            started or stopped is found or dropped within this. Default: 30.
        cpu_architecture: ``X86_64`` or ``ARM64``. Default: ``X86_64``.
        subnets: where the task runs. Default: the cluster VPC's private subnets.
        options: the options every collector role shares, all at once. Default:
            ``CollectorOptions()``; keywords of CollectorOptions given beside it win.
        **kwargs: any field of :class:`CollectorOptions`, documented there.

    Attributes:
        service: the scraper's ``ecs.FargateService`` (one task).
        task_definition: its ``ecs.FargateTaskDefinition``.
        container: the collector's ``ecs.ContainerDefinition``.
        log_group: the collector's own ``logs.LogGroup``.
        receiver: the ``EcsScrapeReceiver`` in its configuration.
        rendered_config: the rendered configuration (``RenderedConfig``).
        config_options: the ``CollectorConfigOptions`` it was rendered from.
        export_log_groups: the log groups its exporters write, by name.
        export_policy: the task-role policy (discovery and exporters), or None.
        monitoring: the scraper's ``CollectorMonitoring``, or None.
        connections: the service's ``ec2.Connections``: targets admit scrapes from it.
        gateway: the gateway passed in, or None.
        service_name, environment_name: the resolved names.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: ecs.ICluster,
        gateway: CollectorGateway | None = None,
        exporters: Exporter | Sequence[Exporter] = (),
        service_name: str = "otel-scraper",
        cpu: int = 256,
        memory_mib: int = 512,
        scrape_interval_seconds: int = 30,
        scrape_timeout_seconds: int = 10,
        refresh_interval_seconds: int = 30,
        cpu_architecture: ecs.CpuArchitecture = ecs.CpuArchitecture.X86_64,
        subnets: ec2.SubnetSelection | None = None,
        options: CollectorOptions | None = None,
        **kwargs: Unpack[CollectorOptionsArgs],
    ) -> None:
        super().__init__(scope, construct_id)
        opts = CollectorOptions.combine(options, kwargs, construct="PrometheusScraper")
        exporter_list = exporter_tuple(exporters)
        _check(cluster, gateway, exporter_list, cpu, memory_mib, cpu_architecture)
        self.gateway, self.service_name = gateway, service_name
        self.environment_name = environment_name(self, opts)
        self.receiver = EcsScrapeReceiver(
            # CloudFormation fills both in: no variable, so no secret-like reference to provide
            cluster_name=cluster.cluster_name,
            cluster_region=cluster.env.region,
            refresh_interval_seconds=refresh_interval_seconds,
            scrape_interval_seconds=scrape_interval_seconds,
            scrape_timeout_seconds=scrape_timeout_seconds,
        )
        opts = dataclasses.replace(opts, receivers=(*opts.receivers, self.receiver))
        collector_memory = memory_mib - (SERVICE_CONNECT_PROXY_MEMORY_MIB if gateway else 0)
        self.config_options, self.rendered_config = render_collector(
            opts,
            preset="agent" if gateway is not None else "sidecar",
            exporters=exporter_list,
            environment=self.environment_name,
            service=service_name,
            memory_mib=collector_memory,
            cpu=cpu,
            **gateway_forwarding(gateway),
        )
        self.task_definition = linux_task_definition(
            self, cpu=cpu, memory_mib=memory_mib, cpu_architecture=cpu_architecture
        )
        self._add_collector(opts, cpu, collector_memory)
        self.service = self._service(cluster, subnets)
        self.connections = self.service.connections
        self.monitoring = monitoring_for(
            self,
            opts,
            self.rendered_config,
            environment_name=self.environment_name,
            service_name=service_name,
            memory_limit_mib=collector_memory,
            service=self.service,
            collector_log_group=self.log_group,
        )

    def _add_collector(self, opts: CollectorOptions, cpu: int, memory_mib: int) -> None:
        """The collector container, its IAM and log groups, and the targets file's volume."""
        spec = CollectorContainerSpec(
            rendered=self.rendered_config,
            options=opts,
            cpu=cpu,
            memory_mib=memory_mib,
            essential=True,
            restart_attempt_period_seconds=None,
            extra_secrets=self.gateway.agent_ecs_secrets() if self.gateway is not None else {},
        )
        parts = add_collector(self, task_definition=self.task_definition, spec=spec)
        self.container, self.log_group = parts.container, parts.log_group
        self.export_log_groups, self.export_policy = parts.export_log_groups, parts.export_policy
        self.task_definition.add_volume(name=SCRAPE_VOLUME)
        self.container.add_mount_points(
            ecs.MountPoint(
                container_path=SCRAPE_DIRECTORY, source_volume=SCRAPE_VOLUME, read_only=False
            )
        )
        task_definition, with_gateway = self.task_definition, self.gateway is not None
        add_check(self, lambda: task_fits(task_definition, service_connect=with_gateway))

    def _service(
        self, cluster: ecs.ICluster, subnets: ec2.SubnetSelection | None
    ) -> ecs.FargateService:
        service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=self.task_definition,
            vpc_subnets=subnets,
            **{**SERVICE_DEFAULTS, **SCRAPER_DEPLOYMENT},
            service_connect_configuration=(
                self.gateway.service_connect_client() if self.gateway is not None else None
            ),
        )
        for dependency in (self.export_policy, *self.export_log_groups.values()):
            if dependency is not None:
                service.node.add_dependency(dependency)
        return service


def _check(
    cluster: object,
    gateway: object,
    exporters: Sequence[Exporter],
    cpu: int,
    memory_mib: int,
    cpu_architecture: object,
) -> None:
    if not hasattr(cluster, "cluster_name") or not hasattr(cluster, "vpc"):
        raise fail("cluster", "must be an ecs.ICluster", cluster)
    if gateway is not None and exporters:
        raise fail(
            "exporters",
            "a scraper with a gateway sends to the gateway, which exports; drop the exporters "
            "or the gateway",
            [e.component_id for e in exporters],
        )
    if gateway is None and not exporters:
        raise fail("exporters", "a scraper without a gateway needs at least one exporter", ())
    check_fargate_size("", cpu, memory_mib)
    if not isinstance(cpu_architecture, ecs.CpuArchitecture):
        raise fail(
            "cpu_architecture", "must be ecs.CpuArchitecture.X86_64 or ARM64", cpu_architecture
        )
