"""The metric-math evaluator the deployment-gate tests stand on."""

from __future__ import annotations

import pytest

from tests.alarm_math import alarm_states, evaluate

RATIO = "100 * (FILL(f0, 0)) / ((FILL(s0, 0)) + (FILL(f0, 0)))"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"s0": 90.0, "f0": 10.0}, 10.0),
        ({"s0": 100.0, "f0": None}, 0.0),
        ({"s0": None, "f0": 5.0}, 100.0),
        ({"s0": None, "f0": None}, None),
        ({"s0": 0.0, "f0": 0.0}, None),
    ],
)
def test_the_ratio_of_failed_items(values: dict[str, float | None], expected: float | None) -> None:
    assert evaluate(RATIO, values) == expected


def test_an_alarm_needs_its_datapoints_within_the_window() -> None:
    # GIVEN 2 of 3 breaching periods to alarm, missing data not breaching
    states = alarm_states(
        [50.0, None, 50.0, 0.0, 0.0, 50.0],
        threshold=10,
        evaluation_periods=3,
        datapoints_to_alarm=2,
        missing_breaches=False,
    )
    assert states == ["OK", "OK", "ALARM", "OK", "OK", "OK"]


def test_unknown_functions_are_refused() -> None:
    with pytest.raises(ValueError, match="not supported"):
        evaluate("SUM([m1])", {"m1": 1.0})
