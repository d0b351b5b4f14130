"""Configuration keys the pinned collector release accepts, for components no test collector runs.

The collector refuses to start when a component's section holds a key its ``Config`` struct does
not declare, so a misspelled or outdated key means a crash loop on ECS. Some components this
library renders (the ``awsxray`` exporter and receiver, ``awsemf``, ``awscloudwatchlogs``,
``sigv4auth``, ``awsproxy``) cannot be built into a test collector here, so their accepted keys
are recorded in ``upstream_keys.json``: the ``mapstructure`` names of each component's
``Config`` struct at the pinned release, with ``,squash`` embedded structs flattened into their
parent. One type can name two components (``awsxray`` is an exporter and a receiver), so the
file has a section per kind (``exporters``, ``receivers``, ``extensions``), as a collector
configuration does, and every lookup names the section and the type.

The JSON maps each key to ``null`` (a scalar, or a value whose keys the user chooses, such as a
string map or a string list), to a nested object (a struct), to ``{"[]": {...}}`` (a list of
structs) or to ``{"{}": {...}}`` (a map from user-chosen names to structs). Each component also
lists the upstream files (``repository/path@release-or-commit``) the keys were read from.

Pure Python, so configuration checks can run without AWS CDK.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

#: The marker key of a list of structs: ``{"[]": <item tree>}``.
LIST_OF = "[]"

#: The marker key of a map from user-chosen names to structs: ``{"{}": <value tree>}``.
MAP_OF = "{}"

#: A struct's accepted keys; ``None`` marks a value that is not checked further.
KeyTree: TypeAlias = Mapping[str, "KeyTree | None"]

_DATA_FILE = Path(__file__).with_name("upstream_keys.json")

#: The sections of the data file, named as in a collector configuration.
SECTIONS: tuple[str, ...] = ("exporters", "receivers", "extensions")


@dataclass(frozen=True)
class _Component:
    """One component's accepted keys and where they were read."""

    source: tuple[str, ...]
    keys: KeyTree


def _parse_tree(raw: object, where: str) -> KeyTree:
    """Check that ``raw`` is a key tree and return it.

    Args:
        raw: the decoded JSON value.
        where: its location in the data file, for error messages.

    Returns:
        The tree, with every nested object checked.

    Raises:
        ValueError: when a value is neither null nor an object, or a marker has siblings.
    """
    if not isinstance(raw, dict):
        raise ValueError(f"{_DATA_FILE.name}: {where} must be an object, got {raw!r}")
    if (LIST_OF in raw or MAP_OF in raw) and len(raw) != 1:
        raise ValueError(f"{_DATA_FILE.name}: {where} mixes a list/map marker with other keys")
    tree: dict[str, KeyTree | None] = {}
    for key, value in raw.items():
        tree[key] = None if value is None else _parse_tree(value, f"{where}.{key}")
    return tree


def _parse_component(where: str, raw: object) -> _Component:
    """Check one component entry of the data file.

    Args:
        where: ``section.type``, for error messages.
        raw: its decoded JSON value.

    Returns:
        The component's sources and key tree.

    Raises:
        ValueError: when the entry is malformed.
    """
    if not isinstance(raw, dict):
        raise ValueError(f"{_DATA_FILE.name}: {where} must be an object")
    source = raw.get("source")
    if not isinstance(source, list) or not all(isinstance(item, str) for item in source):
        raise ValueError(f"{_DATA_FILE.name}: {where}.source must list strings")
    unknown = sorted(set(raw) - {"source", "keys"})
    if unknown:
        raise ValueError(f"{_DATA_FILE.name}: {where} has unknown fields {unknown}")
    keys = _parse_tree(raw.get("keys"), f"{where}.keys")
    return _Component(source=tuple(source), keys=keys)


