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

import pytest
import yaml
from otel_fargate.config import CollectorConfigOptions, render
from otel_fargate.config.model.components import MODULE_TYPES, contrib_components

from tests.e2e.test_validate import KINDS, STAND_INS, validate_with_stand_ins
from tests.library.test_adot_samples import ADOT, ADOT_GROUPS, ENVIRONMENT, EXPECTED
from tools.collector import LOCAL_EXCLUDE

pytestmark = pytest.mark.e2e

#: The samples the library refuses (the EC2-only otel-instance-metrics-config.yaml), as
#: tests/library/test_adot_samples.py expects them.
REFUSED = {name for name, expected in EXPECTED.items() if isinstance(expected, str)}
SAMPLES = sorted(path for path in ADOT.glob("*.yaml") if path.name not in REFUSED)

#: (kind, type) of every component left out of the test build.
EXCLUDED: frozenset[tuple[str, str]] = frozenset(MODULE_TYPES[module] for module in LOCAL_EXCLUDE)

#: What validate() fills in itself, as ECS does for every task.
_PROVIDED = {"AWS_REGION"}
_ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


def _type(component_id: str) -> str:
    return component_id.split("/", 1)[0]


def _rendered(sample: Path) -> str:
    """The sample as the sidecar of test_adot_samples.py runs it on the bundled image."""
    return render(
        CollectorConfigOptions(
            preset="sidecar",
            replacement=sample.read_text(),
            environment=ENVIRONMENT,
            existing_log_groups=ADOT_GROUPS,  # AWS's own groups, as test_adot_samples.py names them
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


def test_every_excluded_component_has_a_stand_in_of_its_kind() -> None:
    # GIVEN the components left out of the test build, awsxray as exporter and as receiver
    # THEN each has a stand-in keyed by its own kind
    assert set(STAND_INS) >= EXCLUDED


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
    # WHEN the real collector validates it, the excluded components replaced by stand-ins
    result, replaced = validate_with_stand_ins(
        collector_binary, yaml.safe_dump(document, sort_keys=False), env=ENVIRONMENT
    )
    # THEN it is accepted
    assert result.returncode == 0, f"{sample.name} (stand-ins for {replaced}):\n{result.stderr}"
    # AND the stand-ins replaced those components and nothing the test build has
    assert sorted(replaced) == sorted(expected), sample.name
