"""Record the upstream Config keys of the ECS-native metrics components at two releases.

Usage::

    python -m tools.release_keys write   # rewrites config/model/release_keys.json

The tests prove container metrics on a second collector (docker/test-ecs-manifest.yaml)
at another release than the image's (docker/builder-config.yaml). For each component those
tests exercise, this reads the ``mapstructure`` tags of its Config structs in the Go module
cache at the image's release and at the tests' release, and writes them side by side;
tests/library/test_ecs_keys_carry_over.py asserts they are the same and that every key the
rendered configurations use is among them. A release the module proxy does not serve is
bracketed by the releases before and after it (both recorded). Fill the module cache first
(``go mod download -json MODULE@VERSION``). Python standard library only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
OUTPUT = REPO_ROOT / "constructs/otel_fargate/config/model/release_keys.json"
CONTRIB = "github.com/open-telemetry/opentelemetry-collector-contrib/"
PROMETHEUS = "github.com/prometheus/prometheus"

#: component → (module, files holding its Config structs, image-side versions, test versions)
COMPONENTS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "receivers/awsecscontainermetrics": (
        CONTRIB + "receiver/awsecscontainermetricsreceiver",
        ("config.go",),
        ("v0.158.0",),
        ("v0.165.0",),
    ),
    "extensions/ecs_observer": (
        CONTRIB + "extension/observer/ecsobserver",
        ("config.go", "docker_label.go", "exporter.go", "service.go", "task_definition.go"),
        # v0.158.0 is not served (404): the releases on either side of it stand for it
        ("v0.155.0", "v0.160.0"),
        ("v0.165.0",),
    ),
    "receivers/prometheus": (
        CONTRIB + "receiver/prometheusreceiver",
        ("config.go",),
        ("v0.158.0",),
        ("v0.165.1",),
    ),
    # the prometheus receiver's ``config`` is Prometheus's own configuration (yaml tags of one
    # struct each, ``file#Struct``), at the release each receiver's go.mod requires
    "receivers/prometheus:scrape_config": (
        PROMETHEUS,
        ("config/config.go#ScrapeConfig",),
        ("v0.313.2",),
        ("v0.315.1",),
    ),
    "receivers/prometheus:relabel_config": (
        PROMETHEUS,
        ("model/relabel/relabel.go#Config",),
        ("v0.313.2",),
        ("v0.315.1",),
    ),
    "receivers/prometheus:file_sd_config": (
        PROMETHEUS,
        ("discovery/file/file.go#SDConfig",),
        ("v0.313.2",),
        ("v0.315.1",),
    ),
    "processors/resource": (
        CONTRIB + "processor/resourceprocessor",
        ("config.go",),
        ("v0.158.0",),
        ("v0.165.1",),
    ),
    "processors/resource:attributes": (
        CONTRIB + "internal/coreinternal",
        ("attraction/attraction.go",),
        ("v0.158.0",),
        ("v0.165.1",),
    ),
    "processors/filter": (
        CONTRIB + "processor/filterprocessor",
        ("config.go",),
        ("v0.158.0",),
        ("v0.161.0",),
    ),
    "processors/filter:metrics": (
        CONTRIB + "internal/filter",
        ("filterconfig/config.go",),
        ("v0.158.0",),
        ("v0.161.0",),
    ),
}

_TAG = re.compile(r'`[^`]*mapstructure:"([^",]+)[^"]*"[^`]*`')
_YAML_TAG = re.compile(r'yaml:"([^",-][^",]*)')
#: Components whose module is a dependency of another component's module, not in a manifest.
REQUIRED_BY = {
    name: "receivers/prometheus" for name in COMPONENTS if name.startswith("receivers/prometheus:")
}


def _module_cache() -> Path:
    configured = os.environ.get("GOMODCACHE")
    if configured:
        return Path(configured)
    found = subprocess.run(
        ["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return Path(found)


def keys_at(cache: Path, module: str, files: Sequence[str], version: str) -> list[str]:
    """The sorted ``mapstructure`` keys declared in ``files`` of ``module@version`` (for a
    ``file#Struct`` entry, the ``yaml`` keys of that one struct)."""
    root = cache / f"{module}@{version}"
    keys: set[str] = set()
    for name in files:
        path, _, struct = name.partition("#")
        text = (root / path).read_text(encoding="utf-8")
        if not struct:
            keys.update(_TAG.findall(text))
            continue
        start = text.index(f"type {struct} struct {{")
        keys.update(_YAML_TAG.findall(text[start : text.index("\n}\n", start)]))
    return sorted(keys)


def record(cache: Path) -> dict[str, object]:
    """The keys of every component of :data:`COMPONENTS`, per side and version."""
    components: dict[str, dict[str, object]] = {}
    for component, (module, files, image, tests) in COMPONENTS.items():
        components[component] = {
            side: {
                version: {
                    "keys": keys_at(cache, module, files, version),
                    "source": [f"{module}/{name}@{version}" for name in files],
                }
                for version in versions
            }
            for side, versions in (("image", image), ("tests", tests))
        }
        if component in REQUIRED_BY:
            components[component]["required_by"] = REQUIRED_BY[component]
    return {
        "image_release": "v0.158.0",
        "tests_release": "v0.165.0",
        "derived": "mapstructure tags of the Config structs in the Go module cache "
        "(python -m tools.release_keys write)",
        "components": components,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = list(argv if argv is not None else sys.argv[1:])
    if args != ["write"]:
        print("usage: python -m tools.release_keys write", file=sys.stderr)
        return 2
    data = record(_module_cache())
    OUTPUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(OUTPUT.relative_to(REPO_ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
