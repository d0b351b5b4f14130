"""CloudWatch alarms: none of the environment's alarms is in ALARM."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tools.verify.aws import Clients, aws_call, list_all
from tools.verify.report import CheckResult


def check_alarms(alarms: Sequence[Mapping[str, Any]], expected: int) -> CheckResult:
    """No alarm of the environment is in ALARM."""
    firing = [str(a["AlarmName"]) for a in alarms if a.get("StateValue") == "ALARM"]
    insufficient = sum(1 for a in alarms if a.get("StateValue") == "INSUFFICIENT_DATA")
    if firing:
        return CheckResult(
            "alarms", False, f"{len(firing)} of {len(alarms)} in ALARM: " + ", ".join(firing)
        )
    detail = f"{len(alarms)} alarms, none in ALARM"
    if insufficient:
        detail += f" ({insufficient} INSUFFICIENT_DATA)"
    if len(alarms) < expected:
        detail += f"; {expected - len(alarms)} listed in the stacks not found"
    return CheckResult("alarms", True, detail)


def alarm_check(clients: Clients, names: Sequence[str]) -> CheckResult:
    """Describe the alarms ``names`` (a hundred per call) and check their states."""
    if not names:
        return CheckResult("alarms", True, "no alarms in the stacks")
    alarms: list[dict[str, Any]] = []
    for start in range(0, len(names), 100):
        alarms.extend(
            aws_call(
                "describing the alarms",
                list_all,
                clients.cloudwatch,
                "describe_alarms",
                "MetricAlarms",
                AlarmNames=list(names[start : start + 100]),
            )
        )
    return check_alarms(alarms, len(names))
