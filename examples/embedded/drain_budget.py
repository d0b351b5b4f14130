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
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from otel_fargate.config import CollectorConfigOptions, ConfigError, RenderedConfig, render
from otel_fargate.config.policy import budget as _budget
from otel_fargate.config.policy.budget import (
    BUDGET_ENV,
    SUPERVISOR_MARGIN_SECONDS,
    DrainBudget,
    check_fits,
    go_duration,
)
from otel_fargate.names import MAX_STOP_TIMEOUT_SECONDS

__all__ = [
    "BUDGET_ENV",
    "DEFAULT_CONFIG",
    "SUPERVISOR_MARGIN_SECONDS",
    "DrainBudget",
    "check_fits",
    "drain_budget",
    "go_duration",
    "main",
    "render_config",
]

DEFAULT_CONFIG = Path(__file__).with_name("collector.yaml")


def drain_budget(rendered: RenderedConfig, *, stop_timeout_seconds: int = 120) -> DrainBudget:
    """The drain budget of ``rendered``: the longest drain of an exporter some pipeline uses.

    ``stop_timeout_seconds`` only words the error about retries that never end.
    """
    return _budget.drain_budget(rendered.config, stop_timeout_seconds=stop_timeout_seconds)


def render_config(text: str, *, stop_timeout_seconds: int) -> RenderedConfig:
    """Validate a whole collector configuration (YAML) the way otel-fargate renders one."""
    return render(
        CollectorConfigOptions(
            preset="sidecar", replacement=text, stop_timeout_seconds=stop_timeout_seconds
        )
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
    print(
        f"drain budget {budget.go_duration} ({budget.source}); the supervisor stops the collector "
        f"after {collector:g}s, which leaves the app {stop - collector:g}s of "
        f"stop_timeout_seconds={stop} to shut down",
        file=err,
    )
    print(budget.go_duration, file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
