"""A demo service whose collector sidecar forwards to the gateway: a load generator that
sends spans itself, and a Node.js web service that has no OpenTelemetry in its code and gets
its agent from the ``InstrumentApp`` Aspect (asked for by a Docker label).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct
from otel_fargate import (
    COLLECTOR_VERSION,
    INSTRUMENT_LABEL,
    CollectorGateway,
    CollectorSidecar,
    PrometheusScraper,
    log_retention,
    scrape_target,
)

from .settings import DEMO_WEB_MEMORY_MIB, EnvironmentSettings

#: A public image that emits OTLP traces: the collector project's own load generator.
DEMO_IMAGE = (
    "ghcr.io/open-telemetry/opentelemetry-collector-contrib/telemetrygen:v" + COLLECTOR_VERSION
)
#: The web service's runtime: Node.js, which the pinned Node.js agent supports.
DEMO_WEB_IMAGE = "public.ecr.aws/docker/library/node:22.11.0-slim"
#: Where the web service serves its Prometheus metrics (on the task's interface, for the
#: scraper).
DEMO_METRICS_PORT = 9464
#: An HTTP service on 127.0.0.1:$PORT (8080 by default) that calls itself every 2 s: with its
#: agent loaded, each call is a client span and a server span of one trace. No OpenTelemetry
#: in its code. It counts the calls it serves and publishes the count as Prometheus text on
#: 0.0.0.0:9464/metrics.
DEMO_WEB_SCRIPT = (
    "const http=require('http'),port=Number(process.env.PORT||8080);let served=0;"
    "http.createServer((q,r)=>{served++;r.end('ok')}).listen(port,'127.0.0.1',()=>setInterval(()=>"
    "http.get('http://127.0.0.1:'+port+'/',a=>a.resume()).on('error',()=>{}),2000));"
    "http.createServer((q,r)=>{if(q.url!=='/metrics'){r.statusCode=404;return r.end()}"
    "r.setHeader('Content-Type','text/plain; version=0.0.4');"
    "r.end('# TYPE demo_web_requests_total counter\\ndemo_web_requests_total '+served+'\\n')})"
    ".listen(" + str(DEMO_METRICS_PORT) + ",'0.0.0.0')"
)


class DemoStack(Stack):
    """telemetrygen sends a trickle of spans to its sidecar, which forwards to the gateway."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        cluster: ecs.ICluster,
        gateway: CollectorGateway,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        demo = settings.demo
        task_definition = ecs.FargateTaskDefinition(
            self, "TaskDefinition", cpu=demo.cpu, memory_limit_mib=demo.memory_mib
        )
        app_logs = logs.LogGroup(
            self,
            "AppLogs",
            retention=log_retention(
                settings.log_retention_days,
                setting=f"environments.{settings.name}.log_retention_days",
            ),
        )
        app, web = self._apps(task_definition, settings, app_logs)
        self.sidecar = CollectorSidecar(
            self,
            "Otel",
            task_definition=task_definition,
            app_containers=[app, web],
            gateway=gateway,
            environment_name=settings.name,
            service_name="demo",
            cpu=demo.collector_cpu,
            memory_mib=demo.collector_memory_mib,
            app_protocol="grpc",
            log_retention_days=settings.log_retention_days,
            telemetry_log_removal_policy=settings.telemetry_log_removal_policy,
        )
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=task_definition,
            desired_count=demo.desired_count,
            min_healthy_percent=100,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            service_connect_configuration=gateway.service_connect_client(),
        )
        self.scraper = self._scraper(settings, cluster, gateway, web) if demo.scrape else None

    def _scraper(
        self,
        settings: EnvironmentSettings,
        cluster: ecs.ICluster,
        gateway: CollectorGateway,
        web: ecs.ContainerDefinition,
    ) -> PrometheusScraper:
        """The web service marked as a scrape target, and one scraper task forwarding its
        metrics to the gateway; the demo tasks admit the scraper on the metrics port only.
        """
        scrape_target(web, port=DEMO_METRICS_PORT, job="demo-web")
        scraper = PrometheusScraper(
            self,
            "Scraper",
            cluster=cluster,
            gateway=gateway,
            environment_name=settings.name,
            service_name="demo-scraper",
            subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            log_retention_days=settings.log_retention_days,
            telemetry_log_removal_policy=settings.telemetry_log_removal_policy,
        )
        self.service.connections.allow_from(
            scraper.connections,
            ec2.Port.tcp(DEMO_METRICS_PORT),
            "Prometheus scrapes from the demo scraper",
        )
        return scraper

    @staticmethod
    def _apps(
        task_definition: ecs.FargateTaskDefinition,
        settings: EnvironmentSettings,
        app_logs: logs.ILogGroup,
    ) -> tuple[ecs.ContainerDefinition, ecs.ContainerDefinition]:
        """The load generator and the web service, half of the apps' CPU each."""
        demo = settings.demo
        app = task_definition.add_container(
            "app",
            container_name="demo-app",
            image=ecs.ContainerImage.from_registry(DEMO_IMAGE),
            command=[
                "traces",
                "--otlp-insecure",
                "--otlp-endpoint=127.0.0.1:4317",
                "--rate=2",
                "--duration=8760h",
                "--service=otel-fargate-demo",
            ],
            cpu=(demo.cpu - demo.collector_cpu) // 2,
            # the task also holds the web service, its agent's copy, the collector and the
            # Service Connect proxy
            memory_limit_mib=demo.load_memory_mib,
            essential=True,
            readonly_root_filesystem=True,
            logging=ecs.LogDrivers.aws_logs(stream_prefix="demo", log_group=app_logs),
        )
        web = task_definition.add_container(
            "web",
            container_name="demo-web",
            image=ecs.ContainerImage.from_registry(DEMO_WEB_IMAGE),
            command=["node", "-e", DEMO_WEB_SCRIPT],
            cpu=(demo.cpu - demo.collector_cpu) // 2,
            memory_limit_mib=DEMO_WEB_MEMORY_MIB,
            essential=True,
            readonly_root_filesystem=True,
            logging=ecs.LogDrivers.aws_logs(stream_prefix="web", log_group=app_logs),
            # asks the InstrumentApp Aspect (added per environment) for the Node.js agent
            docker_labels={INSTRUMENT_LABEL: "nodejs"},
        )
        return app, web
