"""The drain rule: how long one batch can spend being sent, which must end before ECS kills
the container.

One rule for typed exporters and for whole configurations (overrides, replacements): it reads
an exporter's rendered settings, so a typed exporter is measured by exactly the YAML it
becomes.

- Exporters on the collector's exporter helper (``otlp_grpc``, ``otlp_http``,
  ``awscloudwatchlogs``, or any exporter that sets ``timeout``/``retry_on_failure``): one
  attempt's ``timeout`` plus ``retry_on_failure.max_elapsed_time`` when retries are on, with
  the helper's defaults (5 s, 300 s) for absent keys.
- Exporters on the AWS SDK (``awsxray``, ``awsemf``, ``awscloudwatchlogs``): an attempt is
  ``request_timeout_seconds`` times ``max_retries + 1`` SDK tries (defaults 30 s, 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from otel_fargate.config.core.durations import parse_duration
from otel_fargate.config.model.aliases import spellings
from otel_fargate.errors import ConfigError

#: Exporter types that retry batches through the collector's exporter helper.
HELPER_EXPORTERS = spellings(
    "exporters",
    "otlp_grpc",
    "otlp_http",
    "awscloudwatchlogs",
    "prometheus_remote_write",
    "load_balancing",
)
#: Exporter types whose AWS SDK times out and retries each request itself.
SDK_EXPORTERS = frozenset({"awsxray", "awsemf", "awscloudwatchlogs"})
_HELPER_DEFAULT_TIMEOUT = "5s"
_HELPER_DEFAULT_MAX_ELAPSED = "300s"
_SDK_DEFAULT_TIMEOUT = 30
_SDK_DEFAULT_RETRIES = 2


@dataclass(frozen=True)
class Drain:
    """How long one batch of an exporter can take, in its parts.

    Attributes:
        retrying: seconds of collector-level retries (``max_elapsed_time``), 0 without.
        attempt: seconds one attempt can take.
        attempt_text: the attempt spelled out for messages.
        setting: the setting to change when the total is too long.
    """

    retrying: float
    attempt: float
    attempt_text: str
    setting: str

    @property
    def total(self) -> float:
        """Worst-case seconds before the batch is delivered or given up on."""
        return self.retrying + self.attempt


def _sdk_attempt(settings: Mapping[str, Any], where: str) -> tuple[float, str]:
    timeout = settings.get("request_timeout_seconds", _SDK_DEFAULT_TIMEOUT)
    retries = settings.get("max_retries", _SDK_DEFAULT_RETRIES)
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (timeout, retries)):
        raise ConfigError(
            f"{where}: request_timeout_seconds and max_retries must be integers, "
            f"got {timeout!r} and {retries!r}"
        )
    return float(timeout * (retries + 1)), f"{timeout}s x {retries + 1} SDK attempts"


def _retrying(settings: Mapping[str, Any], where: str, stop_timeout_seconds: int) -> float:
    retry = settings.get("retry_on_failure") or {}
    if not isinstance(retry, Mapping):
        raise ConfigError(f"{where}.retry_on_failure: must be a mapping, got {retry!r}")
    if not retry.get("enabled", True):
        return 0.0
    elapsed = parse_duration(
        retry.get("max_elapsed_time", _HELPER_DEFAULT_MAX_ELAPSED),
        setting=f"{where}.retry_on_failure.max_elapsed_time",
    )
    if elapsed == 0:
        raise ConfigError(
            f"{where}.retry_on_failure.max_elapsed_time: 0 retries forever; it must end "
            f"before stop_timeout_seconds={stop_timeout_seconds}"
        )
    return elapsed


def drain_of(
    component_type: str, settings: Mapping[str, Any], *, where: str, stop_timeout_seconds: int
) -> Drain | None:
    """The drain time of an exporter of ``component_type`` with ``settings``; None when it
    sends synchronously (``debug``).
    """
    helper = component_type in HELPER_EXPORTERS
    if component_type in SDK_EXPORTERS:
        attempt, text = _sdk_attempt(settings, where)
    elif helper or "timeout" in settings:
        attempt = parse_duration(
            settings.get("timeout", _HELPER_DEFAULT_TIMEOUT), setting=f"{where}.timeout"
        )
        text = f"timeout {attempt:g}s"
    else:
        return None
    retrying = 0.0
    if helper or "retry_on_failure" in settings:
        retrying = _retrying(settings, where, stop_timeout_seconds)
    if retrying:
        setting = "retry_on_failure.max_elapsed_time"
    elif component_type in SDK_EXPORTERS:
        setting = "request_timeout_seconds"
    else:
        setting = "timeout"
    return Drain(retrying=retrying, attempt=attempt, attempt_text=text, setting=setting)


def check_drain(
    component_type: str, settings: Mapping[str, Any], *, where: str, stop_timeout_seconds: int
) -> None:
    """Raise ConfigError when a batch of this exporter could outlive the stop timeout."""
    drain = drain_of(
        component_type, settings, where=where, stop_timeout_seconds=stop_timeout_seconds
    )
    if drain is not None and drain.total >= stop_timeout_seconds:
        raise ConfigError(
            f"{where}.{drain.setting}: retries ({drain.retrying:g}s) plus {drain.attempt_text} "
            f"must be shorter than stop_timeout_seconds={stop_timeout_seconds}"
        )
