"""ADOT's ECS sample configurations, adopted by the library, are accepted by the real collector.

Each sample of tests/library/adot/ that the library takes (all but the EC2-only
``otel-instance-metrics-config.yaml``, which it refuses) is rendered as ``config_replacement``
on the bundled image, exactly as tests/library/test_adot_samples.py deploys it, and the result
is validated by the collector the tests build (``<collector> validate``, see test_validate.py).

Only the components that test build leaves out (``LOCAL_EXCLUDE`` of tools/collector.py: the
AWS exporters, receivers and extensions whose modules the Go module proxy does not serve at the
pinned version) are replaced by stand-ins; every other component of a sample (statsd,
metricstransform, prometheusremotewrite, filter, resource, ...) is built from its settings by
the real collector.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from otel_fargate.config import CollectorConfigOptions, render
from otel_fargate.config.components import MODULE_TYPES, contrib_components

from tests.e2e.test_validate import KINDS, STAND_INS, validate_with_stand_ins
from tests.library.test_adot_samples import ADOT, ENVIRONMENT, EXPECTED
from tools.collector import LOCAL_EXCLUDE

pytestmark = pytest.mark.e2e

#: The samples the library refuses (the EC2-only otel-instance-metrics-config.yaml), as
#: tests/library/test_adot_samples.py expects them.
REFUSED = {name for name, expected in EXPECTED.items() if isinstance(expected, str)}
SAMPLES = sorted(path for path in ADOT.glob("*.yaml") if path.name not in REFUSED)

#: (kind, type) of every component left out of the test build.
EXCLUDED: frozenset[tuple[str, str]] = frozenset(MODULE_TYPES[module] for module in LOCAL_EXCLUDE)

#: Kind -> (stand-in type, settings) for an excluded component whose type STAND_INS keeps for
#: another kind: ``awsxray`` is both an exporter and a receiver, and validate_with_stand_ins
#: looks stand-ins up by type alone. Such components are replaced here, before it runs.
OTHER_KIND_STAND_INS: dict[str, tuple[str, dict[str, Any]]] = {
    "receivers": ("otlp", {"protocols": {"grpc": {"endpoint": "127.0.0.1:0"}}}),
}

#: What validate() fills in itself, as ECS does for every task.
_PROVIDED = {"AWS_REGION"}
_ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


def _type(component_id: str) -> str:
    return component_id.split("/", 1)[0]


def _shadowed(kind: str, component_type: str) -> bool:
    """An excluded component STAND_INS cannot replace: it has that type for another kind."""
    stand_in = STAND_INS.get(component_type)
    return (kind, component_type) in EXCLUDED and stand_in is not None and stand_in[0] != kind


def _stand_in_shadowed(document: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """``document`` with every shadowed component replaced by its kind's stand-in, renamed in
    its own section and in the pipelines only (an exporter may share its id)."""
    replaced: list[tuple[str, str]] = []
    pipelines = (document.get("service") or {}).get("pipelines") or {}
    for kind in KINDS:
        section = document.get(kind) or {}
        for component_id in [cid for cid in section if _shadowed(kind, _type(str(cid)))]:
            stand_in_type, settings = OTHER_KIND_STAND_INS[kind]
            new_id = f"{stand_in_type}/standin_{kind}_{component_id.replace('/', '_')}"
            document[kind] = section = {
                (new_id if cid == component_id else cid): (
                    dict(settings) if cid == component_id else value
                )
                for cid, value in section.items()
            }
            for pipeline in pipelines.values():
                ids = pipeline.get(kind)
                if isinstance(ids, list):
                    pipeline[kind] = [new_id if cid == component_id else cid for cid in ids]
            replaced.append((kind, component_id))
    return document, replaced


def _rendered(sample: Path) -> str:
    """The sample as the sidecar of test_adot_samples.py runs it on the bundled image."""
    return render(
        CollectorConfigOptions(
            preset="sidecar",
            replacement=sample.read_text(),
            environment=ENVIRONMENT,
            allow_open_listeners=True,  # ADOT's samples listen on 0.0.0.0
            components=contrib_components(),
            image_description="the bundled image",
        )
    ).yaml


def test_the_refused_samples_exist_and_the_rest_are_validated() -> None:
    # GIVEN every sample of tests/library/adot/
    every = {path.name for path in ADOT.glob("*.yaml")}
    # THEN only the EC2-only one is left out, and at least nine are validated
    assert sorted(every - {path.name for path in SAMPLES}) == ["otel-instance-metrics-config.yaml"]
    assert len(SAMPLES) >= 9, SAMPLES


def test_every_shadowed_excluded_component_has_a_stand_in_of_its_kind() -> None:
    # GIVEN the excluded components STAND_INS keeps a stand-in of another kind for
    shadowed = {kind for kind, component_type in EXCLUDED if _shadowed(kind, component_type)}
    # THEN this module stands in for each of their kinds
    assert shadowed <= set(OTHER_KIND_STAND_INS)


@pytest.mark.parametrize("sample", SAMPLES, ids=[path.stem for path in SAMPLES])
def test_adopted_adot_sample_is_accepted_by_the_collector(
    collector_binary: Path, sample: Path
) -> None:
    # GIVEN the sample adopted by the library, with the environment an ADOT user passes
    text = _rendered(sample)
    unset = set(_ENV_REFERENCE.findall(text)) - set(ENVIRONMENT) - _PROVIDED
    assert not unset, f"{sample.name} reads variables the test does not set: {sorted(unset)}"
    document = yaml.safe_load(text)
    # AND exactly the components left out of the test build known as the ones to stand in for
    expected = {
        (kind, str(cid))
        for kind in KINDS
        for cid in document.get(kind) or {}
        if (kind, _type(str(cid))) in EXCLUDED
    }
    document, shadowed = _stand_in_shadowed(document)
    # WHEN the real collector validates it, the other excluded components replaced by stand-ins
    result, replaced = validate_with_stand_ins(
        collector_binary, yaml.safe_dump(document, sort_keys=False), env=ENVIRONMENT
    )
    # THEN it is accepted
    assert result.returncode == 0, (
        f"{sample.name} (stand-ins for {shadowed} and {replaced}):\n{result.stderr}"
    )
    # AND the stand-ins replaced those components and nothing the test build has
    stood_in = [*shadowed, *((STAND_INS[_type(cid)][0], cid) for cid in replaced)]
    assert sorted(stood_in) == sorted(expected), sample.name
