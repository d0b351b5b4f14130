"""Per-environment settings of the otel-fargate app, parsed once from ``cdk.json``.

``cdk.json`` holds an ``environments`` context: a mapping from environment name to its
settings. :func:`parse_environments` turns it into frozen :class:`EnvironmentSettings`,
failing with a message that names the key path and the value for anything malformed, so a
typo never deploys half an environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from aws_cdk import RemovalPolicy
from otel_fargate import (
    ConfigError,
    EnvironmentConfigError,
    KeepErrors,
    KeepSlow,
    OtelFargateError,
    Probabilistic,
    SamplingTier,
    TailSampling,
)
from otel_fargate.config import MIN_MEMORY_MIB, Exporter, exporters_from_spec
from otel_fargate.fargate import check_fargate_size
from otel_fargate.names import SERVICE_CONNECT_PROXY_MEMORY_MIB, stack_name

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$")
_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_CIDR = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})$")

T = TypeVar("T")

#: The least memory the demo's load generator is given.
DEMO_APP_MIN_MEMORY_MIB = 128


@dataclass(frozen=True)
class ImageSettings:
    """Which collector image an environment runs."""

    #: ``bundled`` (contrib + probe), ``slim`` (builder image) or ``registry``.
    kind: str = "bundled"
    #: The image reference when ``kind`` is ``registry``.
    name: str | None = None
    #: Probe path inside a registry image; ``None`` means it has none.
    probe_path: str | None = None


@dataclass(frozen=True)
class GatewaySettings:
    """The gateway service of an environment."""

    cpu: int = 512
    memory_mib: int = 1024
    desired_count: int = 2
    min_capacity: int = 2
    max_capacity: int = 4
    cpu_architecture: str = "X86_64"
    internal_nlb: bool = False
    image: ImageSettings = ImageSettings()
    #: The gateway's exporters, parsed from the ``exporters`` object of cdk.json (the form
    #: :func:`otel_fargate.config.exporters_from_spec` reads).
    exporters: tuple[Exporter, ...] = ()
    #: The sampling tier (cdk.json ``sampling``), or None: the gateway exports traces itself.
    sampling: SamplingTier | None = None


@dataclass(frozen=True)
class DemoSettings:
    """The optional demo service: a load generator with a collector sidecar in agent mode."""

    enabled: bool = False
    desired_count: int = 1
    cpu: int = 512
    memory_mib: int = 1024
    collector_cpu: int = 256
    collector_memory_mib: int = 256

    @property
    def app_memory_mib(self) -> int:
        """Memory left to the demo app: the task's, less the collector's and the proxy's."""
        return self.memory_mib - self.collector_memory_mib - SERVICE_CONNECT_PROXY_MEMORY_MIB


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


class _Reader:
    """Reads one mapping of ``cdk.json``, remembering the key path for error messages."""

    def __init__(self, path: str, data: object) -> None:
        if not isinstance(data, Mapping):
            raise EnvironmentConfigError(
                f"{path}: must be an object, got {type(data).__name__} {data!r}"
            )
        self.path = path
        self.data: Mapping[str, Any] = data
        self.used: set[str] = set()

    def _get(self, key: str, default: T, kind: type | tuple[type, ...], what: str) -> T:
        self.used.add(key)
        if key not in self.data or self.data[key] is None:
            return default
        value = self.data[key]
        # bool is an int in Python: refuse it where a number is wanted.
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            raise EnvironmentConfigError(
                f"{self.path}.{key}: must be {what}, got {type(value).__name__} {value!r}"
            )
        return value  # type: ignore[return-value]

    def string(
        self,
        key: str,
        default: str | None,
        pattern: re.Pattern[str] | None = None,
        what: str = "a string",
    ) -> str | None:
        value = self._get(key, default, str, what)
        if value is not None and pattern is not None and not pattern.match(value):
            raise EnvironmentConfigError(f"{self.path}.{key}: must be {what}, got {value!r}")
        return value

    def integer(self, key: str, default: int, *, low: int, high: int) -> int:
        value = self._get(key, default, int, f"a whole number from {low} to {high}")
        if not low <= value <= high:
            raise EnvironmentConfigError(
                f"{self.path}.{key}: must be a whole number from {low} to {high}, got {value!r}"
            )
        return value

    def number(self, key: str, default: float, what: str) -> float:
        return self._get(key, default, (int, float), what)

    def boolean(self, key: str, default: bool) -> bool:
        return self._get(key, default, bool, "true or false")

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self._get(key, default, str, f"one of {', '.join(choices)}")
        if value not in choices:
            raise EnvironmentConfigError(
                f"{self.path}.{key}: must be one of {', '.join(choices)}, got {value!r}"
            )
        return value

    def child(self, key: str) -> _Reader | None:
        self.used.add(key)
        if key not in self.data or self.data[key] is None:
            return None
        return _Reader(f"{self.path}.{key}", self.data[key])

    def mapping(self, key: str) -> Mapping[str, Mapping[str, Any]] | None:
        self.used.add(key)
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping) or not all(
            isinstance(v, Mapping) for v in value.values()
        ):
            raise EnvironmentConfigError(
                f"{self.path}.{key}: must be an object of objects, got {value!r}"
            )
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise EnvironmentConfigError(
                f"{self.path}: unknown setting {unknown[0]!r} "
                f"(known: {', '.join(sorted(self.used))})"
            )


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _check_fargate_size(path: str, cpu: int, memory_mib: int) -> None:
    try:
        check_fargate_size(f"{path}.", cpu, memory_mib)
    except OtelFargateError as err:
        raise EnvironmentConfigError(str(err)) from err


