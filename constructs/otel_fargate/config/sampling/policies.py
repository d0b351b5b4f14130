"""Tail-sampling policies: what makes a sampler keep a trace."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from otel_fargate.checks import check_int, check_number, check_text
from otel_fargate.checks import fail as _fail
from otel_fargate.errors import ConfigError


def fail(setting: str, message: str, value: object) -> ConfigError:
    """A ConfigError reading ``<setting>: <message>, got <value>``."""
    error = _fail(setting, message, value, error=ConfigError)
    assert isinstance(error, ConfigError)
    return error


#: Upstream's policy types a :class:`RawPolicy` may use.
RAW_POLICY_TYPES = frozenset(
    {
        "always_sample",
        "latency",
        "numeric_attribute",
        "probabilistic",
        "status_code",
        "string_attribute",
        "rate_limiting",
        "span_count",
        "trace_state",
        "boolean_attribute",
        "ottl_condition",
        "and",
        "composite",
        "drop",
        "not",
        "bytes_limiting",
    }
)


@dataclass(frozen=True, kw_only=True)
class SamplingPolicy:
    """What every policy shares: its name, unique within the sampler's policies."""

    name: str
    policy_type: ClassVar[str] = ""

    def settings(self) -> dict[str, Any]:
        """The policy's own block (``status_code: {...}``); subclasses fill it in."""
        raise NotImplementedError

    def check(self, setting: str) -> None:
        """Raise ConfigError naming ``setting`` when a value is out of range."""
        check_text(f"{setting}.name", self.name, error=ConfigError)

    def render(self) -> dict[str, Any]:
        """The policy as the ``tail_sampling`` processor reads it."""
        return {"name": self.name, "type": self.policy_type, self.policy_type: self.settings()}


@dataclass(frozen=True, kw_only=True)
class KeepErrors(SamplingPolicy):
    """Keep every trace with a span whose status is ERROR. Default name: ``errors``."""

    name: str = "errors"
    policy_type: ClassVar[str] = "status_code"

    def settings(self) -> dict[str, Any]:  # noqa: D102
        return {"status_codes": ["ERROR"]}


@dataclass(frozen=True, kw_only=True)
class KeepSlow(SamplingPolicy):
    """Keep every trace longer than ``threshold_ms`` (first span start to last span end).

    Default name: ``slow``.
    """

    threshold_ms: int
    name: str = "slow"
    policy_type: ClassVar[str] = "latency"

    def check(self, setting: str) -> None:  # noqa: D102
        super().check(setting)
        check_int(f"{setting}.threshold_ms", self.threshold_ms, low=1, error=ConfigError)

    def settings(self) -> dict[str, Any]:  # noqa: D102
        return {"threshold_ms": self.threshold_ms}


@dataclass(frozen=True, kw_only=True)
class KeepAttribute(SamplingPolicy):
    """Keep traces with a span or resource attribute ``key`` equal to one of ``values``.

    Attributes:
        key: the attribute key, e.g. ``tenant``.
        values: the string values that keep the trace (at least one).
        name: the policy name; default: ``attribute-<key>``.
    """

    key: str
    values: Sequence[str]
    name: str = ""
    policy_type: ClassVar[str] = "string_attribute"

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(self.values))
        if not self.name and isinstance(self.key, str):
            object.__setattr__(self, "name", f"attribute-{self.key}")

    def check(self, setting: str) -> None:  # noqa: D102
        super().check(setting)
        check_text(f"{setting}.key", self.key, error=ConfigError)
        if not self.values or not all(isinstance(v, str) and v for v in self.values):
            raise fail(f"{setting}.values", "must be one or more non-empty strings", self.values)

    def settings(self) -> dict[str, Any]:  # noqa: D102
        return {"key": self.key, "values": list(self.values)}


