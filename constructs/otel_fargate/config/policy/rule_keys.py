"""Rule: every key of every component is one its ``Config`` accepts at the pinned release.

The collector refuses to start on a key its ``Config`` struct does not declare (``'transforms[0]'
has invalid keys: metric_name``), which on ECS is a task that never becomes healthy. The field
model holds each component's keys (``component_fields.json``, from upstream's schemas), and
``upstream_keys.json`` those of the components no collector here can build; an unknown key
anywhere is refused with the closest known key. A component neither describes (one of the
bundled contrib image's others) is not checked: the collector checks it at start.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from otel_fargate.config.core.values import component_type
from otel_fargate.config.model.aliases import RENAMED
from otel_fargate.config.model.components import KINDS
from otel_fargate.config.model.fields import fields_of, model_release
from otel_fargate.config.model.known_keys import LIST_OF, MAP_OF, KeyTree, key_tree
from otel_fargate.errors import ConfigError

#: Keys upstream renamed, which older samples still carry: (section, type, key) → new key.
RENAMED_KEYS = {("processors", "metrics_transform", "metric_name"): "include"}


def tree_of(section: str, ctype: str) -> KeyTree | None:
    """The accepted keys of a component type (a deprecated id counts as its new type)."""
    current = RENAMED.get(section, {}).get(ctype, ctype)
    model = fields_of(section, current)
    if model is not None and model.keys is not None:
        return model.keys
    return key_tree(section, current)


def _unknown(value: object, tree: KeyTree, path: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(path, the keys accepted there) of every key of ``value`` that ``tree`` lacks."""
    if LIST_OF in tree:
        item = tree[LIST_OF]
        for index, child in enumerate(value if isinstance(value, list) else []):
            if item is not None:
                yield from _unknown(child, item, f"{path}[{index}]")
        return
    if MAP_OF in tree:
        item = tree[MAP_OF]
        for name, child in value.items() if isinstance(value, Mapping) else ():
            if item is not None:
                yield from _unknown(child, item, f"{path}.{name}")
        return
    for raw_key, child in value.items() if isinstance(value, Mapping) else ():
        key = str(raw_key)
        if key not in tree:
            yield f"{path}.{key}", tuple(sorted(tree))
            continue
        subtree = tree[key]
        if subtree is not None:
            yield from _unknown(child, subtree, f"{path}.{key}")


def check_keys(config: Mapping[str, Any], *, layer: str) -> None:
    """Raise ConfigError for the first key of a component its ``Config`` does not accept."""
    for section in KINDS:
        entries = config.get(section)
        for cid, settings in entries.items() if isinstance(entries, Mapping) else ():
            ctype = component_type(str(cid))
            tree = tree_of(section, ctype)
            if tree is None or not isinstance(settings, Mapping):
                continue
            for path, known in _unknown(settings, tree, f"{section}.{cid}"):
                key = path.rsplit(".", 1)[-1]
                current = RENAMED.get(section, {}).get(ctype, ctype)
                renamed = RENAMED_KEYS.get((section, current, key))
                close = [renamed] if renamed is not None else []
                close = close or difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ConfigError(
                    f"{layer}: {path}: unknown setting of {ctype} {model_release()} (the "
                    f"collector would refuse to start); {hint}known: {', '.join(known)}"
                )
