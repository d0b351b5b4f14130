"""Keys of the model's components whose upstream schema the tool cannot follow.

Read by ``tools/component_model.py`` when it writes ``component_fields.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CONTRIB = "github.com/open-telemetry/opentelemetry-collector-contrib"

#: The health_check extension's Config embeds ``internal/healthcheck``, a package with no schema
#: at the pinned release, so its keys are read from that package's config.go files (listed in
#: the entry's sources): the legacy HTTP server squashed at the top, then ``grpc``, ``http``,
#: ``component_health``. The server blocks are the ones the OTLP receiver's schema describes.
HEALTH_CHECK_SOURCES = [
    f"{CONTRIB}/internal/healthcheck/config.go",
    f"{CONTRIB}/internal/healthcheck/internal/grpc/config.go",
    f"{CONTRIB}/internal/healthcheck/internal/httpserver/config.go",
    f"{CONTRIB}/internal/healthcheck/internal/config/config.go",
]
_OTLP_ONLY = {"enabled", "traces_url_path", "metrics_url_path", "logs_url_path"}


def health_check_keys(otlp: Mapping[str, Any]) -> dict[str, Any]:
    """The health_check extension's key tree, from the OTLP receiver's server blocks."""
    protocols = otlp["keys"]["protocols"]
    http = {k: v for k, v in protocols["http"].items() if k not in _OTLP_ONLY}
    grpc = {k: v for k, v in protocols["grpc"].items() if k not in _OTLP_ONLY}
    path = {"enabled": None, "path": None}
    return {
        **http,
        "path": None,
        "response_body": {"healthy": None, "unhealthy": None},
        "check_collector_pipeline": {
            "enabled": None,
            "interval": None,
            "exporter_failure_threshold": None,
        },
        "use_v2": None,
        "grpc": grpc,
        "http": {**http, "config": path, "status": {**path, "include_attributes": None}},
        "component_health": {
            "include_permanent_errors": None,
            "include_recoverable_errors": None,
            "recovery_duration": None,
        },
    }


def fill_health_check(components: dict[str, dict[str, Any]], version: str) -> None:
    """Give the health_check entry its keys when its schema could not be followed."""
    entry = components["extensions"].get("health_check")
    otlp = components["receivers"].get("otlp")
    if entry is None or otlp is None or entry["keys"] is not None:
        return
    entry["keys"] = health_check_keys(otlp)
    entry["source"] = sorted({*entry["source"], *(f"{s}@{version}" for s in HEALTH_CHECK_SOURCES)})
