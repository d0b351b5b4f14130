"""The security rules against a table of hostile and legitimate configurations (guard_cases.py)."""

from __future__ import annotations

import pytest
from otel_fargate.config import ConfigError, render

from tests.library.guard_cases import HOSTILE, LEGITIMATE, Case, options


def test_the_table_is_large_enough() -> None:
    # GIVEN the tables THEN each holds at least 40 configurations, with distinct ids
    assert len(HOSTILE) >= 40 and len(LEGITIMATE) >= 40
    assert len({case.id for case in [*HOSTILE, *LEGITIMATE]}) == len(HOSTILE) + len(LEGITIMATE)


@pytest.mark.parametrize("case", HOSTILE, ids=[case.id for case in HOSTILE])
def test_a_hostile_configuration_is_refused(case: Case) -> None:
    # GIVEN a role and layers that open, leak or weaken something
    # WHEN it is rendered THEN it is refused naming the path, the value and the way out
    with pytest.raises(ConfigError, match=case.match):
        render(options(case))


@pytest.mark.parametrize("case", LEGITIMATE, ids=[case.id for case in LEGITIMATE])
def test_a_legitimate_configuration_is_accepted(case: Case) -> None:
    # GIVEN a configuration from the README, examples, ADOT's samples or upstream's READMEs
    # WHEN it is rendered THEN it is accepted
    rendered = render(options(case))
    assert rendered.config["service"]["pipelines"]