def _parse_image(reader: _Reader | None) -> ImageSettings:
    if reader is None:
        return ImageSettings()
    kind = reader.choice("kind", "bundled", ("bundled", "slim", "registry"))
    name = reader.string("name", None)
    probe_path = reader.string("probe_path", None)
    reader.finish()
    if kind == "registry" and not name:
        raise EnvironmentConfigError(f"{reader.path}.name: required when kind is 'registry'")
    if kind != "registry" and name is not None:
        raise EnvironmentConfigError(
            f"{reader.path}.name: only used when kind is 'registry', "
            f"got {name!r} with kind {kind!r}"
        )
    return ImageSettings(kind=kind, name=name, probe_path=probe_path)


def _parse_gateway(path: str, reader: _Reader | None) -> GatewaySettings:
    if reader is None:
        raise EnvironmentConfigError(
            f"{path}.gateway: required (it names at least the gateway's exporters), got nothing"
        )
    d = GatewaySettings()
    cpu = reader.integer("cpu", d.cpu, low=256, high=16384)
    memory = reader.integer("memory_mib", d.memory_mib, low=512, high=122880)
    desired = reader.integer("desired_count", d.desired_count, low=1, high=100)
    low = reader.integer("min_capacity", d.min_capacity, low=1, high=100)
    high = reader.integer("max_capacity", d.max_capacity, low=1, high=100)
    settings = GatewaySettings(
        cpu=cpu,
        memory_mib=memory,
        desired_count=desired,
        min_capacity=low,
        max_capacity=high,
        cpu_architecture=reader.choice("cpu_architecture", d.cpu_architecture, ("X86_64", "ARM64")),
        internal_nlb=reader.boolean("internal_nlb", d.internal_nlb),
        image=_parse_image(reader.child("image")),
        exporters=_parse_exporters(reader.path, reader.mapping("exporters")),
        sampling=_parse_sampling(reader.child("sampling")),
    )
    reader.finish()
    _check_fargate_size(reader.path, cpu, memory)
    if low > high:
        raise EnvironmentConfigError(
            f"{reader.path}.min_capacity: must not exceed max_capacity ({high}), got {low}"
        )
    if not low <= desired <= high:
        raise EnvironmentConfigError(
            f"{reader.path}.desired_count: must lie within min_capacity..max_capacity "
            f"({low}..{high}), got {desired}"
        )
    return settings


def _parse_sampling(reader: _Reader | None) -> SamplingTier | None:
    """``sampling``: the samplers' service and three policies (errors, slow, a share of the rest).

    ``keep_errors`` (default true), ``slow_threshold_ms`` (default 1000; 0 switches it off) and
    ``keep_percent`` of the other traces (default 10); ``decision_wait`` and
    ``expected_new_traces_per_second`` per sampler task; the task's size and scaling.
    """
    if reader is None:
        return None
    d = SamplingTier()
    policies: list[KeepErrors | KeepSlow | Probabilistic] = []
    if reader.boolean("keep_errors", True):
        policies.append(KeepErrors())
    slow = reader.integer("slow_threshold_ms", 1000, low=0, high=3_600_000)
    if slow:
        policies.append(KeepSlow(threshold_ms=slow))
    percent = reader.number("keep_percent", 10, "a number of percent")
    if percent:
        policies.append(Probabilistic(percent=percent))
    try:
        tier = SamplingTier(
            tail_sampling=TailSampling(
                policies=policies,
                decision_wait=reader.string("decision_wait", "10s") or "10s",
                expected_new_traces_per_second=reader.integer(
                    "expected_new_traces_per_second", 500, low=1, high=1_000_000
                ),
            ),
            cpu=reader.integer("cpu", d.cpu, low=256, high=16384),
            memory_mib=reader.integer("memory_mib", d.memory_mib, low=512, high=122880),
            desired_count=reader.integer("desired_count", d.desired_count, low=1, high=100),
            min_capacity=reader.integer("min_capacity", d.min_capacity, low=1, high=100),
            max_capacity=reader.integer("max_capacity", d.max_capacity, low=1, high=100),
        )
    except OtelFargateError as error:
        # the library names the setting "sampling.<key>"; say where it is in cdk.json
        raise EnvironmentConfigError(f"{reader.path.rsplit('.', 1)[0]}.{error}") from error
    reader.finish()
    return tier


