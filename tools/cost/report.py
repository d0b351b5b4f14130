"""What each collector of an environment costs in CloudWatch a month, before ``cdk deploy``.

The environment's stacks are built in memory (no synth, no AWS calls). A collector is every
construct with a rendered configuration, whatever its role, so a new role is reported without
a change here. For each one:

- **series**: what its ``awsemf`` exporters publish (:mod:`tools.cost.series`), plus one
  series per metric transformation of the log metric filters it owns (the crash-line counter);
- **tasks**: the desired count of the ECS service running its task definition, and the
  autoscaling maximum (the desired count when the service does not scale); series with no
  per-task dimension are shared by the tasks, so they cost the same at 2 tasks or 200;
- **alarm metrics**: each alarm it owns, one per metric it reads (a metric-math alarm pays for
  every metric in its expression, Container Insights ones included);
- **dashboards** it owns.

Not counted: Container Insights (billed per cluster, not published by a collector), the EMF
log events' ingestion and storage (CloudWatch Logs), and API requests.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import IConstruct
from otel_fargate.task.fargate import task_containers

from tools.cost import prices
from tools.cost.series import published_series

_EXITED = (ecs.ContainerDependencyCondition.COMPLETE, ecs.ContainerDependencyCondition.SUCCESS)


@dataclass(frozen=True, kw_only=True)
class CollectorCost:
    """The monthly CloudWatch figures of one collector service.

    Attributes:
        collector: its construct path (``otel-fargate-dev-gateway/Gateway``).
        role: the preset it was rendered from (``gateway``, ``agent``...).
        desired_tasks: the service's desired count.
        max_tasks: the autoscaling maximum (``desired_tasks`` without autoscaling).
        series_per_task: series each task adds.
        shared_series: series every task of the service shares.
        total_series: series at ``max_tasks``.
        alarm_metrics: metrics its alarms read.
        dashboards: dashboards it owns.
        monthly_usd: the list price of all of it.
        not_estimated: what it publishes that could not be counted.
    """

    collector: str
    role: str
    desired_tasks: int
    max_tasks: int
    series_per_task: int
    shared_series: int
    total_series: int
    alarm_metrics: int
    dashboards: int
    monthly_usd: float
    not_estimated: tuple[str, ...]


def _owner(node: IConstruct, collectors: Sequence[IConstruct]) -> IConstruct | None:
    """The innermost collector ``node`` belongs to."""
    for scope in reversed(node.node.scopes):
        if any(scope is c for c in collectors):
            return scope
    return None


def _alarm_metrics(alarm: cloudwatch.CfnAlarm) -> int:
    if alarm.metric_name is not None:
        return 1
    queries = cdk.Stack.of(alarm).resolve(alarm.metrics) or []
    return sum(1 for query in queries if "metricStat" in query)


def _filter_series(metric_filter: logs.CfnMetricFilter) -> tuple[int, list[str]]:
    transformations = cdk.Stack.of(metric_filter).resolve(metric_filter.metric_transformations)
    counted, notes = 0, []
    for transformation in transformations:
        if transformation.get("dimensions"):
            notes.append(f"metric filter {transformation.get('metricName')} by dimensions")
        else:
            counted += 1
    return counted, notes


def _tasks(app: cdk.App, collector: Any) -> tuple[int, int, list[str]]:
    """(desired, maximum, notes) of the service running the collector's task definition."""
    task_definition = getattr(collector, "task_definition", None)
    for node in app.node.find_all():
        if isinstance(node, ecs.BaseService) and node.task_definition is task_definition:
            cfn = node.node.default_child
            desired = getattr(cfn, "desired_count", None)
            desired = desired if isinstance(desired, int) else 1
            targets = node.node.find_all()
            maximum = max(
                (
                    int(t.max_capacity)
                    for t in targets
                    if isinstance(t, autoscaling.CfnScalableTarget)
                ),
                default=desired,
            )
            return desired, maximum, []
    return 1, 1, ["no ECS service runs its task definition here: 1 task assumed"]


def _containers(collector: Any) -> int:
    """Containers of the collector's task that keep running: those no container waits for to
    exit (an init container, such as an agent's copy step, reports no CPU or memory once
    stopped)."""
    task_definition = getattr(collector, "task_definition", None)
    if task_definition is None:
        return 1
    containers = task_containers(task_definition)
    exiting = {
        dependency.container.container_name
        for container in containers
        for dependency in container.container_dependencies
        if dependency.condition in _EXITED
    }
    return sum(1 for c in containers if c.container_name not in exiting)


