"""Validation primitives: every bad input fails with the setting, the rule and the value.

Pure Python. Constructs raise :class:`~otel_fargate.errors.OtelFargateError`, the
configuration layer :class:`~otel_fargate.errors.ConfigError`; both go through :func:`fail`
so every message reads ``<setting>: <rule>, got <value>``.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import TypeVar

from otel_fargate.errors import OtelFargateError
from otel_fargate.names import LOG_RETENTION_DAYS

T = TypeVar("T")


def fail(
    setting: str,
    message: str,
    value: object,
    *,
    error: type[OtelFargateError] = OtelFargateError,
) -> OtelFargateError:
    """The error for ``setting`` having ``value``, which breaks ``message``."""
    return error(f"{setting}: {message}, got {value!r}")


def check_int(
    setting: str,
    value: object,
    *,
    low: int,
    high: int | None = None,
    error: type[OtelFargateError] = OtelFargateError,
) -> int:
    """``value`` as an int from ``low`` to ``high`` (bools refused)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        rule = (
            f"must be a whole number from {low} to {high}"
            if high is not None
            else (f"must be a whole number >= {low}")
        )
        raise fail(setting, rule, value, error=error)
    return value


def check_number(
    setting: str,
    value: object,
    *,
    low: float = 0.0,
    high: float | None = None,
    low_inclusive: bool = True,
    error: type[OtelFargateError] = OtelFargateError,
) -> float:
    """``value`` as a finite number within the bounds (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise fail(setting, "must be a number", value, error=error)
    below = value < low if low_inclusive else value <= low
    if below or (high is not None and value > high):
        lower = f">= {low:g}" if low_inclusive else f"> {low:g}"
        rule = f"must be a number {lower}" + (f" and <= {high:g}" if high is not None else "")
        raise fail(setting, rule, value, error=error)
    return float(value)


def check_percent(
    setting: str, value: object, *, error: type[OtelFargateError] = OtelFargateError
) -> float:
    """``value`` as a percentage in (0, 100]."""
    return check_number(setting, value, low=0, high=100, low_inclusive=False, error=error)


def check_choice(
    setting: str,
    value: T,
    choices: Collection[T],
    *,
    error: type[OtelFargateError] = OtelFargateError,
) -> T:
    """``value`` if it is one of ``choices``."""
    if isinstance(value, bool) or value not in choices:
        listed = ", ".join(str(choice) for choice in choices)
        raise fail(setting, f"must be one of {listed}", value, error=error)
    return value


def check_bool(
    setting: str, value: object, *, error: type[OtelFargateError] = OtelFargateError
) -> bool:
    """``value`` if it is True or False."""
    if not isinstance(value, bool):
        raise fail(setting, "must be true or false", value, error=error)
    return value


def check_text(
    setting: str, value: object, *, error: type[OtelFargateError] = OtelFargateError
) -> str:
    """``value`` if it is a string with something besides white space."""
    if not isinstance(value, str) or not value.strip():
        raise fail(setting, "must be a non-empty string", value, error=error)
    return value


def check_retention_days(
    setting: str, value: object, *, error: type[OtelFargateError] = OtelFargateError
) -> int:
    """``value`` if CloudWatch Logs accepts it as a retention period in days."""
    if isinstance(value, bool) or value not in LOG_RETENTION_DAYS:
        listed = ", ".join(map(str, LOG_RETENTION_DAYS))
        raise fail(
            setting, f"CloudWatch Logs retention must be one of {listed} days", value, error=error
        )
    assert isinstance(value, int)
    return value
