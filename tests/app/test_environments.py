"""cdk.json environments: parsing, selection and the errors for malformed entries."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest
from otel_fargate.config import Exporter
from otel_fargate.errors import EnvironmentConfigError

from stacks.settings import (
    EnvironmentSettings,
    parse_environment,
    parse_environments,
    select_environments,
)
from tests.conftest import REPO_ROOT, cdk_json_context
from tools.render import load_environments

MINIMAL: dict[str, Any] = {"gateway": {"exporters": {"debug": {}}}}


def with_setting(path: str, value: Any) -> dict[str, Any]:
    """A copy of MINIMAL with ``value`` at the dotted ``path``."""
    entry = copy.deepcopy(MINIMAL)
    node = entry
    *parents, leaf = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return entry


def test_repository_cdk_json_defines_dev_and_prod_that_differ() -> None:
    # GIVEN the repository's cdk.json
    # WHEN it is loaded
    environments = load_environments(REPO_ROOT / "cdk.json")
    # THEN dev and prod exist and differ in size, counts, exporters and retention
    dev, prod = environments["dev"], environments["prod"]
    assert dev.gateway.exporters and all(isinstance(e, Exporter) for e in dev.gateway.exporters)
    assert dev.gateway.memory_mib < prod.gateway.memory_mib
    assert dev.gateway.desired_count < prod.gateway.desired_count
    assert dev.gateway.exporters != prod.gateway.exporters
    assert dev.log_retention_days < prod.log_retention_days
    # AND prod samples traces in its own tier, dev does not
    assert dev.gateway.sampling is None
    assert prod.gateway.sampling is not None and prod.gateway.sampling.min_capacity >= 2


def test_settings_are_frozen() -> None:
    settings = parse_environment("dev", MINIMAL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.name = "other"  # type: ignore[misc]


def test_defaults_are_offline() -> None:
    # GIVEN an entry with no account and no VPC id
    settings = parse_environment("dev", MINIMAL)
    # THEN no lookup happens and a new VPC is built
    assert settings.looks_up_vpc is False
    assert settings.stack_name("gateway") == "otel-fargate-dev-gateway"


def test_lookup_only_with_account_and_vpc_id() -> None:
    entry = dict(MINIMAL, account="123456789012", region="eu-west-1", vpc_id="vpc-0123456789abcdef0")
    assert parse_environment("dev", entry).looks_up_vpc is True


def test_no_env_selects_every_environment_and_env_selects_one() -> None:
    environments = parse_environments(cdk_json_context()["environments"])
    assert [s.name for s in select_environments(environments, None)] == ["dev", "prod"]
    assert [s.name for s in select_environments(environments, "prod")] == ["prod"]


def test_unknown_environment_names_the_value_and_the_choices() -> None:
    environments = parse_environments(cdk_json_context()["environments"])
    with pytest.raises(EnvironmentConfigError, match=r"env: unknown environment 'staging'.*dev, prod"):
        select_environments(environments, "staging")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ([], r"environments\.dev: must be an object, got list"),
        (dict(MINIMAL, colour="blue"), r"environments\.dev: unknown setting 'colour'"),
        (dict(MINIMAL, account="12345"), r"environments\.dev\.account: must be a 12-digit AWS account id, got '12345'"),
        (dict(MINIMAL, region="mars-1"), r"environments\.dev\.region: must be an AWS region.*'mars-1'"),
        (dict(MINIMAL, vpc_id="vpc-123456789abcdef0"), r"environments\.dev\.vpc_id: looking up 'vpc-123456789abcdef0' needs environments\.dev\.account and \.region"),
        (dict(MINIMAL, vpc_id="my-vpc"), r"environments\.dev\.vpc_id: must be a VPC id.*'my-vpc'"),
        (dict(MINIMAL, vpc_cidr="10.0.0.0/8"), r"environments\.dev\.vpc_cidr: .*/16 to /20, got '10\.0\.0\.0/8'"),
        (dict(MINIMAL, vpc_cidr="10.0.0.0/24"), r"environments\.dev\.vpc_cidr: .*/16 to /20, got '10\.0\.0\.0/24'"),
        (dict(MINIMAL, vpc_cidr="10.0.0.0/20", max_azs=4), r"environments\.dev\.vpc_cidr: '10\.0\.0\.0/20' is too small for 4 Availability Zones"),
        (dict(MINIMAL, account="123456789012", vpc_id="vpc-0123456789abcdef0"), r"environments\.dev\.vpc_id: looking up .* needs environments\.dev\.account and \.region .*region None"),
        ({}, r"environments\.dev\.gateway: required"),
        (with_setting("demo.collector_cpu", 512), r"environments\.dev\.demo\.collector_cpu: must leave CPU for the app in a task of 512 units, got 512"),
        (with_setting("demo.collector_memory_mib", 800), r"environments\.dev\.demo\.collector_memory_mib: must leave at least 384 MiB for the apps .* task of 1024 MiB, got 800"),
        (with_setting("demo.collector_memory_mib", 200), r"environments\.dev\.demo\.collector_memory_mib: must be a whole number from 256 to 122880, got 200"),
        (dict(MINIMAL, vpc_cidr="300.0.0.0/16"), r"environments\.dev\.vpc_cidr: .*got '300\.0\.0\.0/16'"),
        (dict(MINIMAL, max_azs=1), r"environments\.dev\.max_azs: must be a whole number from 2 to 6, got 1"),
        (dict(MINIMAL, max_azs="2"), r"environments\.dev\.max_azs: must be a whole number.*got str '2'"),
        (dict(MINIMAL, max_azs=True), r"environments\.dev\.max_azs: must be a whole number.*got bool True"),
        (dict(MINIMAL, nat_gateways=0), r"environments\.dev\.nat_gateways: a new VPC needs at least one NAT gateway"),
        (dict(MINIMAL, alarm_email="oncall"), r"environments\.dev\.alarm_email: must be an e-mail address, got 'oncall'"),
        (with_setting("gateway.cpu", 300), r"environments\.dev\.gateway\.cpu: Fargate task CPU must be one of .*got 300"),
        (with_setting("gateway.memory_mib", 8192), r"environments\.dev\.gateway\.memory_mib: with cpu 512, Fargate accepts .*got 8192"),
        (with_setting("gateway.cpu_architecture", "arm"), r"environments\.dev\.gateway\.cpu_architecture: must be one of X86_64, ARM64, got 'arm'"),
        (with_setting("gateway.min_capacity", 5), r"environments\.dev\.gateway\.min_capacity: must not exceed max_capacity \(4\), got 5"),
        (with_setting("gateway.desired_count", 9), r"environments\.dev\.gateway\.desired_count: must lie within .*\(2\.\.4\), got 9"),
        (with_setting("gateway.exporters", {}), r"environments\.dev\.gateway\.exporters: the gateway needs at least one exporter"),
        (with_setting("gateway.exporters", {"debug": "yes"}), r"environments\.dev\.gateway\.exporters: must be an object of objects"),
        (with_setting("gateway.exporters", {"emf": {"log_group_name": "/x"}}), r"environments\.dev\.gateway\.exporters\.emf\.namespace: is required"),
        (with_setting("gateway.exporters", {"xray": {"regoin": "eu-west-1"}}), r"environments\.dev\.gateway\.exporters\.xray\.regoin: unknown setting"),
        (with_setting("gateway.exporters", {"zipkin": {}}), r"environments\.dev\.gateway\.exporters\.zipkin: unknown exporter type 'zipkin'"),
        (with_setting("gateway.internal_nlb", "yes"), r"environments\.dev\.gateway\.internal_nlb: must be true or false, got str 'yes'"),
        (with_setting("gateway.image", {"kind": "registry"}), r"environments\.dev\.gateway\.image\.name: required when kind is 'registry'"),
        (with_setting("gateway.image", {"kind": "ecr"}), r"environments\.dev\.gateway\.image\.kind: must be one of bundled, slim, registry, got 'ecr'"),
        (with_setting("gateway.image", {"kind": "slim", "name": "x"}), r"environments\.dev\.gateway\.image\.name: only used when kind is 'registry'"),
        (with_setting("demo.enabled", 1), r"environments\.dev\.demo\.enabled: must be true or false, got int 1"),
        (with_setting("demo.speed", 1), r"environments\.dev\.demo: unknown setting 'speed'"),
        (with_setting("gateway.memmory_mib", 1), r"environments\.dev\.gateway: unknown setting 'memmory_mib'"),
        (with_setting("gateway.sampling", {"max_capacity": 9}), r"environments\.dev\.gateway\.sampling\.max_capacity: the routing gateway finds samplers by DNS.*got 9"),
        (with_setting("gateway.sampling", {"keep_percent": 0, "keep_errors": False, "slow_threshold_ms": 0}), r"environments\.dev\.gateway\.sampling\.policies: needs at least one policy"),
        (with_setting("gateway.sampling", {"keep_percent": "10"}), r"environments\.dev\.gateway\.sampling\.keep_percent: must be a number of percent, got str '10'"),
        (with_setting("gateway.sampling", {"decision_wait": "forever"}), r"environments\.dev\.gateway\.sampling\.decision_wait: "),
        (with_setting("gateway.sampling", {"policy": "all"}), r"environments\.dev\.gateway\.sampling: unknown setting 'policy'"),
    ],
)
def test_malformed_entries_name_the_key_and_the_value(entry: Any, message: str) -> None:
    # GIVEN a malformed environment entry  WHEN it is parsed  THEN the error names key and value
    with pytest.raises(EnvironmentConfigError, match=message):
        parse_environment("dev", entry)


@pytest.mark.parametrize("name", ["Dev", "", "1dev", "dev_1", "a" * 21])
def test_bad_environment_names(name: str) -> None:
    with pytest.raises(EnvironmentConfigError, match=r"environments: environment names are"):
        parse_environment(name, MINIMAL)


@pytest.mark.parametrize("context", [None, {}, []])
def test_missing_environments_context(context: Any) -> None:
    with pytest.raises(EnvironmentConfigError, match=r"environments: cdk.json must define at least one"):
        parse_environments(context)


def test_load_environments_reports_a_missing_or_broken_file(tmp_path: Any) -> None:
    with pytest.raises(EnvironmentConfigError, match=r"cdk.json: not found at"):
        load_environments(tmp_path / "cdk.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(EnvironmentConfigError, match=r"cdk.json: not valid JSON"):
        load_environments(broken)


def test_type_is_environment_settings() -> None:
    assert isinstance(parse_environment("dev", MINIMAL), EnvironmentSettings)


@pytest.mark.parametrize(
    ("zones", "message"),
    [
        (["eu-west-1a", "eu-west-1b"], r"must name max_azs \(3\) distinct zones"),
        (["eu-west-1a", "eu-west-1b", "us-east-1a"], r"every zone must be in region eu-west-1"),
        (["eu-west-1a", "eu-west-1b", "west"], r"must be a list of Availability Zone names"),
    ],
)
def test_bad_availability_zones_are_refused(zones: list[str], message: str) -> None:
    data = {**MINIMAL, "region": "eu-west-1", "max_azs": 3, "availability_zones": zones}
    with pytest.raises(EnvironmentConfigError, match=rf"^environments.prod.availability_zones: {message}"):
        parse_environment("prod", data)


def test_more_zones_than_resolve_offline_fail_synth() -> None:
    # GIVEN an environment without an account asking for 3 zones and not listing them
    import aws_cdk as cdk

    from stacks import build_environment

    settings = parse_environment("big", {**MINIMAL, "region": "eu-west-1", "max_azs": 3})
    # WHEN its stacks are built THEN synth stops instead of deploying two zones silently
    with pytest.raises(
        EnvironmentConfigError,
        match=r"^environments.big.max_azs: 3 Availability Zones are asked for but only 2 resolve",
    ):
        build_environment(cdk.App(), settings)


def test_prod_lists_its_three_zones_and_keeps_its_telemetry_logs() -> None:
    environments = parse_environments(cdk_json_context()["environments"])
    prod = environments["prod"]
    assert len(prod.availability_zones) == prod.max_azs == 3
    assert prod.retain_telemetry_logs and not environments["dev"].retain_telemetry_logs
