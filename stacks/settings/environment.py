"""One environment of ``cdk.json``: its settings, and parsing and selecting environments."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from otel_fargate import EnvironmentConfigError
from otel_fargate.names import stack_name

from .demo import DemoSettings, parse_demo
from .gateway import GatewaySettings, parse_gateway
from .network import parse_cidr, parse_zones
from .reader import Reader

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$")
_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")


@dataclass(frozen=True)
class EnvironmentSettings:
    """One deployable environment."""

    name: str
    account: str | None
    region: str | None
    vpc_id: str | None
    vpc_cidr: str
    max_azs: int
    nat_gateways: int
    log_retention_days: int
    alarm_email: str | None
    gateway: GatewaySettings
    demo: DemoSettings
    #: The Availability Zones of a new VPC; empty: the ones CDK resolves (two without an
    #: account, so an environment asking for more must list them).
    availability_zones: tuple[str, ...] = ()
    #: Keep the log groups holding exported telemetry when the stack is deleted.
    retain_telemetry_logs: bool = False

    @property
    def telemetry_log_removal_policy(self) -> RemovalPolicy:
        """Deleting a stack keeps the telemetry log groups when ``retain_telemetry_logs``."""
        return RemovalPolicy.RETAIN if self.retain_telemetry_logs else RemovalPolicy.DESTROY

    @property
    def looks_up_vpc(self) -> bool:
        """True when synth must look up an existing VPC (needs an account and a VPC id)."""
        return self.account is not None and self.vpc_id is not None

    def stack_name(self, part: str) -> str:
        """The CloudFormation stack name of one part (``network``, ``gateway``, ``demo``)."""
        return stack_name(self.name, part)


def parse_environment(name: str, data: object) -> EnvironmentSettings:
    """Parse one environment entry of ``cdk.json``."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise EnvironmentConfigError(
            f"environments: environment names are 1-20 lowercase letters, digits or '-', "
            f"starting with a letter, got {name!r}"
        )
    r = Reader(f"environments.{name}", data)
    account = r.string("account", None, _ACCOUNT, "a 12-digit AWS account id")
    region = r.string("region", None, _REGION, "an AWS region such as eu-west-1")
    vpc_id = r.string("vpc_id", None, _VPC_ID, "a VPC id such as vpc-0123456789abcdef0")
    cidr = r.string("vpc_cidr", "10.40.0.0/16")
    assert cidr is not None
    max_azs = r.integer("max_azs", 2, low=2, high=6)
    settings = EnvironmentSettings(
        name=name,
        account=account,
        region=region,
        vpc_id=vpc_id,
        vpc_cidr=parse_cidr(f"{r.path}.vpc_cidr", cidr, max_azs),
        max_azs=max_azs,
        nat_gateways=r.integer("nat_gateways", 1, low=0, high=6),
        log_retention_days=r.integer("log_retention_days", 30, low=1, high=3653),
        alarm_email=r.string(
            "alarm_email", None, re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), "an e-mail address"
        ),
        gateway=parse_gateway(r.path, r.child("gateway")),
        demo=parse_demo(r.child("demo")),
        availability_zones=parse_zones(r, region, max_azs),
        retain_telemetry_logs=r.boolean("retain_telemetry_logs", False),
    )
    r.finish()
    if vpc_id is not None and (account is None or region is None):
        raise EnvironmentConfigError(
            f"{r.path}.vpc_id: looking up {vpc_id!r} needs environments.{name}.account and "
            f".region (synth stays offline without them), got account {account!r}, "
            f"region {region!r}"
        )
    if settings.nat_gateways == 0 and vpc_id is None:
        raise EnvironmentConfigError(
            f"{r.path}.nat_gateways: a new VPC needs at least one NAT gateway so the collector "
            "can reach AWS and its backends, got 0"
        )
    return settings


def parse_environments(context: object) -> dict[str, EnvironmentSettings]:
    """Parse the whole ``environments`` context."""
    if not isinstance(context, Mapping) or not context:
        raise EnvironmentConfigError(
            f"environments: cdk.json must define at least one environment, got {context!r}"
        )
    return {name: parse_environment(name, data) for name, data in context.items()}


def select_environments(
    environments: Mapping[str, EnvironmentSettings], selected: object
) -> list[EnvironmentSettings]:
    """Pick the environment named by ``-c env=NAME``; every environment when it is not given."""
    if selected is None:
        return list(environments.values())
    if not isinstance(selected, str) or selected not in environments:
        raise EnvironmentConfigError(
            f"env: unknown environment {selected!r}; cdk.json defines "
            f"{', '.join(sorted(environments))}"
        )
    return [environments[selected]]
