"""Checks run on every configuration layer before it can reach a task definition."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from otel_fargate.config.core.secrets import ENV_NAME_PATTERN
from otel_fargate.config.core.values import component_type, mappings
from otel_fargate.config.model.components import ComponentSet, check_components
from otel_fargate.config.model.fargate_limits import check_fargate_receivers
from otel_fargate.config.model.processors import processor_signals
from otel_fargate.config.policy.drain import check_drain
from otel_fargate.config.policy.listeners import endpoint_host_port, listening_ports
from otel_fargate.config.policy.rule_keys import check_keys
from otel_fargate.errors import ConfigError

_TOP_LEVEL = ("extensions", "receivers", "processors", "exporters", "connectors", "service")
_SERVICE_KEYS = ("extensions", "pipelines", "telemetry")
_PIPELINE_ID = re.compile(r"^(traces|metrics|logs|profiles)(/[A-Za-z0-9_.\-]+)?$")
#: ``${env:NAME}``, and ``${NAME}``, which the collector also reads from the environment.
_ENV_REF = re.compile(r"\$\{(?:env:([^}:]*)|([A-Za-z_][A-Za-z0-9_]*))(:-[^}]*)?\}")


def _section(config: Mapping[str, Any], key: str, layer: str) -> dict[str, Any]:
    value = config.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{layer}: {key}: must be a mapping, got {value!r}")
    return dict(value)


def _id_list(value: object, *, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: must be a list of component ids, got {value!r}")
    return list(value)


def iter_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a nested structure, with its dotted path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from iter_strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from iter_strings(item, f"{path}[{index}]")


def env_references(
    config: Mapping[str, Any], *, layer: str, without_default: bool = False
) -> tuple[str, ...]:
    """The environment variables the configuration reads, sorted; invalid names raise.

    With ``without_default``, only those read without a ``:-default`` fallback: the ones
    something must provide.
    """
    names: set[str] = set()
    for path, text in iter_strings(config):
        for match in _ENV_REF.finditer(text):
            if without_default and match[3] is not None:
                continue
            name = match[1] if match[1] is not None else match[2]
            if not ENV_NAME_PATTERN.fullmatch(name):
                raise ConfigError(
                    f"{layer}: {path}: ${{env:{name}}} is not a valid environment variable "
                    f"name (must match {ENV_NAME_PATTERN.pattern})"
                )
            names.add(name)
    return tuple(sorted(names))


def validate_config(
    config: Mapping[str, Any],
    *,
    layer: str,
    health_check_endpoint: str,
    stop_timeout_seconds: int,
    components: ComponentSet | None = None,
    image_description: str = "the image",
) -> None:
    """Raise ConfigError, prefixed with ``layer``, for the first problem in ``config``.

    Checks: every component's type is one of ``components``, the image's (when known, named
    ``image_description`` in the message); every pipeline has receivers and exporters, and
    every component it names is defined; service extensions and authenticators are defined;
    a health_check extension is enabled on ``health_check_endpoint`` with path ``/``; no two
    components listen on one port; ``${env:NAME}`` references have valid names; exporter
    retries plus timeout fit inside ``stop_timeout_seconds``.
    """
    sections = _sections(config, layer=layer)
    if components is not None:
        check_components(sections, components, layer=layer, image=image_description)
    service = sections["service"]
    for key in service:
        if key not in _SERVICE_KEYS:
            raise ConfigError(
                f"{layer}: service.{key}: unknown setting (expected one of "
                f"{', '.join(_SERVICE_KEYS)})"
            )
    pipelines = service.get("pipelines")
    if not isinstance(pipelines, Mapping) or not pipelines:
        raise ConfigError(f"{layer}: service.pipelines: at least one pipeline is required")
    for pid, pipeline in pipelines.items():
        _check_pipeline(pid, pipeline, sections, layer=layer)
    extensions = sections["extensions"]
    enabled = _id_list(service.get("extensions"), where=f"{layer}: service.extensions")
    for eid in enabled:
        if eid not in extensions:
            raise ConfigError(
                f"{layer}: service.extensions: {eid!r} is not defined under extensions"
            )
    _check_health_check(extensions, enabled, layer=layer, expected=health_check_endpoint)
    _check_authenticators(config, enabled, layer=layer)
    _check_ports(config, layer=layer)
    check_fargate_receivers(sections["receivers"], layer=layer)
    check_keys(sections, layer=layer)
    env_references(config, layer=layer)
    _check_drain(sections["exporters"], pipelines, layer=layer, stop=stop_timeout_seconds)


def _sections(config: object, *, layer: str) -> dict[str, dict[str, Any]]:
    """Every top-level section of ``config`` (empty when absent); unknown sections raise."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"{layer}: must be a mapping, got {config!r}")
    for key in config:
        if key not in _TOP_LEVEL:
            raise ConfigError(
                f"{layer}: {key}: unknown top-level section (expected one of "
                f"{', '.join(_TOP_LEVEL)})"
            )
    return {key: _section(config, key, layer) for key in _TOP_LEVEL}


