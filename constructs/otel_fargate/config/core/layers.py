"""Reading and merging the user's configuration layers."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import yaml

from otel_fargate.errors import ConfigError


def load_layer(value: Mapping[str, Any] | str, *, setting: str) -> dict[str, Any]:
    """A layer as a fresh dict: YAML text is parsed, a mapping is deep-copied."""
    if isinstance(value, str):
        try:
            loaded = yaml.safe_load(value)
        except yaml.YAMLError as error:
            raise ConfigError(f"{setting}: is not valid YAML: {error}") from None
        if loaded is None:
            loaded = {}
    else:
        loaded = value
    if not isinstance(loaded, Mapping):
        raise ConfigError(f"{setting}: must be a mapping at the top level, got {loaded!r}")
    plain: dict[str, Any] = _plain(loaded, setting=setting)
    return plain


def _plain(value: Any, *, setting: str) -> Any:
    """Deep copy into dicts and lists, rejecting keys that are not strings."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConfigError(f"{setting}: keys must be strings, got {key!r}")
            out[key] = _plain(item, setting=f"{setting}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, setting=setting) for item in value]
    return copy.deepcopy(value)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into a copy of ``base``.

    Mappings merge key by key; lists and scalars in ``override`` replace the base value; a
    ``None`` (YAML ``null``) in ``override`` removes the key. New keys are appended after the
    base's keys, so the result's order is stable.
    """
    merged: dict[str, Any] = {key: copy.deepcopy(value) for key, value in base.items()}
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(_drop_nulls(value))
    return merged


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _drop_nulls(item) for key, item in value.items() if item is not None}
    return value
