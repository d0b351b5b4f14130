"""The drain budget of an embedded collector's configuration, for the supervisor.

When the app has exited, the supervisor sends SIGTERM to the collector and SIGKILL after
``--collector-stop-timeout``. Each exporter of the configuration can keep one batch busy for
its retries plus one attempt's timeout (otel-fargate's drain rule, the one that bounds every
rendered configuration by the container's stop timeout); the longest of these is the
configuration's *drain budget*. Told the budget in ``OTEL_FARGATE_DRAIN_BUDGET`` (or with
``--collector-drain-budget``), the supervisor stops the collector after the budget plus 5 s,
and refuses a ``--collector-stop-timeout`` that is not longer than the budget.

Usage, from the repository root with otel-fargate installed::

    python examples/embedded/drain_budget.py [CONFIG] [--stop-timeout-seconds N]

CONFIG is the collector configuration the container gets in ``OTEL_FARGATE_CONFIG``
(default: ``collector.yaml`` next to this script); N is the container's stop timeout
(default: 120, Fargate's maximum). The configuration is validated by otel-fargate's renderer;
the budget is printed on stdout as a Go duration (``70s``), what it means on stderr. Exit
status 1 with an ``error:`` line when the configuration is invalid, or when the collector's
stop timeout (budget + 5 s) would not end before the container's stop timeout.

From Python, ``drain_budget(render(CollectorConfigOptions(...)))`` measures a configuration
rendered from typed options.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from otel_fargate.config import CollectorConfigOptions, ConfigError, RenderedConfig, render
from otel_fargate.config.policy.drain import drain_of
from otel_fargate.config.policy.validate import component_type
from otel_fargate.names import MAX_STOP_TIMEOUT_SECONDS

#: The environment variable the supervisor reads the budget from.
BUDGET_ENV = "OTEL_FARGATE_DRAIN_BUDGET"
#: What the supervisor adds to the budget for its default --collector-stop-timeout: time for
#: the collector's own shutdown once the last export has ended (``drainMargin`` in
#: supervisor/flags.go).
SUPERVISOR_MARGIN_SECONDS = 5
DEFAULT_CONFIG = Path(__file__).with_name("collector.yaml")


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


def go_duration(seconds: float) -> str:
    """``seconds`` as a Go duration (``70s``, ``12.5s``), rounded up to the millisecond so
    that the supervisor is never told less than the budget.
    """
    millis = math.ceil(round(seconds * 1000, 6))
    if millis % 1000 == 0:
        return f"{millis // 1000}s"
    return f"{millis / 1000:.3f}".rstrip("0") + "s"


def drain_budget(rendered: RenderedConfig, *, stop_timeout_seconds: int = 120) -> DrainBudget:
    """The drain budget of ``rendered``: the longest drain of an exporter some pipeline uses.

    ``stop_timeout_seconds`` only words the error about retries that never end.
    """
    config = rendered.config
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


def render_config(text: str, *, stop_timeout_seconds: int) -> RenderedConfig:
    """Validate a whole collector configuration (YAML) the way otel-fargate renders one."""
    return render(
        CollectorConfigOptions(
            preset="sidecar", replacement=text, stop_timeout_seconds=stop_timeout_seconds
        )
    )


def check_fits(budget: DrainBudget, *, stop_timeout_seconds: int) -> None:
    """Raise ConfigError unless the collector's stop timeout ends before the container's."""
    collector = budget.collector_stop_timeout_seconds
    if collector >= stop_timeout_seconds:
        raise ConfigError(
            f"drain budget {budget.go_duration} ({budget.exporter}: {budget.detail}): the "
            f"supervisor stops the collector after {collector:g}s (the budget plus "
            f"{SUPERVISOR_MARGIN_SECONDS}s), which leaves the app no time to shut down within "
            f"stop_timeout_seconds={stop_timeout_seconds}; shorten that exporter's retries or "
            f"timeout"
        )


def main(
    argv: Sequence[str] | None = None, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    parser = argparse.ArgumentParser(
        prog="drain_budget.py",
        description=f"Print the drain budget of a collector configuration for {BUDGET_ENV}.",
    )
    parser.add_argument(
        "config",
        nargs="?",
        type=Path,
        default=DEFAULT_CONFIG,
        help="the collector configuration (YAML) given in OTEL_FARGATE_CONFIG "
        "(default: collector.yaml next to this script)",
    )
    parser.add_argument(
        "--stop-timeout-seconds",
        type=int,
        default=MAX_STOP_TIMEOUT_SECONDS,
        help="the container's stop timeout (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    stop: int = args.stop_timeout_seconds
    try:
        text = args.config.read_text(encoding="utf-8")
    except OSError as problem:
        print(f"error: {args.config}: cannot read it: {problem.strerror}", file=err)
        return 1
    try:
        rendered = render_config(text, stop_timeout_seconds=stop)
        budget = drain_budget(rendered, stop_timeout_seconds=stop)
        check_fits(budget, stop_timeout_seconds=stop)
    except ConfigError as problem:
        print(f"error: {args.config}: {problem}", file=err)
        return 1
    collector = budget.collector_stop_timeout_seconds
    source = f"{budget.exporter}: {budget.detail}" if budget.exporter else budget.detail
    print(
        f"drain budget {budget.go_duration} ({source}); the supervisor stops the collector "
        f"after {collector:g}s, which leaves the app {stop - collector:g}s of "
        f"stop_timeout_seconds={stop} to shut down",
        file=err,
    )
    print(budget.go_duration, file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
