"""A configuration's drain budget: what the supervisor waits for before it kills the collector.

When a supervised collector is stopped, each exporter a pipeline uses can keep one batch busy
for its retries plus one attempt's timeout (:mod:`otel_fargate.config.policy.drain`); the
longest of these is the configuration's *drain budget*. Told the budget in
``OTEL_FARGATE_DRAIN_BUDGET``, the supervisor gives the collector the budget plus
:data:`SUPERVISOR_MARGIN_SECONDS` between SIGTERM and SIGKILL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from otel_fargate.config.core.values import component_type
from otel_fargate.config.policy.drain import drain_of
from otel_fargate.errors import ConfigError

#: The environment variable the supervisor reads the budget from.
BUDGET_ENV = "OTEL_FARGATE_DRAIN_BUDGET"
#: What the supervisor adds to the budget for its default --collector-stop-timeout: time for
#: the collector's own shutdown once the last export has ended (``drainMargin`` in
#: supervisor/flags.go).
SUPERVISOR_MARGIN_SECONDS = 5


@dataclass(frozen=True)
class DrainBudget:
    """The longest time one exporter of a configuration can spend sending one batch.

    Attributes:
        seconds: the budget; 0 when every exporter sends synchronously (``debug``).
        exporter: the component id of the exporter that sets it, None when seconds is 0.
        detail: how that exporter's time adds up, for messages.
    """

    seconds: float
    exporter: str | None
    detail: str

    @property
    def go_duration(self) -> str:
        """The budget as the supervisor reads it, rounded up to the millisecond."""
        return go_duration(self.seconds)

    @property
    def collector_stop_timeout_seconds(self) -> float:
        """The supervisor's --collector-stop-timeout when told this budget."""
        return math.ceil(round(self.seconds * 1000, 6)) / 1000 + SUPERVISOR_MARGIN_SECONDS

    @property
    def source(self) -> str:
        """What sets the budget, for messages."""
        return f"{self.exporter}: {self.detail}" if self.exporter else self.detail


def go_duration(seconds: float) -> str:
    """``seconds`` as a Go duration (``70s``, ``12.5s``), rounded up to the millisecond so
    that the supervisor is never told less than the budget.
    """
    millis = math.ceil(round(seconds * 1000, 6))
    if millis % 1000 == 0:
        return f"{millis // 1000}s"
    return f"{millis / 1000:.3f}".rstrip("0") + "s"


def drain_budget(config: Mapping[str, Any], *, stop_timeout_seconds: int = 120) -> DrainBudget:
    """The drain budget of the final ``config``: the longest drain of an exporter some
    pipeline uses.

    ``stop_timeout_seconds`` only words the error about retries that never end.
    """
    exporters: Mapping[str, Any] = config.get("exporters") or {}
    pipelines: Mapping[str, Any] = (config.get("service") or {}).get("pipelines") or {}
    used = sorted(
        {eid for pipeline in pipelines.values() for eid in (pipeline or {}).get("exporters") or []}
    )
    budget = DrainBudget(0.0, None, "no exporter retries or waits for an answer")
    for eid in used:
        drain = drain_of(
            component_type(eid),
            exporters.get(eid) or {},
            where=f"exporters.{eid}",
            stop_timeout_seconds=stop_timeout_seconds,
        )
        if drain is not None and drain.total > budget.seconds:
            detail = drain.attempt_text
            if drain.retrying:
                detail = f"retries {drain.retrying:g}s plus {detail}"
            budget = DrainBudget(drain.total, eid, detail)
    return budget


def check_fits(
    budget: DrainBudget, *, stop_timeout_seconds: int, app_shutdown_seconds: float = 0
) -> None:
    """Raise ConfigError unless the app's shutdown and then the collector's stop timeout
    (the budget plus the supervisor's margin) end before the container's stop timeout.
    """
    collector = budget.collector_stop_timeout_seconds
    if app_shutdown_seconds + collector < stop_timeout_seconds:
        return
    stops = (
        f"the supervisor stops the collector after {collector:g}s (the budget plus "
        f"{SUPERVISOR_MARGIN_SECONDS}s)"
    )
    if app_shutdown_seconds:
        leaves = (
            f"{stops}, after the app's {app_shutdown_seconds:g}s to shut down "
            f"(app_shutdown_seconds): together they must end before "
            f"stop_timeout_seconds={stop_timeout_seconds};"
        )
    else:
        leaves = (
            f"{stops}, which leaves the app no time to shut down within "
            f"stop_timeout_seconds={stop_timeout_seconds};"
        )
    raise ConfigError(
        f"drain budget {budget.go_duration} ({budget.source}): {leaves} shorten that "
        f"exporter's retries or timeout"
    )
