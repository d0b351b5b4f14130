"""Rendered configurations match the committed golden files (drift test)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from otel_fargate.config import render

from tests.library.golden_cases import CASES

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_yaml_matches_golden_file(case: str) -> None:
    # GIVEN a representative option set
    options = CASES[case]
    path = GOLDEN / f"{case}.yaml"
    # WHEN it is rendered
    rendered = render(options)
    if UPDATE:
        path.write_text(rendered.yaml, encoding="utf-8")
    # THEN the YAML equals the committed file byte for byte
    assert path.exists(), f"missing {path}; regenerate with UPDATE_GOLDEN=1"
    assert rendered.yaml == path.read_text(encoding="utf-8"), (
        f"{path.name} drifted; review and regenerate with UPDATE_GOLDEN=1"
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_yaml_parses_back_to_the_rendered_dict(case: str) -> None:
    # GIVEN a rendered configuration
    rendered = render(CASES[case])
    # WHEN its YAML is parsed
    parsed = yaml.safe_load(rendered.yaml)
    # THEN nothing was lost or reordered in the text
    assert parsed == rendered.config
    assert list(parsed) == list(rendered.config)


def test_every_golden_file_has_a_case() -> None:
    # GIVEN the golden directory
    files = {path.stem for path in GOLDEN.glob("*.yaml")}
    # THEN no file is left over from a removed case
    assert files == set(CASES)


def test_rendering_twice_gives_identical_bytes() -> None:
    # GIVEN every case WHEN rendered twice THEN the text is identical
    for options in CASES.values():
        assert render(options).yaml == render(options).yaml
