"""The field model: which settings of each component listen, hold credentials, or are TLS blocks.

``component_fields.json`` records, for every component of the slim image's manifest and for the
components of the bundled contrib image that open a listener of their own (``remotetap``,
``http_forwarder``, the ``prometheus`` exporter) or hold inline credentials (``basicauth``):

- ``listeners``: the setting paths that bind a socket, with the path of the server's
  authenticator hook and TLS block next to them, and whether the listener takes telemetry
  (``data``); a ``default`` when the component's default endpoint is not loopback;
- ``opaque``: the ``configopaque`` settings (credentials), ``headers``: header maps whose values
  are opaque;
- ``tls_client`` / ``tls_server``: TLS blocks; ``client_auth``: client authenticator hooks;
- ``keys``: the keys the component's ``Config`` accepts (as in ``upstream_keys.json``; ``null``
  where the data does not describe them, then ``upstream_keys.json`` is used when it knows the
  component, and nothing is checked otherwise).

Paths are dotted; ``[]`` stands for every item of a list and ``{}`` for every value of a map.
``tools/component_model.py`` regenerates the file from upstream's ``config.schema.yaml`` files at
the pinned release; the rules in ``otel_fargate.config.policy`` read it, they never copy it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("component_fields.json")


@dataclass(frozen=True, kw_only=True)
class Listener:
    """A setting that binds a socket.

    Attributes:
        path: the endpoint setting (``protocols.grpc.endpoint``).
        auth: the server's authenticator hook beside it, or None when it has none.
        tls: the server's TLS block beside it, or None.
        data: whether it takes telemetry (a receiver's data listener).
        default: the endpoint used when the setting is absent, when that is not loopback.
    """

    path: str
    auth: str | None
    tls: str | None
    data: bool
    default: str | None


@dataclass(frozen=True, kw_only=True)
class ComponentFields:
    """What the model knows about one component type of one section."""

    section: str
    type: str
    derived: str
    source: tuple[str, ...]
    listeners: tuple[Listener, ...]
    opaque: tuple[str, ...]
    headers: tuple[str, ...]
    tls_client: tuple[str, ...]
    tls_server: tuple[str, ...]
    client_auth: tuple[str, ...]
    keys: Mapping[str, Any] | None


def _strings(raw: object, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ValueError(f"{DATA_FILE.name}: {where} must list strings, got {raw!r}")
    return tuple(raw)


def _listener(raw: object, where: str) -> Listener:
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
        raise ValueError(f"{DATA_FILE.name}: {where} must be an object with a path")
    return Listener(
        path=raw["path"],
        auth=raw.get("auth"),
        tls=raw.get("tls"),
        data=bool(raw.get("data")),
        default=raw.get("default"),
    )


def _entry(section: str, ctype: str, raw: Mapping[str, Any]) -> ComponentFields:
    where = f"{section}.{ctype}"
    keys = raw.get("keys")
    if keys is not None and not isinstance(keys, dict):
        raise ValueError(f"{DATA_FILE.name}: {where}.keys must be an object or null")
    return ComponentFields(
        section=section,
        type=ctype,
        derived=str(raw.get("derived")),
        source=_strings(raw.get("source"), f"{where}.source"),
        listeners=tuple(
            _listener(item, f"{where}.listeners") for item in raw.get("listeners") or []
        ),
        opaque=_strings(raw.get("opaque", []), f"{where}.opaque"),
        headers=_strings(raw.get("headers", []), f"{where}.headers"),
        tls_client=_strings(raw.get("tls_client", []), f"{where}.tls_client"),
        tls_server=_strings(raw.get("tls_server", []), f"{where}.tls_server"),
        client_auth=_strings(raw.get("client_auth", []), f"{where}.client_auth"),
        keys=keys,
    )


@lru_cache(maxsize=1)
def _model() -> tuple[str, dict[tuple[str, str], ComponentFields]]:
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    components = raw.get("components")
    if not isinstance(components, dict) or not isinstance(raw.get("release"), str):
        raise ValueError(f"{DATA_FILE.name}: needs a release and components by section")
    found = {
        (section, ctype): _entry(section, ctype, entry)
        for section, entries in components.items()
        for ctype, entry in entries.items()
    }
    return raw["release"], found


def model_release() -> str:
    """The collector release the model describes (``v0.158.0``)."""
    return _model()[0]


def described() -> frozenset[tuple[str, str]]:
    """Every (section, type) the model describes."""
    return frozenset(_model()[1])


def fields_of(section: str, component_type: str) -> ComponentFields | None:
    """The model's entry for a component type of a section, or None when it has none."""
    return _model()[1].get((section, component_type))


def expand(value: object, pattern: str, prefix: str = "") -> Iterator[tuple[str, object]]:
    """The (concrete path, value) of every setting of ``value`` a model path names.

    ``protocols.grpc.endpoint`` names one setting, ``tokens.[]`` each item of the ``tokens``
    list, ``receivers.{}.config`` the ``config`` of every value of a map. Settings that are
    absent yield nothing.
    """
    head, _, rest = pattern.partition(".")
    children: Iterator[tuple[str, object]]
    if head == "[]":
        items = enumerate(value) if isinstance(value, list) else iter(())
        children = ((f"{prefix}[{index}]", item) for index, item in items)
    elif head == "{}":
        pairs = value.items() if isinstance(value, Mapping) else ()
        children = ((f"{prefix}.{key}" if prefix else str(key), item) for key, item in pairs)
    elif isinstance(value, Mapping) and head in value:
        children = iter([(f"{prefix}.{head}" if prefix else head, value[head])])
    else:
        return
    for path, child in children:
        if rest:
            yield from expand(child, rest, path)
        else:
            yield path, child