def _parse_exporters(
    path: str, spec: Mapping[str, Mapping[str, Any]] | None
) -> tuple[Exporter, ...]:
    if not spec:
        raise EnvironmentConfigError(
            f"{path}.exporters: the gateway needs at least one exporter, got {spec!r}"
        )
    try:
        return exporters_from_spec(spec)
    except ConfigError as err:
        # the spec parser names paths from "exporters."; put the environment in front
        raise EnvironmentConfigError(f"{path}.{err}") from err


def _parse_demo(reader: _Reader | None) -> DemoSettings:
    if reader is None:
        return DemoSettings()
    d = DemoSettings()
    settings = DemoSettings(
        enabled=reader.boolean("enabled", d.enabled),
        desired_count=reader.integer("desired_count", d.desired_count, low=0, high=100),
        cpu=reader.integer("cpu", d.cpu, low=256, high=16384),
        memory_mib=reader.integer("memory_mib", d.memory_mib, low=512, high=122880),
        collector_cpu=reader.integer("collector_cpu", d.collector_cpu, low=64, high=16384),
        collector_memory_mib=reader.integer(
            "collector_memory_mib", d.collector_memory_mib, low=MIN_MEMORY_MIB, high=122880
        ),
    )
    reader.finish()
    _check_fargate_size(reader.path, settings.cpu, settings.memory_mib)
    if settings.collector_cpu >= settings.cpu:
        raise EnvironmentConfigError(
            f"{reader.path}.collector_cpu: must leave CPU for the app in a task of "
            f"{settings.cpu} units, got {settings.collector_cpu}"
        )
    if settings.app_memory_mib < DEMO_APP_MIN_MEMORY_MIB:
        raise EnvironmentConfigError(
            f"{reader.path}.collector_memory_mib: must leave at least "
            f"{DEMO_APP_MIN_MEMORY_MIB} MiB for the app beside the collector and the "
            f"{SERVICE_CONNECT_PROXY_MEMORY_MIB} MiB Service Connect proxy in a task of "
            f"{settings.memory_mib} MiB, got {settings.collector_memory_mib}"
        )
    return settings


#: Addresses each Availability Zone takes in a new VPC: a public /24 and a private /22.
_ADDRESSES_PER_AZ = 256 + 1024


def _parse_cidr(path: str, value: str, max_azs: int) -> str:
    match = _CIDR.match(value)
    if not match or any(int(p) > 255 for p in match.groups()[:4]) or not 16 <= int(match[5]) <= 20:
        raise EnvironmentConfigError(
            f"{path}: must be an IPv4 CIDR block with a prefix from /16 to /20, got {value!r}"
        )
    if 2 ** (32 - int(match[5])) < max_azs * _ADDRESSES_PER_AZ:
        raise EnvironmentConfigError(
            f"{path}: {value!r} is too small for {max_azs} Availability Zones, each taking a "
            f"public /24 and a private /22; use a larger block or fewer max_azs"
        )
    return value


_ZONE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9][a-z]$")


def _parse_zones(reader: _Reader, region: str | None, max_azs: int) -> tuple[str, ...]:
    reader.used.add("availability_zones")
    value = reader.data.get("availability_zones")
    path = f"{reader.path}.availability_zones"
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(z, str) and _ZONE.match(z) for z in value):
        raise EnvironmentConfigError(
            f"{path}: must be a list of Availability Zone names such as eu-west-1a, got {value!r}"
        )
    if region is not None and any(not z.startswith(region) for z in value):
        raise EnvironmentConfigError(
            f"{path}: every zone must be in region {region}, got {value!r}"
        )
    if len(value) != max_azs or len(set(value)) != len(value):
        raise EnvironmentConfigError(
            f"{path}: must name max_azs ({max_azs}) distinct zones, got {value!r}"
        )
    return tuple(value)


def parse_environment(name: str, data: object) -> EnvironmentSettings:
    """Parse one environment entry of ``cdk.json``."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise EnvironmentConfigError(
            f"environments: environment names are 1-20 lowercase letters, digits or '-', "
            f"starting with a letter, got {name!r}"
        )
    r = _Reader(f"environments.{name}", data)
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
        vpc_cidr=_parse_cidr(f"{r.path}.vpc_cidr", cidr, max_azs),
        max_azs=max_azs,
        nat_gateways=r.integer("nat_gateways", 1, low=0, high=6),
        log_retention_days=r.integer("log_retention_days", 30, low=1, high=3653),
        alarm_email=r.string(
            "alarm_email", None, re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), "an e-mail address"
        ),
        gateway=_parse_gateway(r.path, r.child("gateway")),
        demo=_parse_demo(r.child("demo")),
        availability_zones=_parse_zones(r, region, max_azs),
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
