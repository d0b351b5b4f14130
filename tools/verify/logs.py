"""CloudWatch Logs: collector log lines at level error or worse in the last minutes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from otel_fargate.names import COLLECTOR_CONTAINER_NAME

from tools.verify.aws import Clients, aws_call, list_all
from tools.verify.report import CheckResult

#: How far back the log check looks for collector errors.
LOG_WINDOW_MINUTES: Final = 15
#: Error lines quoted in a failing log check, per log group.
MAX_QUOTED_LINES: Final = 3

_ERROR_LEVELS: Final = frozenset({"error", "dpanic", "panic", "fatal"})
#: CloudWatch Logs pre-filter: JSON log lines whose level is error or worse.
ERROR_FILTER_PATTERN: Final = (
    '{ ($.level = "error") || ($.level = "dpanic") || ($.level = "panic") || ($.level = "fatal") }'
)


def error_lines(events: Iterable[Mapping[str, Any]]) -> list[str]:
    """Messages of JSON log events whose ``level`` is error or worse."""
    lines = []
    for event in events:
        message = str(event.get("message", ""))
        try:
            record = json.loads(message)
        except ValueError:
            continue
        if isinstance(record, dict) and str(record.get("level", "")).lower() in _ERROR_LEVELS:
            lines.append(message)
    return lines


def check_log_errors(log_group: str, lines: Sequence[str]) -> CheckResult:
    """No collector log line at level error or worse in the window."""
    name = f"log errors {log_group}"
    if not lines:
        return CheckResult(name, True, f"no ERROR lines in the last {LOG_WINDOW_MINUTES} min")
    quoted = []
    for line in lines[:MAX_QUOTED_LINES]:
        record = json.loads(line)
        quoted.append(str(record.get("msg", line))[:160])
    return CheckResult(
        name,
        False,
        f"{len(lines)} ERROR lines in the last {LOG_WINDOW_MINUTES} min, e.g. "
        + " | ".join(quoted),
    )


def _collector_log_groups(clients: Clients, task_definitions: Iterable[str]) -> list[str]:
    groups: list[str] = []
    for arn in task_definitions:
        described = aws_call(
            f"describing task definition {arn}",
            clients.ecs.describe_task_definition,
            taskDefinition=arn,
        )
        for container in described["taskDefinition"].get("containerDefinitions", []):
            if container.get("name") != COLLECTOR_CONTAINER_NAME:
                continue
            options = (container.get("logConfiguration") or {}).get("options") or {}
            group = options.get("awslogs-group")
            if group and group not in groups:
                groups.append(group)
    return groups


def log_checks(
    clients: Clients, task_definitions: Sequence[str], current: float, has_services: bool
) -> list[CheckResult]:
    """One check per collector log group named in ``task_definitions``."""
    results: list[CheckResult] = []
    collector_groups = _collector_log_groups(clients, dict.fromkeys(task_definitions))
    for group in collector_groups:
        events = aws_call(
            f"reading log group {group}",
            list_all,
            clients.logs,
            "filter_log_events",
            "events",
            logGroupName=group,
            startTime=int((current - LOG_WINDOW_MINUTES * 60) * 1000),
            endTime=int(current * 1000),
            filterPattern=ERROR_FILTER_PATTERN,
        )
        results.append(check_log_errors(group, error_lines(events)))
    if has_services and not collector_groups:
        results.append(
            CheckResult(
                "log errors",
                False,
                "no otel-collector container with an awslogs log group in the services' "
                "task definitions",
            )
        )
    return results
