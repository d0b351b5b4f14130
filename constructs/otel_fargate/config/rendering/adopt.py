"""A replacement configuration written for another collector deployment, made to run here.

Teams come with configurations of their own, most often one of ADOT's published ECS samples.
Three things in them cannot run as they stand, and are taken care of before validation:

- ``health_check`` declared without an endpoint (the collector then listens on
  ``localhost:13133``), or not declared at all: the extension is given the endpoint the
  container's health check probes;
- exporters whose retries are left to the collector's default (300 s) would outlive the
  container's stop timeout: their ``retry_on_failure.max_elapsed_time`` is derived so that
  retries plus one attempt end 10 s before it (a value the configuration sets is kept, and
  checked);
- ``{{cluster_name}}``-style template placeholders, which the collector does not fill, are
  refused with what to write instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from otel_fargate.config.core.durations import format_duration
from otel_fargate.config.core.values import component_type
from otel_fargate.config.policy.drain import HELPER_EXPORTERS, drain_of
from otel_fargate.config.policy.validate import iter_strings
from otel_fargate.errors import ConfigError

_TEMPLATE = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")
#: Time left between the last retry's end and the stop timeout.
DRAIN_MARGIN_SECONDS = 10


def refuse_templates(config: Mapping[str, Any], *, layer: str) -> None:
    """Refuse ``{{placeholder}}`` templates: the collector would keep them as text."""
    for path, text in iter_strings(config):
        match = _TEMPLATE.search(text)
        if match is not None:
            raise ConfigError(
                f"{layer}: {path}: {{{{{match[1]}}}}} is a template placeholder the collector "
                f"does not fill (ADOT's sample configs expect a templating step); write the "
                f"value, or ${{env:NAME}} with the construct's environment=, got {text!r}"
            )


def fill_health_check(config: dict[str, Any], *, endpoint: str) -> None:
    """Give ``health_check`` the endpoint the container health check probes when the
    configuration names none, and declare and enable it when it is missing.
    """
    extensions = config.get("extensions")
    if not isinstance(extensions, dict):
        extensions = config["extensions"] = {}
    checks = [eid for eid in extensions if component_type(str(eid)) == "health_check"]
    if not checks:
        extensions["health_check"] = {}
        checks = ["health_check"]
    for eid in checks:
        settings = extensions.get(eid)
        if settings is None:
            settings = extensions[eid] = {}
        if isinstance(settings, dict) and settings.get("endpoint") is None:
            settings["endpoint"] = endpoint
    service = config.get("service")
    if isinstance(service, dict):
        enabled = service.get("extensions")
        enabled = service["extensions"] = list(enabled) if isinstance(enabled, list) else []
        enabled.extend(eid for eid in checks if eid not in enabled)


def derive_retries(config: dict[str, Any], *, stop_timeout_seconds: int) -> None:
    """Bound the retries of exporters that leave them to the collector's default."""
    exporters = config.get("exporters")
    if not isinstance(exporters, dict):
        return
    for eid, given in exporters.items():
        if component_type(str(eid)) not in HELPER_EXPORTERS:
            continue
        settings = exporters[eid] = given if given is not None else {}
        retry = settings.get("retry_on_failure") if isinstance(settings, dict) else None
        if not isinstance(settings, dict) or (
            isinstance(retry, Mapping) and "max_elapsed_time" in retry
        ):
            continue
        drain = drain_of(
            component_type(str(eid)),
            settings,
            where=f"exporters.{eid}",
            stop_timeout_seconds=stop_timeout_seconds,
        )
        # one attempt as the drain rule counts it: the helper's timeout, or the AWS SDK's
        # tries of an exporter that retries in both (awscloudwatchlogs)
        attempt = drain.attempt if drain is not None else 0.0
        budget = max(1.0, stop_timeout_seconds - attempt - DRAIN_MARGIN_SECONDS)
        settings["retry_on_failure"] = {
            **(retry if isinstance(retry, Mapping) else {}),
            "max_elapsed_time": format_duration(budget),
        }


def adopt(config: dict[str, Any], *, layer: str, endpoint: str, stop: int) -> dict[str, Any]:
    """``config`` (a replacement) made to run here; see the module docstring."""
    refuse_templates(config, layer=layer)
    fill_health_check(config, endpoint=endpoint)
    derive_retries(config, stop_timeout_seconds=stop)
    return config
