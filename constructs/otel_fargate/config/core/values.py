"""Small typed values the whole configuration shares: signals, read-only maps, literal
strings and ``host:port`` endpoints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from otel_fargate.checks import check_text, fail
from otel_fargate.errors import ConfigError

_HOST_PORT = re.compile(r"^(?P<host>[A-Za-z0-9.\-]+|\[[0-9a-fA-F:]+\]):(?P<port>\d{1,5})$")

Signal = Literal["traces", "metrics", "logs"]

#: Every signal, in the order pipelines are rendered.
SIGNALS: tuple[Signal, ...] = ("traces", "metrics", "logs")

#: How the CDK writes an unresolved token into a string (CloudFormation resolves it).
_CDK_TOKEN = re.compile(r"\$\{Token\[[^\]]*\]\}")


class FrozenMap(Mapping[str, Any]):
    """A read-only, hashable mapping, so frozen option dataclasses stay hashable."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Any] | None = None) -> None:
        self._items: dict[str, Any] = dict(items) if items is not None else {}

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __repr__(self) -> str:
        return repr(self._items)


def non_empty(value: object, *, setting: str) -> str:
    """``value`` if it is a non-empty literal string, else a ConfigError naming ``setting``.

    The collector expands ``${env:...}`` and ``${file:...}`` in any string of its
    configuration, so a typed field holding ``${`` could read the gateway token or a file of
    the container into a place that leaves it (a namespace, a log group, an endpoint): typed
    fields take literals only; secrets are SecretRefs.
    """
    text = check_text(setting, value, error=ConfigError)
    if "${" in _CDK_TOKEN.sub("", text):
        raise fail(
            setting,
            "must be a literal: the collector expands ${...} in any string, which could carry "
            "a secret or a file of the container elsewhere (give secrets as SecretRef)",
            value,
            error=ConfigError,
        )
    return text


def check_signals(signals: object, *, setting: str) -> None:
    """Raise ConfigError unless ``signals`` is a non-empty tuple of distinct signals."""
    if not isinstance(signals, tuple) or not signals:
        raise fail(setting, "must be a non-empty tuple of signals", signals, error=ConfigError)
    for signal in signals:
        if signal not in SIGNALS:
            raise ConfigError(f"{setting}: unknown signal {signal!r}, expected one of {SIGNALS}")
    if len(set(signals)) != len(signals):
        raise fail(setting, "lists a signal twice", signals, error=ConfigError)


def split_host_port(value: object, *, setting: str) -> tuple[str, int]:
    """Split ``host:port``; raise ConfigError naming ``setting`` when malformed."""
    match = _HOST_PORT.fullmatch(value) if isinstance(value, str) else None
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise ConfigError(f"{setting}: must be host:port with a port 1-65535, got {value!r}")
    return match["host"], int(match["port"])


def component_type(component_id: str) -> str:
    """``otlp/honeycomb`` → ``otlp``."""
    return component_id.split("/", 1)[0]


def mappings(value: object) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The entries of ``value`` whose values are mappings, keyed by ``str(key)``."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, Mapping):
                yield str(key), item
