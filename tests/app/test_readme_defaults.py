"""The README's cdk.json settings table: every default it states is what an environment that
leaves the setting out gets, in its parsed settings and in its synthesized templates.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template
from otel_fargate import EnvironmentConfigError

from stacks.settings import EnvironmentSettings, parse_environment
from tests.app.test_environments import MINIMAL
from tests.readme import cell, code_spans, table

#: How the table words a default that is not a literal value: what the settings hold then.
PHRASES: dict[str, Any] = {
    "environment-agnostic": None,
    "a new VPC": None,
    "no topic": None,
    "off": False,
    "bundled": "bundled",
}


def _value(text: str) -> Any:
    text = text.strip()
    spans = code_spans(text)
    literal = spans[0] if spans and text.startswith("`") else text
    if re.fullmatch(r"\d+", literal):
        return int(literal)
    if literal in ("true", "false"):
        return literal == "true"
    if literal in PHRASES:
        return PHRASES[literal]
    if spans:
        return literal
    raise AssertionError(f"README settings table: no meaning known for the default {text!r}")


def _keys(setting: str) -> list[str]:
    """``gateway.desired_count``, ``min_capacity`` -> both under ``gateway.``."""
    keys, prefix = [], ""
    for span in code_spans(setting):
        if "." in span:
            prefix = span.rsplit(".", 1)[0] + "."
            keys.append(span)
        else:
            keys.append(prefix + span)
    return keys


def _setting(settings: EnvironmentSettings, key: str) -> Any:
    value: Any = settings
    for part in key.split("."):
        value = getattr(value, part)
    return value.kind if key == "gateway.image" else value


def readme_defaults() -> list[tuple[str, Any]]:
    """(setting, default) for every setting the README's table gives a default."""
    rows = table(columns=("setting", "meaning", "default"), heading="Deploying").rows
    found: list[tuple[str, Any]] = []
    for row in rows:
        keys = _keys(cell(row, "setting"))
        default = cell(row, "default")
        if default == "required":
            found += [(key, "required") for key in keys]
            continue
        values = default.split(", ") if len(keys) > 1 else [default]
        if len(values) == 1:
            values = values * len(keys)  # one default for every key of the row
        assert len(values) == len(keys), f"README settings row {keys}: defaults {default!r}"
        found += [(key, _value(value)) for key, value in zip(keys, values, strict=True)]
    return found


DEFAULTS = readme_defaults()


@pytest.mark.parametrize(("key", "default"), DEFAULTS, ids=[k for k, _ in DEFAULTS])
def test_a_setting_left_out_takes_the_readmes_default(key: str, default: Any) -> None:
    if default == "required":
        # GIVEN an environment without the setting WHEN parsed THEN it is refused, naming it
        entry: dict[str, Any] = {"gateway": {}}
        with pytest.raises(EnvironmentConfigError, match=rf"^environments\.dev\.{re.escape(key)}: "):
            parse_environment("dev", entry)
        return
    # GIVEN the smallest environment, which leaves every optional setting out
    settings = parse_environment("dev", MINIMAL)
    # THEN it holds the README's default
    assert _setting(settings, key) == default


def test_the_readme_states_the_defaults_the_issue_names() -> None:
    # the table's rows are read by name: these must be among them, with these values
    defaults = dict(DEFAULTS)
    assert {
        key: defaults[key]
        for key in (
            "vpc_cidr", "max_azs", "nat_gateways", "log_retention_days", "gateway.cpu",
            "gateway.memory_mib", "gateway.desired_count", "gateway.min_capacity",
            "gateway.max_capacity", "gateway.cpu_architecture", "gateway.internal_nlb",
            "demo.enabled", "demo.desired_count", "demo.cpu", "demo.memory_mib",
            "demo.collector_cpu", "demo.collector_memory_mib",
        )
    } == {
        "vpc_cidr": "10.40.0.0/16", "max_azs": 2, "nat_gateways": 1, "log_retention_days": 30,
        "gateway.cpu": 512, "gateway.memory_mib": 1024, "gateway.desired_count": 2,
        "gateway.min_capacity": 2, "gateway.max_capacity": 4,
        "gateway.cpu_architecture": "X86_64", "gateway.internal_nlb": False,
        "demo.enabled": False, "demo.desired_count": 1, "demo.cpu": 512, "demo.memory_mib": 1024,
        "demo.collector_cpu": 256, "demo.collector_memory_mib": 256,
    }


def test_the_demo_app_gets_what_the_collector_and_the_proxy_leave() -> None:
    settings = parse_environment("dev", {**MINIMAL, "demo": {"enabled": True}})
    assert settings.demo.app_memory_mib == 1024 - 256 - 128


# -- the defaults as deployed: the smallest environment synthesized once ------------------------


@pytest.fixture(scope="module")
def minimal(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Template]:
    from aws_cdk import Stack

    from app import build_app

    outdir: Path = tmp_path_factory.mktemp("minimal.out")
    app = build_app(context={"environments": {"mini": MINIMAL}}, outdir=str(outdir))
    return {
        child.stack_name: Template.from_stack(child)
        for child in app.node.children
        if isinstance(child, Stack)
    }


def test_the_smallest_environment_deploys_the_documented_network(minimal: dict[str, Template]) -> None:
    network = minimal["otel-fargate-mini-network"]
    # THEN a new VPC 10.40.0.0/16 over 2 Availability Zones with 1 NAT gateway
    network.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.40.0.0/16"})
    network.resource_count_is("AWS::EC2::NatGateway", 1)
    subnets = network.find_resources("AWS::EC2::Subnet").values()
    assert len({s["Properties"]["AvailabilityZone"]["Fn::Select"][0] for s in subnets}) == 2
    # AND no demo stack
    assert "otel-fargate-mini-demo" not in minimal


def test_the_smallest_environment_deploys_the_documented_gateway(minimal: dict[str, Template]) -> None:
    gateway = minimal["otel-fargate-mini-gateway"]
    (definition,) = gateway.find_resources("AWS::ECS::TaskDefinition").values()
    properties = definition["Properties"]
    # THEN 512 CPU units and 1024 MiB on X86_64
    assert (properties["Cpu"], properties["Memory"]) == ("512", "1024")
    assert properties["RuntimePlatform"]["CpuArchitecture"] == "X86_64"
    # AND 2 tasks scaling from 2 to 4, no load balancer, logs kept 30 days
    gateway.has_resource_properties("AWS::ECS::Service", {"DesiredCount": 2})
    gateway.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": 2, "MaxCapacity": 4}
    )
    gateway.resource_count_is("AWS::ElasticLoadBalancingV2::LoadBalancer", 0)
    retention = {g["Properties"].get("RetentionInDays") for g in gateway.find_resources("AWS::Logs::LogGroup").values()}
    assert retention == {30}


# -- "Every stack is tagged otel-fargate:environment=<env>" --------------------------------------


def test_every_taggable_resource_of_every_stack_carries_its_environment(synthesized: Any) -> None:
    for name, template in synthesized.templates.items():
        environment = name.removeprefix("otel-fargate-").rsplit("-", 1)[0]
        tagged = [
            (logical_id, resource["Properties"]["Tags"])
            for logical_id, resource in template.to_json()["Resources"].items()
            if isinstance(resource.get("Properties", {}).get("Tags"), list)
        ]
        # THEN the stack has taggable resources, and every one carries the environment's tag
        assert len(tagged) >= 3, name
        for logical_id, tags in tagged:
            assert {"Key": "otel-fargate:environment", "Value": environment} in tags, (name, logical_id)
