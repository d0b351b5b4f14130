"""Where a configuration listens: the ports its receivers, extensions and metric readers bind."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from otel_fargate.config.core.values import component_type, mappings

_ENDPOINT = re.compile(r"^(?:[a-z]+://)?(?P<host>\[[^\]]*\]|[^:/]*):(?P<port>\d{1,5})(?:/.*)?$")


def endpoint_port(value: object) -> int | None:
    """The port of ``host:port`` or a URL, or None when it cannot be read (e.g. ``${env:X}``)."""
    if not isinstance(value, str) or "${" in value:
        return None
    match = _ENDPOINT.fullmatch(value)
    if match is None:
        return None
    return int(match["port"])


def endpoint_host_port(value: object) -> str | None:
    """``host:port`` of an endpoint setting, or None when it is not one."""
    if not isinstance(value, str):
        return None
    match = _ENDPOINT.fullmatch(value)
    return None if match is None else f"{match['host']}:{match['port']}"


def listening_ports(config: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """Every (name, setting path, port) a component of ``config`` listens on.

    Names: ``otlp-grpc`` / ``otlp-http`` for the ``otlp`` receiver's protocols
    (``otlp-self-grpc`` for ``otlp/self``), ``health`` for health_check, ``metrics`` for the
    Prometheus pull reader, the component id with ``/`` turned into ``-`` otherwise.
    """
    return [*_receiver_ports(config), *_extension_ports(config), *_reader_ports(config)]


def _receiver_ports(config: Mapping[str, Any]) -> Iterator[tuple[str, str, int]]:
    for rid, settings in mappings(config.get("receivers")):
        label = rid.replace("/", "-")
        port = endpoint_port(settings.get("endpoint"))
        if port is not None:
            yield label, f"receivers.{rid}.endpoint", port
        proxy = settings.get("proxy_server")
        port = endpoint_port(proxy.get("endpoint")) if isinstance(proxy, Mapping) else None
        if port is not None:
            yield f"{label}-proxy", f"receivers.{rid}.proxy_server.endpoint", port
        for proto, proto_settings in mappings(settings.get("protocols")):
            port = endpoint_port(proto_settings.get("endpoint"))
            if port is not None:
                yield f"{label}-{proto}", f"receivers.{rid}.protocols.{proto}.endpoint", port


def _extension_ports(config: Mapping[str, Any]) -> Iterator[tuple[str, str, int]]:
    for eid, settings in mappings(config.get("extensions")):
        port = endpoint_port(settings.get("endpoint"))
        if port is not None:
            label = "health" if component_type(eid) == "health_check" else eid
            yield label.replace("/", "-"), f"extensions.{eid}.endpoint", port


def prometheus_readers(config: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every Prometheus pull reader of the collector's own metrics: (setting path, settings)."""
    service = config.get("service")
    telemetry = service.get("telemetry") if isinstance(service, Mapping) else None
    metrics = telemetry.get("metrics") if isinstance(telemetry, Mapping) else None
    readers = metrics.get("readers") if isinstance(metrics, Mapping) else None
    for index, reader in enumerate(readers if isinstance(readers, list) else []):
        try:
            prometheus = reader["pull"]["exporter"]["prometheus"]
        except (KeyError, TypeError):
            continue
        if isinstance(prometheus, Mapping):
            yield f"service.telemetry.metrics.readers[{index}].pull", prometheus


def _reader_ports(config: Mapping[str, Any]) -> Iterator[tuple[str, str, int]]:
    for path, prometheus in prometheus_readers(config):
        try:
            yield "metrics", path, int(prometheus["port"])
        except (KeyError, TypeError, ValueError):
            continue
