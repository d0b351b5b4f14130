"""Configuration keys the pinned collector release accepts, for components no test collector runs.

The collector refuses to start when a component's section holds a key its ``Config`` struct does
not declare, so a misspelled or outdated key means a crash loop on ECS. Some components this
library renders (``awsxray``, ``awsemf``, ``awscloudwatchlogs``, ``sigv4auth``) cannot be built
into a test collector here, so their accepted keys are recorded in ``upstream_keys.json``: the
``mapstructure`` names of each component's ``Config`` struct at the pinned release, with
``,squash`` embedded structs flattened into their parent.

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
_KINDS = frozenset({"exporter", "extension"})


@dataclass(frozen=True)
class _Component:
    """One component's accepted keys and where they were read."""

    kind: str
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


def _parse_component(name: str, raw: object) -> _Component:
    """Check one component entry of the data file.

    Args:
        name: the component type.
        raw: its decoded JSON value.

    Returns:
        The component's kind, sources and key tree.

    Raises:
        ValueError: when the entry is malformed.
    """
    if not isinstance(raw, dict):
        raise ValueError(f"{_DATA_FILE.name}: components.{name} must be an object")
    kind, source = raw.get("kind"), raw.get("source")
    if kind not in _KINDS:
        raise ValueError(f"{_DATA_FILE.name}: components.{name}.kind must be one of {_KINDS}")
    if not isinstance(source, list) or not all(isinstance(item, str) for item in source):
        raise ValueError(f"{_DATA_FILE.name}: components.{name}.source must list strings")
    keys = _parse_tree(raw.get("keys"), f"components.{name}.keys")
    return _Component(kind=str(kind), source=tuple(source), keys=keys)


def _load(path: Path) -> tuple[str, dict[str, _Component]]:
    """Read the data file.

    Args:
        path: the JSON file.

    Returns:
        The upstream release and every component by type.

    Raises:
        ValueError: when the file is malformed.
    """
    raw = json.loads(path.read_text(encoding="utf-8"))
    release, components = raw.get("release"), raw.get("components")
    if not isinstance(release, str) or not isinstance(components, dict):
        raise ValueError(f"{path.name}: needs a string 'release' and a 'components' object")
    return release, {name: _parse_component(name, value) for name, value in components.items()}


UPSTREAM_RELEASE, _COMPONENTS = _load(_DATA_FILE)

#: Component types whose accepted keys are known.
KNOWN_COMPONENT_TYPES: frozenset[str] = frozenset(_COMPONENTS)


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


def unknown_keys(component_type: str, settings: object) -> list[str]:
    """The keys of a component's section that the pinned release does not accept.

    Args:
        component_type: the component type, the part of the id before ``/`` (``awsemf``).
        settings: the component's parsed YAML section.

    Returns:
        Dotted paths of the unknown keys in document order, such as ``regoin``,
        ``sending_queue.sizr`` or ``metric_declarations[0].dimensions_x``; empty when every key
        is known, when ``settings`` is empty or not a mapping, or when the type is not in
        :data:`KNOWN_COMPONENT_TYPES`.
    """
    component = _COMPONENTS.get(component_type)
    if component is None or not settings:
        return []
    return list(_walk(settings, component.keys, ""))


def upstream_source(component_type: str) -> tuple[str, ...]:
    """Where a component's keys were read.

    Args:
        component_type: the component type (``awsxray``).

    Returns:
        ``repository/path@release-or-commit`` of every upstream file the keys come from; empty
        when the type is not in :data:`KNOWN_COMPONENT_TYPES`.
    """
    component = _COMPONENTS.get(component_type)
    return () if component is None else component.source


def top_level_keys(component_type: str) -> tuple[str, ...]:
    """The top-level keys a component accepts, sorted; empty for a type not in the data.

    Args:
        component_type: the component type (``awsxray``).
    """
    component = _COMPONENTS.get(component_type)
    return () if component is None else tuple(sorted(component.keys))