def _load(path: Path) -> tuple[str, dict[tuple[str, str], _Component]]:
    """Read the data file.

    Args:
        path: the JSON file.

    Returns:
        The upstream release and every component by (section, type).

    Raises:
        ValueError: when the file is malformed.
    """
    raw = json.loads(path.read_text(encoding="utf-8"))
    release = raw.get("release")
    if not isinstance(release, str) or set(raw) - {"release", *SECTIONS}:
        raise ValueError(
            f"{path.name}: needs a string 'release' and objects of {', '.join(SECTIONS)} only"
        )
    components: dict[tuple[str, str], _Component] = {}
    for section in SECTIONS:
        entries = raw.get(section, {})
        if not isinstance(entries, dict):
            raise ValueError(f"{path.name}: {section} must be an object")
        for name, value in entries.items():
            components[(section, name)] = _parse_component(f"{section}.{name}", value)
    return release, components


UPSTREAM_RELEASE, _COMPONENTS = _load(_DATA_FILE)

#: The components whose accepted keys are known, as (section, type):
#: ``("receivers", "awsxray")``.
KNOWN_COMPONENTS: frozenset[tuple[str, str]] = frozenset(_COMPONENTS)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _walk(value: object, tree: KeyTree, path: str) -> Iterator[str]:
    """Yield the paths of the keys of ``value`` (a struct's section) that ``tree`` lacks."""
    if not isinstance(value, Mapping):
        return
    for raw_key, child in value.items():
        key = str(raw_key)
        child_path = _join(path, key)
        if key not in tree:
            yield child_path
            continue
        subtree = tree[key]
        if subtree is not None:
            yield from _descend(child, subtree, child_path)


def _descend(value: object, tree: KeyTree, path: str) -> Iterator[str]:
    """Check ``value`` against a struct, a list of structs or a map of structs."""
    if LIST_OF in tree:
        item_tree = tree[LIST_OF]
        if item_tree is not None and isinstance(value, list):
            for index, item in enumerate(value):
                yield from _walk(item, item_tree, f"{path}[{index}]")
    elif MAP_OF in tree:
        value_tree = tree[MAP_OF]
        if value_tree is not None and isinstance(value, Mapping):
            for name, item in value.items():
                yield from _walk(item, value_tree, _join(path, str(name)))
    else:
        yield from _walk(value, tree, path)


def unknown_keys(section: str, component_type: str, settings: object) -> list[str]:
    """The keys of a component's section that the pinned release does not accept.

    Args:
        section: the configuration section the component is in (``exporters``).
        component_type: the component type, the part of the id before ``/`` (``awsemf``).
        settings: the component's parsed YAML section.

    Returns:
        Dotted paths of the unknown keys in document order, such as ``regoin``,
        ``sending_queue.sizr`` or ``metric_declarations[0].dimensions_x``; empty when every key
        is known, when ``settings`` is empty or not a mapping, or when the component is not in
        :data:`KNOWN_COMPONENTS`.
    """
    component = _COMPONENTS.get((section, component_type))
    if component is None or not settings:
        return []
    return list(_walk(settings, component.keys, ""))


def upstream_source(section: str, component_type: str) -> tuple[str, ...]:
    """Where a component's keys were read.

    Args:
        section: the configuration section (``receivers``).
        component_type: the component type (``awsxray``).

    Returns:
        ``repository/path@release-or-commit`` of every upstream file the keys come from; empty
        when the component is not in :data:`KNOWN_COMPONENTS`.
    """
    component = _COMPONENTS.get((section, component_type))
    return () if component is None else component.source


def key_tree(section: str, component_type: str) -> KeyTree | None:
    """A component's recorded key tree, or None when the data file does not know it."""
    component = _COMPONENTS.get((section, component_type))
    return None if component is None else component.keys


def top_level_keys(section: str, component_type: str) -> tuple[str, ...]:
    """The top-level keys a component accepts, sorted; empty for a component not in the data.

    Args:
        section: the configuration section (``exporters``).
        component_type: the component type (``awsxray``).
    """
    component = _COMPONENTS.get((section, component_type))
    return () if component is None else tuple(sorted(component.keys))
