"""What the tests' ECS collector proves carries over to the image's release.

Container metrics are proven end to end on a second collector (docker/test-ecs-manifest.yaml) at
another release than the image's (docker/builder-config.yaml). These tests hold that proof to
the image: every component those tests exercise has the same upstream Config keys at both
releases (config/model/release_keys.json, from ``python -m tools.release_keys write``), and
every key the rendered container pipeline uses is one of them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from otel_fargate.config import (
    CollectorConfigOptions,
    ContainerMetrics,
    EcsScrapeReceiver,
    OtlpExporter,
    render,
)
from otel_fargate.config.model.container_metrics import ALL_CONTAINER_METRICS
from otel_fargate.versions import COLLECTOR_VERSION

from tests.conftest import REPO_ROOT

DATA = REPO_ROOT / "constructs/otel_fargate/config/model/release_keys.json"
KEYS: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))


def _manifest_version(path: Path, module: str) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if f"{module} " in line and "gomod:" in line:
            return line.split()[-1]
    raise AssertionError(f"{path.name}: no {module}")


def _key_names(value: Any) -> set[str]:
    """Every mapping key anywhere in ``value``."""
    if isinstance(value, dict):
        return set(value) | {k for item in value.values() for k in _key_names(item)}
    if isinstance(value, list):
        return {k for item in value for k in _key_names(item)}
    return set()


def _keys(component: str, side: str) -> dict[str, list[str]]:
    return {version: entry["keys"] for version, entry in KEYS["components"][component][side].items()}


@pytest.mark.parametrize("component", sorted(KEYS["components"]))
def test_each_component_has_the_same_config_keys_at_both_releases(component: str) -> None:
    # GIVEN the keys recorded at the image's release (or the releases around it) and the tests'
    image, tests = _keys(component, "image"), _keys(component, "tests")
    # THEN every recording holds the same non-empty set of keys
    recorded = [*image.values(), *tests.values()]
    assert recorded[0], f"{component}: no keys recorded"
    assert all(keys == recorded[0] for keys in recorded), (component, image, tests)


def test_the_recorded_releases_are_the_ones_the_manifests_build() -> None:
    # GIVEN both manifests
    image_manifest = REPO_ROOT / "docker/builder-config.yaml"
    tests_manifest = REPO_ROOT / "docker/test-ecs-manifest.yaml"
    assert KEYS["image_release"] == f"v{COLLECTOR_VERSION}"
    # THEN each component's test-side version is the one the tests' collector is built with
    for component, entry in KEYS["components"].items():
        source = next(iter(entry["tests"].values()))["source"][0]
        if "/internal/" in source:
            continue  # a shared internal module, at the release of the component using it
        if "required_by" in entry:
            # a dependency of a component's module (Prometheus's own configuration), at the
            # release that component's go.mod requires: the component itself is checked here
            assert entry["required_by"] in KEYS["components"], component
            continue
        module = source.split("@")[0].rsplit("/", 1)[0]
        assert _manifest_version(tests_manifest, module) in entry["tests"], component
        # AND the image side stands for the image's release (a bracket when it is not served)
        versions = sorted(entry["image"])
        pin = f"v{COLLECTOR_VERSION}"
        assert pin in versions or versions[0] < pin < versions[-1], component
        assert _manifest_version(image_manifest, module) == pin, component


def test_every_key_the_container_pipeline_uses_is_an_upstream_key_at_both_releases() -> None:
    # GIVEN the sidecar's container metrics rendered with a selection and with everything
    for chosen in (ContainerMetrics(), ContainerMetrics(metrics=tuple(ALL_CONTAINER_METRICS))):
        config = render(
            CollectorConfigOptions(
                preset="sidecar",
                exporters=(OtlpExporter(endpoint="backend:4317"),),
                container_metrics=chosen,
            )
        ).config
        used = {
            "receivers/awsecscontainermetrics": _key_names(config["receivers"]["awsecscontainermetrics"]),
            "processors/resource": set(config["processors"]["resource/container_metrics"]),
        }
        attributes = config["processors"]["resource/container_metrics"]["attributes"]
        used["processors/resource:attributes"] = _key_names(attributes)
        selection = config["processors"].get("filter/container_metrics")
        if selection is not None:
            used["processors/filter"] = set(selection) | set(selection["metrics"])
            used["processors/filter:metrics"] = _key_names(selection["metrics"]["include"])
        # THEN each is among the component's keys on both sides
        for component, names in used.items():
            for side in ("image", "tests"):
                for version, keys in _keys(component, side).items():
                    assert names <= set(keys), (component, side, version, names - set(keys))


def test_every_key_the_scraper_uses_is_an_upstream_key_at_both_releases() -> None:
    # GIVEN the scraper's receiver and observer, rendered
    receiver = EcsScrapeReceiver(cluster_name="shop")
    rendered = receiver.render()
    (observer,) = receiver.extensions().values()
    (job,) = rendered["config"]["scrape_configs"]
    used = {
        "receivers/prometheus": set(rendered),
        "extensions/ecs_observer": _key_names(observer),
        # file_sd_configs is the file discovery's own key (its name plus _sd_configs)
        "receivers/prometheus:scrape_config": set(job) - {"file_sd_configs"},
        "receivers/prometheus:file_sd_config": _key_names(job["file_sd_configs"]),
        "receivers/prometheus:relabel_config": _key_names(job["relabel_configs"]),
    }
    assert set(rendered["config"]) == {"scrape_configs"}
    # THEN each is among the component's keys on both sides
    for component, names in used.items():
        for side in ("image", "tests"):
            for version, keys in _keys(component, side).items():
                assert names <= set(keys), (component, side, version, names - set(keys))