def _owned(app: cdk.App, collectors: Sequence[IConstruct]) -> dict[int, dict[str, Any]]:
    """Alarm metrics, dashboards and metric-filter series by collector (by ``id()``)."""
    owned: dict[int, dict[str, Any]] = {
        id(c): {"alarm_metrics": 0, "dashboards": 0, "filter_series": 0, "notes": []}
        for c in collectors
    }
    for node in app.node.find_all():
        owner = _owner(node, collectors)
        if owner is None:
            continue
        entry = owned[id(owner)]
        if isinstance(node, cloudwatch.CfnAlarm):
            entry["alarm_metrics"] += _alarm_metrics(node)
        elif isinstance(node, cloudwatch.CfnDashboard):
            entry["dashboards"] += 1
        elif isinstance(node, logs.CfnMetricFilter):
            counted, notes = _filter_series(node)
            entry["filter_series"] += counted
            entry["notes"].extend(notes)
    return owned


def collector_costs(app: cdk.App) -> list[CollectorCost]:
    """The figures of every collector in ``app``, by construct path.

    Synthesizes ``app`` first (into its output directory, a temporary one by default), so the
    collectors and containers its Aspects add are counted too.
    """
    from otel_fargate import RenderedConfig

    app.synth()
    collectors = [
        n
        for n in app.node.find_all()
        if isinstance(getattr(n, "rendered_config", None), RenderedConfig)
    ]
    owned = _owned(app, collectors)
    costs = []
    for collector in sorted(collectors, key=lambda c: c.node.path):
        rendered: Any = getattr(collector, "rendered_config")  # noqa: B009
        series = published_series(rendered.config, containers_per_task=_containers(collector))
        desired, maximum, task_notes = _tasks(app, collector)
        entry = owned[id(collector)]
        shared = series.shared + entry["filter_series"]
        total = shared + series.per_task * maximum
        costs.append(
            CollectorCost(
                collector=collector.node.path,
                role=str(rendered.preset),
                desired_tasks=desired,
                max_tasks=maximum,
                series_per_task=series.per_task,
                shared_series=shared,
                total_series=total,
                alarm_metrics=entry["alarm_metrics"],
                dashboards=entry["dashboards"],
                monthly_usd=prices.monthly_usd(
                    metrics=total,
                    alarm_metrics=entry["alarm_metrics"],
                    dashboards=entry["dashboards"],
                ),
                not_estimated=(*series.not_estimated, *entry["notes"], *task_notes),
            )
        )
    return costs


_HEADER = (
    "collector",
    "preset",
    "tasks",
    "series/task",
    "shared",
    "series",
    "alarm metrics",
    "dashboards",
    "USD/month",
)


def _row(cost: CollectorCost) -> tuple[str, ...]:
    return (
        cost.collector,
        cost.role,
        f"{cost.desired_tasks}/{cost.max_tasks}",
        str(cost.series_per_task),
        str(cost.shared_series),
        str(cost.total_series),
        str(cost.alarm_metrics),
        str(cost.dashboards),
        f"{cost.monthly_usd:.2f}",
    )


def totals(costs: Sequence[CollectorCost]) -> dict[str, Any]:
    """Series, alarm metrics, dashboards and USD of every collector together."""
    return {
        "total_series": sum(c.total_series for c in costs),
        "alarm_metrics": sum(c.alarm_metrics for c in costs),
        "dashboards": sum(c.dashboards for c in costs),
        "monthly_usd": round(sum(c.monthly_usd for c in costs), 2),
    }


def format_table(costs: Sequence[CollectorCost], *, environment: str) -> str:
    """A readable table: one row per collector, a total line, then what was not estimated."""
    total = totals(costs)
    rows = [_HEADER, *(_row(c) for c in costs)]
    rows.append(
        (
            "total",
            "",
            "",
            "",
            "",
            str(total["total_series"]),
            str(total["alarm_metrics"]),
            str(total["dashboards"]),
            f"{total['monthly_usd']:.2f}",
        )
    )
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER))]
    lines = [f"CloudWatch cost of environment {environment}, per month (tasks: desired/max)"]
    for row in rows:
        cells = [
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    notes = [f"  {c.collector}: {note}" for c in costs for note in c.not_estimated]
    if notes:
        lines += ["not estimated (not in the figures above):", *notes]
    lines.append(
        f"prices: ${prices.METRIC_MONTH_USD:.2f} per metric, ${prices.ALARM_METRIC_MONTH_USD:.2f} "
        f"per alarm metric, ${prices.DASHBOARD_MONTH_USD:.2f} per dashboard, a month; "
        f"{prices.SOURCE}; free tier not subtracted"
    )
    return "\n".join(lines)


def format_json(costs: Sequence[CollectorCost], *, environment: str) -> str:
    """The same figures as JSON."""
    document = {
        "environment": environment,
        "collectors": [asdict(c) for c in costs],
        "total": totals(costs),
        "prices_usd": {
            "metric_month": prices.METRIC_MONTH_USD,
            "alarm_metric_month": prices.ALARM_METRIC_MONTH_USD,
            "dashboard_month": prices.DASHBOARD_MONTH_USD,
            "source": prices.SOURCE,
        },
    }
    return json.dumps(document, indent=2)
