"""The stacks of this repository's app. They only wire otel-fargate constructs together."""

from __future__ import annotations

from aws_cdk import Aspects, Environment, Stack, Tags
from constructs import Construct
from otel_fargate import InstrumentApp

from .demo import DemoStack
from .gateway import GatewayStack
from .network import NetworkStack
from .settings import EnvironmentSettings

__all__ = ["DemoStack", "GatewayStack", "NetworkStack", "build_environment"]

ENVIRONMENT_TAG = "otel-fargate:environment"


def build_environment(scope: Construct, settings: EnvironmentSettings) -> list[Stack]:
    """Add the stacks of one environment to ``scope`` (the app) and return them."""
    env = (
        Environment(account=settings.account, region=settings.region)
        if settings.account is not None or settings.region is not None
        else None
    )
    network = NetworkStack(
        scope,
        settings.stack_name("network"),
        settings=settings,
        env=env,
        description=f"otel-fargate {settings.name}: VPC and ECS cluster with Service Connect",
    )
    gateway = GatewayStack(
        scope,
        settings.stack_name("gateway"),
        settings=settings,
        cluster=network.cluster,
        env=env,
        description=f"otel-fargate {settings.name}: OpenTelemetry Collector gateway",
    )
    stacks: list[Stack] = [network, gateway]
    if settings.demo.enabled:
        stacks.append(
            DemoStack(
                scope,
                settings.stack_name("demo"),
                settings=settings,
                cluster=network.cluster,
                gateway=gateway.gateway,
                env=env,
                description=f"otel-fargate {settings.name}: demo service with a collector agent",
            )
        )
    # One Aspect per environment instruments every container of its stacks that asks for an
    # agent; a task without a collector would get a sidecar forwarding to this gateway.
    instrument = InstrumentApp(gateway=gateway.gateway, environment_name=settings.name)
    for stack in stacks:
        Aspects.of(stack).add(instrument)
        # CloudFormation copies stack tags onto every resource that supports them; these
        # types take no Tags property in the template.
        Tags.of(stack).add(
            ENVIRONMENT_TAG,
            settings.name,
            exclude_resource_types=[
                "AWS::ApplicationAutoScaling::ScalableTarget",
                "AWS::CloudWatch::Dashboard",
                "AWS::ElasticLoadBalancingV2::Listener",
            ],
        )
    return stacks
