"""The component types a collector image has, and the check that a configuration uses no other.

A collector refuses to start when its configuration names a component type it was not built
with, so on ECS such a configuration crash-loops. Each image knows its components:

* the slim image: the modules of ``docker/builder-config.yaml`` (the manifest shipped in the
  build context), each mapped to its type by :data:`MODULE_TYPES`;
* the bundled image (the contrib distribution plus the probe): the components of the
  ``otelcol-contrib`` release the pin names, recorded in ``contrib_components.json`` with the
  deprecated type ids that release still accepts;
* a registry image: whatever its user declares, or nothing (then nothing is checked).

Pure Python, so configuration checks run without AWS CDK.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import yaml

from otel_fargate.config.core.values import FrozenMap
from otel_fargate.config.model.aliases import RENAMED
from otel_fargate.errors import ConfigError, OtelFargateError

#: The configuration sections that hold components, in the collector's order.
KINDS: Final = ("receivers", "processors", "exporters", "extensions", "connectors")

_CORE: Final = "go.opentelemetry.io/collector/"
_CONTRIB: Final = "github.com/open-telemetry/opentelemetry-collector-contrib/"

#: Module path → (kind, component type) of every module of ``docker/builder-config.yaml``.
MODULE_TYPES: Final[Mapping[str, tuple[str, str]]] = {
    _CORE + "receiver/otlpreceiver": ("receivers", "otlp"),
    _CONTRIB + "receiver/prometheusreceiver": ("receivers", "prometheus"),
    _CONTRIB + "receiver/awsecscontainermetricsreceiver": ("receivers", "awsecscontainermetrics"),
    _CONTRIB + "receiver/receivercreator": ("receivers", "receiver_creator"),
    _CONTRIB + "receiver/statsdreceiver": ("receivers", "statsd"),
    _CONTRIB + "receiver/awsxrayreceiver": ("receivers", "awsxray"),
    _CONTRIB + "receiver/fluentforwardreceiver": ("receivers", "fluent_forward"),
    _CORE + "processor/memorylimiterprocessor": ("processors", "memory_limiter"),
    _CORE + "processor/batchprocessor": ("processors", "batch"),
    _CONTRIB + "processor/resourcedetectionprocessor": ("processors", "resource_detection"),
    _CONTRIB + "processor/resourceprocessor": ("processors", "resource"),
    _CONTRIB + "processor/attributesprocessor": ("processors", "attributes"),
    _CONTRIB + "processor/filterprocessor": ("processors", "filter"),
    _CONTRIB + "processor/tailsamplingprocessor": ("processors", "tail_sampling"),
    _CONTRIB + "processor/metricstransformprocessor": ("processors", "metrics_transform"),
    _CORE + "exporter/otlpexporter": ("exporters", "otlp_grpc"),
    _CORE + "exporter/otlphttpexporter": ("exporters", "otlp_http"),
    _CORE + "exporter/debugexporter": ("exporters", "debug"),
    _CONTRIB + "exporter/awsxrayexporter": ("exporters", "awsxray"),
    _CONTRIB + "exporter/awsemfexporter": ("exporters", "awsemf"),
    _CONTRIB + "exporter/awscloudwatchlogsexporter": ("exporters", "awscloudwatchlogs"),
    _CONTRIB + "exporter/loadbalancingexporter": ("exporters", "load_balancing"),
    _CONTRIB + "exporter/prometheusremotewriteexporter": ("exporters", "prometheus_remote_write"),
    _CONTRIB + "extension/healthcheckextension": ("extensions", "health_check"),
    _CONTRIB + "extension/bearertokenauthextension": ("extensions", "bearertokenauth"),
    _CONTRIB + "extension/oauth2clientauthextension": ("extensions", "oauth2client"),
    _CONTRIB + "extension/sigv4authextension": ("extensions", "sigv4auth"),
    _CONTRIB + "extension/pprofextension": ("extensions", "pprof"),
    _CORE + "extension/zpagesextension": ("extensions", "zpages"),
    _CONTRIB + "extension/storage/filestorage": ("extensions", "file_storage"),
    _CONTRIB + "extension/observer/ecsobserver": ("extensions", "ecs_observer"),
    _CONTRIB + "extension/awsproxy": ("extensions", "awsproxy"),
}

#: The slim manifest and the Dockerfile, relative to the Docker build context.
SLIM_MANIFEST: Final = "docker/builder-config.yaml"
DOCKERFILE: Final = "docker/Dockerfile"

#: The contrib release's components: module → type by kind, and its deprecated type ids.
CONTRIB_DATA_FILE: Final = Path(__file__).with_name("contrib_components.json")

_TYPE = re.compile(r"^[a-z][a-z0-9_]*$")


def build_context_dir() -> Path:
    """Return the Docker build context: the wheel's bundled copy, else the repository root.

    In the wheel the context lives in ``otel_fargate/_context``; in a checkout it is the
    repository root, filtered by the allow-list in its ``.dockerignore`` so that ``.venv``,
    ``cdk.out`` and ``.git`` never reach the asset's fingerprint.

    Raises:
        OtelFargateError: neither holds the Dockerfile.
    """
    package_dir = Path(__file__).resolve().parents[2]
    bundled = package_dir / "_context"
    if (bundled / DOCKERFILE).is_file():
        return bundled
    repo_root = package_dir.parent.parent
    if (repo_root / DOCKERFILE).is_file():
        return repo_root
    raise OtelFargateError(
        f"image: the collector build context was not found in {bundled} nor in {repo_root}; "
        "reinstall otel-fargate or use CollectorImage.from_registry(...)"
    )


def _type_ids(value: object, *, where: str) -> frozenset[str]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise OtelFargateError(f"{where}: must be a list of component types, got {value!r}")
    found: set[str] = set()
    for item in value:
        if not isinstance(item, str) or not _TYPE.fullmatch(item):
            raise OtelFargateError(
                f"{where}: {item!r} is not a component type (lower-case letters, digits and "
                f"underscores, e.g. otlp_grpc)"
            )
        found.add(item)
    return frozenset(found)


def _kind(kind: object, *, setting: str) -> str:
    if not isinstance(kind, str) or kind not in KINDS:
        raise OtelFargateError(
            f"{setting}: {kind!r} is not a component kind (expected one of {', '.join(KINDS)})"
        )
    return kind


def _renames(aliases: Mapping[str, Mapping[str, str]], *, setting: str) -> FrozenMap:
    renames: dict[str, FrozenMap] = {}
    for kind, table in aliases.items():
        where = f"{setting}.{kind}"
        if not isinstance(table, Mapping):
            raise OtelFargateError(f"{where}: must map deprecated types to types, got {table!r}")
        _type_ids(list(table), where=where)
        _type_ids(list(table.values()), where=where)
        renames[_kind(kind, setting=setting)] = FrozenMap(table)
    return FrozenMap(renames)


@dataclass(frozen=True, init=False)
class ComponentSet:
    """The component types one collector image has, by kind.

    Attributes:
        types: kind (``receivers``, ``processors``, ``exporters``, ``extensions`` or
            ``connectors``) → the type ids the image has; a kind left out has none.
        aliases: kind → deprecated type id → current type id, for renamed types the image
            still accepts under their old id. The renames of
            :data:`otel_fargate.config.model.aliases.RENAMED` always count.
    """

    types: Mapping[str, frozenset[str]]
    aliases: Mapping[str, Mapping[str, str]]

    def __init__(
        self,
        types: Mapping[str, Iterable[str]],
        aliases: Mapping[str, Mapping[str, str]] | None = None,
        *,
        setting: str = "components",
    ) -> None:
        if not isinstance(types, Mapping):
            raise OtelFargateError(
                f"{setting}: must be a mapping of component kind to types, got {types!r}"
            )
        checked = {
            _kind(kind, setting=setting): _type_ids(value, where=f"{setting}.{kind}")
            for kind, value in types.items()
        }
        object.__setattr__(self, "types", FrozenMap(checked))
        object.__setattr__(self, "aliases", _renames(aliases or {}, setting=f"{setting}.aliases"))

    def of_kind(self, kind: str) -> frozenset[str]:
        """The type ids of ``kind`` the image has (current ids only)."""
        found: frozenset[str] = self.types.get(kind, frozenset())
        return found

    def has(self, kind: str, component_type: str) -> bool:
        """Whether the image has a ``kind`` component of ``component_type``, or of the type
        that deprecated id was renamed to.
        """
        available = self.of_kind(kind)
        if component_type in available:
            return True
        current = self.aliases.get(kind, {}).get(component_type)
        current = current if current is not None else RENAMED.get(kind, {}).get(component_type)
        return current is not None and current in available

    def describe(self, kind: str) -> str:
        """The type ids of ``kind``, sorted and comma-separated (``none`` when there are none)."""
        return ", ".join(sorted(self.of_kind(kind))) or "none"

    @classmethod
    def declared(cls, value: ComponentSet | Mapping[str, Iterable[str]]) -> ComponentSet:
        """``value`` itself, or the set a mapping of kind → types declares (``image.components``).

        Raises:
            OtelFargateError: a kind is unknown or a type is not a type id.
        """
        if isinstance(value, ComponentSet):
            return value
        return cls(value, setting="image.components")


def _manifest_modules(path: Path) -> list[tuple[str, str]]:
    """The (kind, module path) of every component of the builder manifest at ``path``."""
    document = yaml.safe_load(path.read_text())
    if not isinstance(document, Mapping):
        raise OtelFargateError(f"{path}: not a builder manifest (expected a mapping)")
    found: list[tuple[str, str]] = []
    for kind in KINDS:
        for entry in document.get(kind) or []:
            gomod = entry.get("gomod") if isinstance(entry, Mapping) else None
            if not isinstance(gomod, str) or not gomod.split():
                raise OtelFargateError(f"{path}: {kind}: an entry has no gomod, got {entry!r}")
            found.append((kind, gomod.split()[0]))
    return found


def manifest_components(path: Path) -> ComponentSet:
    """The component types of the builder manifest at ``path``, through :data:`MODULE_TYPES`.

    Raises:
        OtelFargateError: the manifest lists a module :data:`MODULE_TYPES` does not map, or
            maps to another kind.
    """
    types: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for kind, module in _manifest_modules(path):
        mapped = MODULE_TYPES.get(module)
        if mapped is None or mapped[0] != kind:
            known = "has no entry" if mapped is None else f"maps it to {mapped[0]}"
            raise OtelFargateError(
                f"{path}: {kind}: {module}: MODULE_TYPES (otel_fargate/config/model/components.py) "
                f"{known}, so its component type is unknown; add the module with its type"
            )
        types[kind].add(mapped[1])
    return ComponentSet(types)


@lru_cache(maxsize=1)
def slim_components() -> ComponentSet:
    """The component types of the slim image: its manifest in the build context."""
    return manifest_components(build_context_dir() / SLIM_MANIFEST)


def _contrib_document() -> dict[str, Any]:
    document = json.loads(CONTRIB_DATA_FILE.read_text())
    if not isinstance(document, dict) or not isinstance(document.get("components"), dict):
        raise OtelFargateError(f"{CONTRIB_DATA_FILE.name}: must be an object with components")
    return document


def contrib_release() -> str:
    """The contrib release ``contrib_components.json`` records, e.g. ``v0.158.0``."""
    return str(_contrib_document().get("release"))


@lru_cache(maxsize=1)
def contrib_components() -> ComponentSet:
    """The component types of the bundled image: the contrib distribution's release."""
    document = _contrib_document()
    types = {kind: modules.values() for kind, modules in document["components"].items()}
    return ComponentSet(
        types, document.get("deprecated_aliases") or {}, setting=CONTRIB_DATA_FILE.name
    )


def _suggestion(component_type: str, available: Iterable[str]) -> str:
    close = difflib.get_close_matches(component_type, sorted(available), n=1, cutoff=0.8)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_components(
    config: Mapping[str, Any], available: ComponentSet, *, layer: str, image: str
) -> None:
    """Raise ConfigError for the first component of ``config`` whose type ``available`` lacks.

    Args:
        config: one configuration layer.
        available: the component types of the image that runs it.
        layer: the layer's name, prefixed to the message.
        image: how the message names the image (``the slim image (collector 0.158.0)``).

    Raises:
        ConfigError: naming the component, the image and the types of that kind it has.
    """
    for kind in KINDS:
        section = config.get(kind)
        if not isinstance(section, Mapping):
            continue
        for cid in section:
            component_type = str(cid).split("/", 1)[0]
            if available.has(kind, component_type):
                continue
            raise ConfigError(
                f"{layer}: {kind}.{cid}: {image} has no {kind[:-1]} of type "
                f"{component_type!r}{_suggestion(component_type, available.of_kind(kind))}; "
                f"it has: {available.describe(kind)}"
            )