@dataclass(frozen=True, kw_only=True)
class Probabilistic(SamplingPolicy):
    """Keep ``percent`` % of traces, chosen by a hash of the trace id (so every sampler agrees).

    Default name: ``probabilistic``.
    """

    percent: float
    name: str = "probabilistic"
    policy_type: ClassVar[str] = "probabilistic"

    def check(self, setting: str) -> None:  # noqa: D102
        super().check(setting)
        check_number(
            f"{setting}.percent",
            self.percent,
            low=0.0,
            high=100.0,
            low_inclusive=False,
            error=ConfigError,
        )

    def settings(self) -> dict[str, Any]:  # noqa: D102
        return {"sampling_percentage": self.percent}


@dataclass(frozen=True, kw_only=True)
class RateLimit(SamplingPolicy):
    """Keep traces while each sampler task keeps fewer than ``spans_per_second`` spans a second.

    Default name: ``rate-limit``.
    """

    spans_per_second: int
    name: str = "rate-limit"
    policy_type: ClassVar[str] = "rate_limiting"

    def check(self, setting: str) -> None:  # noqa: D102
        super().check(setting)
        check_int(f"{setting}.spans_per_second", self.spans_per_second, low=1, error=ConfigError)

    def settings(self) -> dict[str, Any]:  # noqa: D102
        return {"spans_per_second": self.spans_per_second}


@dataclass(frozen=True, kw_only=True)
class RawPolicy(SamplingPolicy):
    """Any upstream policy as its YAML mapping (``type`` and the type's block), named ``name``.

    Attributes:
        name: the policy name.
        policy: the policy without its name, e.g. ``{"type": "span_count", "span_count":
            {"min_spans": 2}}``; the collector checks the block's keys (``otelcol validate``).
    """

    name: str
    policy: Mapping[str, Any]

    def check(self, setting: str) -> None:  # noqa: D102
        super().check(setting)
        kind = self.policy.get("type") if isinstance(self.policy, Mapping) else None
        if kind not in RAW_POLICY_TYPES:
            raise fail(
                f"{setting}.policy.type",
                f"must be one of {', '.join(sorted(RAW_POLICY_TYPES))}",
                kind,
            )
        if "name" in self.policy:
            raise fail(f"{setting}.policy.name", "goes in name=, not the mapping", self.policy)

    def render(self) -> dict[str, Any]:  # noqa: D102
        return {"name": self.name, **dict(self.policy)}


@dataclass(frozen=True, kw_only=True)
class AllOf(SamplingPolicy):
    """Keep a trace only when every one of ``policies`` would (upstream's ``and`` policy).

    Attributes:
        name: the policy name.
        policies: two or more policies (not themselves ``AllOf``).
    """

    name: str
    policies: Sequence[SamplingPolicy]
    policy_type: ClassVar[str] = "and"

    def __post_init__(self) -> None:
        object.__setattr__(self, "policies", tuple(self.policies))

    def check(self, setting: str) -> None:  # noqa: D102
        super().check(setting)
        if len(self.policies) < 2:
            raise fail(f"{setting}.policies", "needs two or more policies", self.policies)
        check_policies(self.policies, setting=f"{setting}.policies", nested=True)

    def settings(self) -> dict[str, Any]:  # noqa: D102
        return {"and_sub_policy": [p.render() for p in self.policies]}


def check_policies(policies: Sequence[object], *, setting: str, nested: bool = False) -> None:
    """Every policy is typed, valid and uniquely named; ``AllOf`` does not nest."""
    names: set[str] = set()
    for index, policy in enumerate(policies):
        where = f"{setting}[{index}]"
        if not isinstance(policy, SamplingPolicy) or type(policy) is SamplingPolicy:
            raise fail(
                where,
                "must be a policy such as KeepErrors(), KeepSlow(threshold_ms=1000) or "
                "Probabilistic(percent=10)",
                policy,
            )
        if nested and isinstance(policy, AllOf):
            raise fail(where, "AllOf cannot contain another AllOf", policy)
        policy.check(where)
        if policy.name in names:
            raise fail(f"{where}.name", "two policies share this name", policy.name)
        names.add(policy.name)
