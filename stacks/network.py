"""Network and cluster of one environment."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct
from otel_fargate import EnvironmentConfigError, log_retention

from .settings import EnvironmentSettings


class NetworkStack(Stack):
    """A VPC (new, or looked up when the environment names one) and an ECS cluster whose
    default Cloud Map namespace serves Service Connect."""

    def __init__(
        self, scope: Construct, construct_id: str, *, settings: EnvironmentSettings, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.vpc: ec2.IVpc
        if settings.looks_up_vpc:
            self.vpc = ec2.Vpc.from_lookup(self, "Vpc", vpc_id=settings.vpc_id)
        else:
            vpc = ec2.Vpc(
                self,
                "Vpc",
                ip_addresses=ec2.IpAddresses.cidr(settings.vpc_cidr),
                max_azs=None if settings.availability_zones else settings.max_azs,
                availability_zones=list(settings.availability_zones) or None,
                nat_gateways=settings.nat_gateways,
                subnet_configuration=[
                    ec2.SubnetConfiguration(
                        name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                    ),
                    ec2.SubnetConfiguration(
                        name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                    ),
                ],
            )
            vpc.add_flow_log(
                "FlowLog",
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                    logs.LogGroup(
                        self,
                        "FlowLogGroup",
                        retention=log_retention(
                            settings.log_retention_days,
                            setting=f"environments.{settings.name}.log_retention_days",
                        ),
                    )
                ),
                traffic_type=ec2.FlowLogTrafficType.REJECT,
            )
            self.vpc = vpc
            if len(vpc.availability_zones) < settings.max_azs:
                raise EnvironmentConfigError(
                    f"environments.{settings.name}.max_azs: {settings.max_azs} Availability "
                    f"Zones are asked for but only {len(vpc.availability_zones)} resolve "
                    f"offline (without an account CDK assumes two); list them in "
                    f"environments.{settings.name}.availability_zones, got {settings.max_azs}"
                )
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=self.vpc,
            container_insights_v2=ecs.ContainerInsights.ENHANCED,
            default_cloud_map_namespace=ecs.CloudMapNamespaceOptions(
                name=f"{settings.name}.otel-fargate.internal",
                type=servicediscovery.NamespaceType.HTTP,
                use_for_service_connect=True,
            ),
        )
