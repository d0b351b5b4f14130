"""One walk over a final collector configuration: every setting the rules look at, from the model.

For each component of every section, the field model (``config/model/fields.py``) says which of
its settings listen, hold credentials, are header maps, TLS blocks or authenticator hooks; the
walker finds them in the configuration and hands them to the rules as :class:`Site` values. A
component the model does not describe (one of the bundled contrib image's many others) is still
walked: each ``endpoint`` in it is a *possible* listener (the listener rule refuses it only when
it names every interface, which no dial target does), each ``headers`` map a header map and each
``tls`` mapping a TLS block. The collector's own Prometheus reader
(``service.telemetry.metrics.readers``) is a listener too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from otel_fargate.config.core.values import component_type
from otel_fargate.config.model.components import KINDS
from otel_fargate.config.model.fields import ComponentFields, Listener, expand, fields_of
from otel_fargate.config.policy.listeners import prometheus_readers

#: What an ``endpoint`` of a component outside the model is taken for when it names every
#: interface: a listener whose authenticator hook, if any, is its sibling ``auth``.
_GUESSED = Listener(path="endpoint", auth="auth", tls="tls", data=True, default=None)

SiteKind = Literal["listener", "maybe_listener", "opaque", "headers", "tls", "client_auth"]
_GUESSED_KINDS: dict[str, SiteKind] = {
    "endpoint": "maybe_listener",
    "headers": "headers",
    "tls": "tls",
}


@dataclass(frozen=True, kw_only=True)
class Site:
    """One setting of a configuration a rule looks at.

    Attributes:
        kind: what the model says it is.
        section: the configuration section (``receivers``), or ``service``.
        cid: the component id (``otlp/app``), or ``telemetry`` for the collector's own.
        ctype: the component type (``otlp``).
        path: the full setting path (``receivers.otlp/app.protocols.grpc.endpoint``).
        value: the setting's value (None when absent and the default applies).
        listener: for listeners, the model's entry.
        block: for listeners, the mapping that holds the endpoint (its ``auth`` and ``tls``).
        server: for TLS blocks, whether it is a server's.
    """

    kind: SiteKind
    section: str
    cid: str
    ctype: str
    path: str
    value: object
    listener: Listener | None = None
    block: Mapping[str, Any] | None = None
    server: bool = False


def _components(config: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for section in KINDS:
        entries = config.get(section)
        for cid, settings in entries.items() if isinstance(entries, Mapping) else ():
            yield section, str(cid), settings if isinstance(settings, Mapping) else {}


def _listeners(
    where: tuple[str, str, str], settings: Mapping[str, Any], model: ComponentFields
) -> Iterator[Site]:
    section, cid, ctype = where
    for listener in model.listeners:
        parent, _, leaf = listener.path.rpartition(".")
        blocks = expand(settings, parent) if parent else iter([("", settings)])
        for block_path, block in blocks:
            block = block if isinstance(block, Mapping) else {}
            value = block.get(leaf, listener.default)
            path = f"{block_path}.{leaf}" if block_path else leaf
            yield Site(
                kind="listener",
                section=section,
                cid=cid,
                ctype=ctype,
                path=f"{section}.{cid}.{path}",
                value=value,
                listener=listener,
                block=block,
            )


def _modelled(
    where: tuple[str, str, str], settings: Mapping[str, Any], model: ComponentFields
) -> Iterator[Site]:
    section, cid, ctype = where
    yield from _listeners(where, settings, model)
    groups: tuple[tuple[SiteKind, tuple[str, ...], bool], ...] = (
        ("opaque", model.opaque, False),
        ("headers", model.headers, False),
        ("tls", model.tls_client, False),
        ("tls", model.tls_server, True),
        ("tls", tuple(item.tls for item in model.listeners if item.tls), True),
        ("client_auth", model.client_auth, False),
    )
    for kind, patterns, server in groups:
        for pattern in dict.fromkeys(patterns):
            for path, value in expand(settings, pattern):
                yield Site(
                    kind=kind,
                    section=section,
                    cid=cid,
                    ctype=ctype,
                    path=f"{section}.{cid}.{path}",
                    value=value,
                    server=server,
                )


def _guessed(where: tuple[str, str, str], value: object, path: str) -> Iterator[Site]:
    """Sites of a component the model does not describe, found by their keys."""
    section, cid, ctype = where
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _guessed(where, item, f"{path}[{index}]")
        return
    if not isinstance(value, Mapping):
        return
    for key, item in value.items():
        child = f"{path}.{key}"
        kind = _GUESSED_KINDS.get(str(key))
        if kind is not None and (kind != "maybe_listener" or isinstance(item, str)):
            server = section == "receivers" and kind == "tls"
            yield Site(
                kind=kind,
                section=section,
                cid=cid,
                ctype=ctype,
                path=child,
                value=item,
                server=server,
                block=value,
                listener=_GUESSED if kind == "maybe_listener" else None,
            )
        yield from _guessed(where, item, child)


def walk(config: Mapping[str, Any]) -> Iterator[Site]:
    """Every site of ``config`` the rules look at, in configuration order."""
    for section, cid, settings in _components(config):
        ctype = component_type(cid)
        model = fields_of(section, ctype)
        where = (section, cid, ctype)
        if model is not None:
            yield from _modelled(where, settings, model)
        else:
            yield from _guessed(where, settings, f"{section}.{cid}")
    for path, prometheus in prometheus_readers(config):
        host = prometheus.get("host")
        port = prometheus.get("port")
        yield Site(
            kind="listener",
            section="service",
            cid="telemetry",
            ctype="prometheus",
            path=f"{path}.exporter.prometheus.host",
            value=None if host is None else f"{host}:{port}",
            listener=Listener(path="host", auth=None, tls=None, data=False, default=None),
            block=prometheus,
        )