def _check_pipeline(
    pid: object, pipeline: object, sections: Mapping[str, dict[str, Any]], *, layer: str
) -> None:
    where = f"{layer}: service.pipelines.{pid}"
    if not isinstance(pid, str) or not _PIPELINE_ID.fullmatch(pid):
        raise ConfigError(
            f"{layer}: service.pipelines: {pid!r} is not a pipeline id "
            f"(traces, metrics or logs, optionally /name)"
        )
    if not isinstance(pipeline, Mapping):
        raise ConfigError(f"{where}: must be a mapping, got {pipeline!r}")
    unknown = set(pipeline) - {"receivers", "processors", "exporters"}
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {sorted(unknown)}")
    connectors = sections["connectors"]
    for kind, defined in (
        ("receivers", {**sections["receivers"], **connectors}),
        ("processors", sections["processors"]),
        ("exporters", {**sections["exporters"], **connectors}),
    ):
        used = _id_list(pipeline.get(kind), where=f"{where}.{kind}")
        if not used and kind != "processors":
            raise ConfigError(f"{where}.{kind}: a pipeline needs at least one {kind[:-1]}")
        for cid in used:
            if cid not in defined:
                raise ConfigError(
                    f"{where}.{kind}: {cid!r} is not defined under {kind}"
                    + (" or connectors" if kind != "processors" else "")
                )
        if len(set(used)) != len(used):
            raise ConfigError(f"{where}.{kind}: lists a component twice: {used}")
        if kind == "processors":
            _check_processor_signals(pid, used, where=where)


def _check_processor_signals(pid: str, processors: list[str], *, where: str) -> None:
    signal = pid.split("/", 1)[0]
    for cid in processors:
        served = processor_signals(component_type(cid))
        if signal in ("traces", "metrics", "logs") and signal not in served:
            raise ConfigError(
                f"{where}.processors: {cid!r} serves {', '.join(served)} only; the collector "
                f"would refuse to start with it in a {signal} pipeline"
            )


def _check_health_check(
    extensions: Mapping[str, Any], enabled: list[str], *, layer: str, expected: str
) -> None:
    checks = [eid for eid in enabled if component_type(eid) == "health_check"]
    if not checks:
        raise ConfigError(
            f"{layer}: extensions.health_check: must be defined and listed in "
            f"service.extensions (the container health check probes "
            f"{expected}), got {sorted(eid for eid in extensions)}"
        )
    for eid in checks:
        settings = extensions.get(eid)
        settings = settings if isinstance(settings, Mapping) else {}
        endpoint = settings.get("endpoint")
        given = endpoint_host_port(endpoint)
        # the probe runs in the container: localhost is its IPv4 loopback there
        if given is not None and given.startswith("localhost:"):
            given = "127.0.0.1:" + given.removeprefix("localhost:")
        if given != expected:
            raise ConfigError(
                f"{layer}: extensions.{eid}.endpoint: must be {expected!r}, where the "
                f"container health check probes (change health_check_endpoint instead), "
                f"got {endpoint!r}"
            )
        path = settings.get("path", "/")
        if path != "/":
            raise ConfigError(
                f"{layer}: extensions.{eid}.path: must be '/', where the container health "
                f"check probes, got {path!r}"
            )


def _authenticators(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            child = f"{path}.{key}"
            if key == "auth" and isinstance(item, Mapping) and "authenticator" in item:
                yield f"{child}.authenticator", item["authenticator"]
            else:
                yield from _authenticators(item, child)


def _check_authenticators(config: Mapping[str, Any], enabled: list[str], *, layer: str) -> None:
    for section in ("receivers", "exporters"):
        for path, authenticator in _authenticators(config.get(section), section):
            if authenticator not in enabled:
                raise ConfigError(
                    f"{layer}: {path}: {authenticator!r} must be defined under extensions "
                    f"and listed in service.extensions"
                )


#: Receivers whose ``endpoint`` is a UDP socket unless ``transport`` says otherwise.
_UDP_BY_DEFAULT = frozenset({"awsxray", "statsd"})


def _udp_paths(config: Mapping[str, Any]) -> set[str]:
    """The setting paths of the receiver endpoints that listen on UDP, not TCP."""
    found: set[str] = set()
    for rid, settings in mappings(config.get("receivers")):
        default = "udp" if component_type(rid) in _UDP_BY_DEFAULT else "tcp"
        if str(settings.get("transport") or default).startswith("udp"):
            found.add(f"receivers.{rid}.endpoint")
    return found


def _check_ports(config: Mapping[str, Any], *, layer: str) -> None:
    """No two listeners share a port of one transport (UDP and TCP ports are distinct)."""
    udp = _udp_paths(config)
    owners: dict[tuple[str, int], str] = {}
    for _name, path, port in listening_ports(config):
        key = ("udp" if path in udp else "tcp", port)
        if key in owners:
            raise ConfigError(f"{layer}: {path}: port {port} is already used by {owners[key]}")
        owners[key] = path


def _check_drain(
    exporters: Mapping[str, Any], pipelines: Mapping[str, Any], *, layer: str, stop: int
) -> None:
    used = {
        cid
        for pipeline in pipelines.values()
        if isinstance(pipeline, Mapping)
        for cid in (pipeline.get("exporters") or [])
    }
    for eid in sorted(used):
        settings = exporters.get(eid)
        settings = {} if settings is None else settings
        if not isinstance(settings, Mapping):
            raise ConfigError(f"{layer}: exporters.{eid}: must be a mapping, got {settings!r}")
        check_drain(
            component_type(eid),
            settings,
            where=f"{layer}: exporters.{eid}",
            stop_timeout_seconds=stop,
        )


def otlp_signals(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The signals the collector accepts over OTLP from its clients: those with a pipeline
    fed by an ``otlp`` receiver (the internal ``otlp/self`` receiver aside), in signal order.
    """
    service = config.get("service")
    pipelines = service.get("pipelines") if isinstance(service, Mapping) else None
    found: set[str] = set()
    for pid, pipeline in mappings(pipelines):
        receivers = pipeline.get("receivers") or []
        if any(component_type(str(r)) == "otlp" and r != "otlp/self" for r in receivers):
            found.add(pid.split("/", 1)[0])
    return tuple(signal for signal in ("traces", "metrics", "logs") if signal in found)
