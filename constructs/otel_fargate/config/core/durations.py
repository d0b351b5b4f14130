"""Go duration strings (``1m30s``, ``500ms``) as the collector reads them."""

from __future__ import annotations

import re

from otel_fargate.errors import ConfigError

_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(value: object, *, setting: str) -> float:
    """Seconds in a Go duration; raise ConfigError naming ``setting`` when malformed."""
    if isinstance(value, bool):
        raise ConfigError(f"{setting}: must be a duration such as '60s', got {value!r}")
    if isinstance(value, int | float):
        # The collector decodes a bare number as nanoseconds.
        return float(value) * 1e-9
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{setting}: must be a duration such as '60s', got {value!r}")
    if value == "0":
        return 0.0
    total = 0.0
    position = 0
    for match in _PART.finditer(value):
        if match.start() != position:
            break
        total += float(match[1]) * _UNIT_SECONDS[match[2]]
        position = match.end()
    if position != len(value):
        raise ConfigError(f"{setting}: must be a duration such as '60s', got {value!r}")
    return total


def format_duration(seconds: float) -> str:
    """Seconds as a Go duration: ``5s``, ``1.5s``, ``500ms``."""
    if seconds == int(seconds):
        return f"{int(seconds)}s"
    millis = seconds * 1000
    if millis == int(millis):
        return f"{int(millis)}ms"
    return f"{seconds}s"
