"""Component types the pinned collector renamed, and old ids in user overrides.

The collector still accepts the old types as deprecated aliases (it logs a warning at start).
The presets render the current types; an override written against the old ids (for example
``exporters: {otlp/honeycomb: {timeout: 20s}}`` from before the rename) still reaches the
component it meant: :func:`follow_renames` rewrites such ids to the current ones when the
base configuration has the renamed component.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

#: Deprecated component type -> current type, by configuration section.
RENAMED: Final[dict[str, dict[str, str]]] = {
    "exporters": {
        "otlp": "otlp_grpc",
        "otlphttp": "otlp_http",
        "loadbalancing": "load_balancing",
        "prometheusremotewrite": "prometheus_remote_write",
    },
    "processors": {
        "resourcedetection": "resource_detection",
        "metricstransform": "metrics_transform",
    },
    "receivers": {"fluentforward": "fluent_forward"},
}


def spellings(section: str, *current: str) -> frozenset[str]:
    """The types ``current`` in ``section`` together with the deprecated aliases of each."""
    renamed = RENAMED.get(section, {})
    return frozenset(current) | {old for old, new in renamed.items() if new in current}


def current_id(section: str, component_id: str) -> str:
    """``component_id`` with its type renamed to the current one (``otlp/x`` -> ``otlp_grpc/x``
    in ``exporters``); unchanged when its type was not renamed.
    """
    kind, slash, name = component_id.partition("/")
    renamed = RENAMED.get(section, {}).get(kind)
    return component_id if renamed is None else f"{renamed}{slash}{name}"


def follow_renames(layer: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """``layer`` (an override) with old component ids that mean a renamed component of ``base``
    rewritten to the current ids, in the component sections and in the pipelines.
    """
    moved: dict[str, dict[str, str]] = {section: {} for section in RENAMED}
    out = dict(layer)
    for section in RENAMED:
        components = layer.get(section)
        known = base.get(section) or {}
        if not isinstance(components, Mapping):
            continue
        rewritten: dict[str, Any] = {}
        for cid, settings in components.items():
            new = current_id(section, str(cid))
            if new != cid and new in known and cid not in known:
                moved[section][str(cid)] = new
                cid = new
            rewritten[cid] = settings
        out[section] = rewritten
    service = layer.get("service")
    if isinstance(service, Mapping) and isinstance(service.get("pipelines"), Mapping):
        out["service"] = {**service, "pipelines": _pipelines(service["pipelines"], moved, base)}
    return out


def _pipelines(
    pipelines: Mapping[str, Any], moved: Mapping[str, Mapping[str, str]], base: Mapping[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pid, pipeline in pipelines.items():
        if not isinstance(pipeline, Mapping):
            out[pid] = pipeline
            continue
        out[pid] = dict(pipeline)
        for section in RENAMED:
            ids = pipeline.get(section)
            if isinstance(ids, list):
                known = base.get(section) or {}
                out[pid][section] = [
                    _renamed(section, cid, moved, known) if isinstance(cid, str) else cid
                    for cid in ids
                ]
    return out


def _renamed(
    section: str, cid: str, moved: Mapping[str, Mapping[str, str]], known: Mapping[str, Any]
) -> str:
    if cid in moved[section]:
        return moved[section][cid]
    new = current_id(section, cid)
    return new if new != cid and new in known and cid not in known else cid
