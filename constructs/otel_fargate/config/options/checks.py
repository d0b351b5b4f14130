"""Checks of single collector options, shared by the options type and the constructs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from otel_fargate.checks import check_int, check_retention_days, fail
from otel_fargate.config.core.secrets import RESERVED_ENV_NAMES, check_env_name
from otel_fargate.config.core.values import FrozenMap
from otel_fargate.config.exporters.base import Exporter
from otel_fargate.config.policy.aws_names import is_reserved_log_group
from otel_fargate.errors import ConfigError, OtelFargateError
from otel_fargate.names import MAX_STOP_TIMEOUT_SECONDS, MIN_STOP_TIMEOUT_SECONDS

_COMPONENT_ID = re.compile(r"^[a-z][a-z0-9_]*(/[A-Za-z0-9_.\-]+)?$")


def check_stop_timeout(value: object, *, error: type[OtelFargateError] = ConfigError) -> int:
    """``value`` if Fargate accepts it as a container stop timeout (2 to 120 seconds)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not (MIN_STOP_TIMEOUT_SECONDS <= value <= MAX_STOP_TIMEOUT_SECONDS)
    ):
        raise error(
            f"stop_timeout_seconds: must be an integer from {MIN_STOP_TIMEOUT_SECONDS} to "
            f"{MAX_STOP_TIMEOUT_SECONDS} (Fargate's limit), got {value!r}"
        )
    return value


def check_environment(environment: object) -> FrozenMap:
    """``environment`` as a read-only mapping of valid, unreserved variable names to strings."""
    if not isinstance(environment, Mapping):
        raise fail(
            "environment",
            "must be a mapping of names to values",
            environment,
            error=ConfigError,
        )
    frozen = FrozenMap(environment)
    for name, value in frozen.items():
        check_env_name(name, setting="environment")
        if name in RESERVED_ENV_NAMES:
            raise fail(
                f"environment.{name}",
                f"is reserved for otel-fargate ({', '.join(sorted(RESERVED_ENV_NAMES))})",
                value,
                error=ConfigError,
            )
        if not isinstance(value, str):
            raise fail(f"environment.{name}", "must be a string", value, error=ConfigError)
    return frozen


def check_processors(processors: object, *, reserved: frozenset[str]) -> None:
    """User processors: a mapping of component ids (not the preset's own) to settings."""
    if processors is None:
        return
    if not isinstance(processors, Mapping):
        raise ConfigError(
            f"processors: must be a mapping of processor id to settings, got {processors!r}"
        )
    for name, settings in processors.items():
        if not isinstance(name, str) or not _COMPONENT_ID.fullmatch(name):
            raise ConfigError(f"processors: {name!r} is not a component id (type or type/name)")
        if name in reserved:
            raise ConfigError(
                f"processors.{name}: is managed by the preset; use overrides to change it"
            )
        if settings is not None and not isinstance(settings, Mapping):
            raise ConfigError(
                f"processors.{name}: settings must be a mapping or None, got {settings!r}"
            )


def check_exporters(exporters: Sequence[Exporter], *, preset: str, replacement: object) -> None:
    """Refuse anything but exporters, exporters on an agent, none elsewhere, or one id twice."""
    for index, exporter in enumerate(exporters):
        if not isinstance(exporter, Exporter):
            raise ConfigError(
                f"exporters[{index}]: must be an exporter such as XRayExporter(), "
                f"got {exporter!r}"
            )
    if preset == "agent" and exporters:
        ids = ", ".join(e.component_id for e in exporters)
        raise ConfigError(
            f"exporters: the agent preset forwards everything to the gateway, which "
            f"exports; configure exporters on the gateway, got {ids}"
        )
    if preset != "agent" and not exporters and replacement is None:
        raise ConfigError(
            f"exporters: the {preset} preset needs at least one exporter, got none"
        )
    seen: dict[str, Exporter] = {}
    for exporter in exporters:
        if exporter.component_id in seen:
            raise ConfigError(
                f"exporters: two exporters have the id {exporter.component_id!r}; give "
                f"exporters of one type distinct names (e.g. otlp_grpc/honeycomb)"
            )
        seen[exporter.component_id] = exporter


def check_self_telemetry(
    *, namespace: object, log_group: object, retention_days: object, interval_seconds: object
) -> None:
    """Refuse a namespace under AWS/, an empty log group, a retention or interval out of range."""
    if namespace is not None and (
        not isinstance(namespace, str)
        or not namespace.strip()
        or namespace.startswith("AWS/")
        or "${" in namespace
    ):
        raise ConfigError(
            f"self_telemetry_namespace: must be a non-empty namespace outside AWS/, without "
            f"${{ (it names CloudWatch metrics and an IAM condition, never a variable), or "
            f"None, got {namespace!r}"
        )
    if log_group is not None and (
        not isinstance(log_group, str)
        or not log_group.strip()
        or "${" in log_group
        or is_reserved_log_group(log_group)
    ):
        raise ConfigError(
            f"self_telemetry_log_group: must be a non-empty log group name outside the "
            f"prefixes reserved to AWS (/aws/, aws/), without ${{ (it names an IAM grant), "
            f"got {log_group!r}"
        )
    check_retention_days(
        "self_telemetry_retention_days", retention_days, error=ConfigError
    )
    check_int(
        "self_telemetry_interval_seconds",
        interval_seconds,
        low=10,
        error=ConfigError,
    )
