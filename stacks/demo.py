"""A demo service: a load generator whose collector sidecar forwards to the gateway."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct
from otel_fargate import COLLECTOR_VERSION, CollectorGateway, CollectorSidecar, log_retention

from .settings import EnvironmentSettings

#: A public image that emits OTLP traces: the collector project's own load generator.
DEMO_IMAGE = (
    "ghcr.io/open-telemetry/opentelemetry-collector-contrib/telemetrygen:v" + COLLECTOR_VERSION
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
            cpu=demo.cpu - demo.collector_cpu,
            # the task also holds the collector and the Service Connect proxy
            memory_limit_mib=demo.app_memory_mib,
            essential=True,
            readonly_root_filesystem=True,
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix="demo",
                log_group=logs.LogGroup(
                    self,
                    "AppLogs",
                    retention=log_retention(
                            settings.log_retention_days,
                            setting=f"environments.{settings.name}.log_retention_days",
                        ),
                ),
            ),
        )
        self.sidecar = CollectorSidecar(
            self,
            "Otel",
            task_definition=task_definition,
            app_containers=[app],
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
