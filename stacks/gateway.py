"""The collector gateway of one environment."""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct
from otel_fargate import CollectorGateway, CollectorImage

from .settings import EnvironmentSettings, ImageSettings


def collector_image(settings: ImageSettings) -> CollectorImage:
    """The image an environment names."""
    if settings.kind == "slim":
        return CollectorImage.slim()
    if settings.kind == "registry":
        assert settings.name is not None
        return CollectorImage.from_registry(settings.name, probe_path=settings.probe_path)
    return CollectorImage.bundled()


class GatewayStack(Stack):
    """The gateway service, its bearer token, dashboard and alarms."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        cluster: ecs.ICluster,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        g = settings.gateway
        self.alarm_topic: sns.Topic | None = None
        if settings.alarm_email is not None:
            self.alarm_topic = sns.Topic(self, "AlarmTopic", enforce_ssl=True)
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
            Validations.of(self.alarm_topic).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-SNS2",
                    reason="Alarm notifications carry alarm names and states only, no telemetry "
                    "or secrets; the AWS-managed key would add cost without protecting data.",
                )
            )
        self.gateway = CollectorGateway(
            self,
            "Gateway",
            cluster=cluster,
            exporters=g.exporters,
            environment_name=settings.name,
            cpu=g.cpu,
            memory_mib=g.memory_mib,
            desired_count=g.desired_count,
            min_capacity=g.min_capacity,
            max_capacity=g.max_capacity,
            cpu_architecture=(
                ecs.CpuArchitecture.ARM64
                if g.cpu_architecture == "ARM64"
                else ecs.CpuArchitecture.X86_64
            ),
            image=collector_image(g.image),
            health_check=g.image.kind != "registry" or g.image.probe_path is not None,
            internal_nlb=g.internal_nlb,
            log_retention_days=settings.log_retention_days,
            telemetry_log_removal_policy=settings.telemetry_log_removal_policy,
            container_insights_enhanced=True,  # the network stack's cluster enables it
            alarm_topic=self.alarm_topic,
            sampling=g.sampling,
        )
