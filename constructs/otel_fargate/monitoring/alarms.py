"""The alarm table: what each alarm watches, when it fires, and what to look at first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from otel_fargate import telemetry
from otel_fargate.monitoring.metrics import CollectorMetrics

_MIB = 1024 * 1024
Missing = cloudwatch.TreatMissingData


@dataclass(frozen=True, kw_only=True)
class AlarmSettings:
    """Thresholds and evaluation shared by a collector's alarms (see CollectorMonitoring)."""

    evaluation_periods: int
    datapoints_to_alarm: int
    export_failure_threshold: float
    queue_utilization_threshold_percent: float
    refused_threshold: float
    memory_utilization_threshold_percent: float
    restart_threshold: float
    memory_limit_mib: int
    alarm_topic: sns.ITopic | None


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: its key, metric, threshold, data rules and description."""

    key: str
    metric: cloudwatch.IMetric
    threshold: float
    missing: cloudwatch.TreatMissingData
    datapoints: int
    description: str
    comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD


def add_alarm(scope: Construct, spec: AlarmSpec, settings: AlarmSettings) -> cloudwatch.Alarm:
    """Create ``spec`` under ``scope``, notifying the topic on ALARM and OK when there is one."""
    alarm = cloudwatch.Alarm(
        scope,
        "".join(part.capitalize() for part in spec.key.split("_")) + "Alarm",
        metric=spec.metric,
        threshold=spec.threshold,
        comparison_operator=spec.comparison,
        evaluation_periods=settings.evaluation_periods,
        datapoints_to_alarm=spec.datapoints,
        treat_missing_data=spec.missing,
        alarm_description=spec.description,
    )
    if settings.alarm_topic is not None:
        action = cloudwatch_actions.SnsAction(settings.alarm_topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
    return alarm


def exporter_alarms(m: CollectorMetrics, s: AlarmSettings, where: str) -> list[AlarmSpec]:
    """``export_failures`` and ``queue_utilization``."""
    return [
        AlarmSpec(
            "export_failures",
            m.send_failed_total(),
            s.export_failure_threshold,
            Missing.NOT_BREACHING,
            s.datapoints_to_alarm,
            f"Collector exporters failed to send telemetry ({where}): more than "
            f"{s.export_failure_threshold:g} spans/metric points/log records per period "
            "were dropped after retries. Look first at the collector log group for "
            "'Exporting failed' lines naming the exporter and the error (permissions, "
            "throttling, an unreachable endpoint), then at the destination's health. "
            "Missing data counts as OK: exporters report failures only when they happen.",
        ),
        AlarmSpec(
            "queue_utilization",
            m.queue_utilization(),
            s.queue_utilization_threshold_percent,
            Missing.NOT_BREACHING,
            s.datapoints_to_alarm,
            "An exporter's sending queue is above "
            f"{s.queue_utilization_threshold_percent:g}% of its capacity ({where}). The "
            "destination is slower than the input or failing; once the queue is full "
            "new data is dropped. Look first at the 'Exporter queue' graph to see "
            "which exporter, then at export failures and the destination's "
            "latency/throttling. Missing data counts as OK: exporters without a "
            "sending queue report no queue metrics.",
        ),
    ]


def data_plane_alarms(m: CollectorMetrics, s: AlarmSettings, where: str) -> list[AlarmSpec]:
    """``receiver_refusals`` and ``memory_high``."""
    rss = m.metric(telemetry.PROCESS_MEMORY_RSS, statistic="Maximum")
    percent = s.memory_utilization_threshold_percent
    return [
        AlarmSpec(
            "receiver_refusals",
            m.refused_total(),
            s.refused_threshold,
            Missing.NOT_BREACHING,
            s.datapoints_to_alarm,
            f"Collector receivers refused telemetry ({where}): more than "
            f"{s.refused_threshold:g} items per period. This is almost always the memory "
            "limiter rejecting data because the collector is near its memory limit; "
            "clients see errors and must retry or drop. Look first at the 'Process memory' "
            "graph and at the exporter queue (a stuck exporter fills memory), then give "
            "the collector more memory or more tasks. Missing data counts as OK.",
        ),
        AlarmSpec(
            "memory_high",
            rss,
            s.memory_limit_mib * _MIB * percent / 100,
            Missing.MISSING,
            s.datapoints_to_alarm,
            f"Collector resident memory is above {percent:g}% "
            f"of its {s.memory_limit_mib} MiB limit ({where}). Next comes the memory "
            "limiter refusing data, then the container being killed for out-of-memory. "
            "Look first at the exporter queue and export failures (a backlog holds "
            "memory), then at the input rate; raise the task memory or scale out. Missing "
            "data keeps the previous state: a collector that stops reporting while near "
            "its limit has most likely been killed, which is not a recovery.",
        ),
    ]


def heartbeat_alarm(
    m: CollectorMetrics, s: AlarmSettings, where: str, *, interval_seconds: int
) -> AlarmSpec:
    """``collector_heartbeat``: the collector of at least one task stopped reporting.

    The tasks' uptime reports per period, divided by what one collector sends in a period
    (the period over ``interval_seconds``), against the service's running task count: one
    alarm and two metrics however many tasks run. Half a task's reports missing breaches.
    """
    per_task = max(m.period.to_seconds() / interval_seconds, 1.0)
    return AlarmSpec(
        "collector_heartbeat",
        m.tasks_silent(per_task),
        0.5,
        Missing.BREACHING,
        s.datapoints_to_alarm,
        f"The collector of at least one task stopped reporting its own metrics ({where}): "
        "fewer uptime reports arrived than the running tasks send, in most of the evaluation "
        "periods. A collector is down or cannot reach CloudWatch: a crash loop ECS gave up "
        "restarting (a container that exits within its restart attempt period is not "
        "restarted), an out-of-memory kill, or a broken self-telemetry pipeline. Look first "
        "at the collector log streams (the silent task's stream ends) and the tasks' stopped "
        "reasons. Missing data counts as breaching: silence is the symptom. Without Container "
        "Insights the running task count is unknown and one task is assumed: only the silence "
        "of every task shows. A service scaled to zero tasks also reports nothing: switch "
        "monitoring off for it.",
    )


def tasks_alarm(
    m: CollectorMetrics, s: AlarmSettings, where: str, environment_name: str
) -> AlarmSpec:
    """``tasks_below_desired`` (gateway with a known ECS service)."""
    return AlarmSpec(
        "tasks_below_desired",
        m.tasks_missing(),
        0,
        Missing.BREACHING,
        s.evaluation_periods,
        f"The collector gateway runs fewer tasks than desired ({where}) for every "
        "evaluation period. Look first at the ECS service's events and stopped "
        "tasks (stopped reason, failed health checks of the otel-collector "
        "container, image pull or secret errors), then run "
        f"'python -m tools.cli verify --env {environment_name}'. Missing data counts as "
        "breaching: without Container Insights task counts the gateway is "
        "unobserved, so enable Container Insights on the cluster.",
    )


def restart_alarm(
    metric: cloudwatch.IMetric, s: AlarmSettings, where: str, *, source: str
) -> AlarmSpec:
    """``collector_restarts`` of a sidecar, from Container Insights or from crash lines."""
    describe: Callable[[], str] = _RESTART_TEXTS[source]
    return AlarmSpec(
        "collector_restarts",
        metric,
        s.restart_threshold,
        Missing.NOT_BREACHING,
        1,
        describe().format(where=where),
    )


def _insights_text(container_only: bool) -> Callable[[], str]:
    whose = (
        " of the otel-collector container"
        if container_only
        else " of the service's containers (any container's restart counts)"
    )
    return lambda: (
        "ECS restarted the sidecar collector container in place ({where}); the "
        "application kept running but its telemetry was not collected while the "
        "collector was down. Look first at the last lines of the collector log "
        "stream before the restart (config or permission errors, panics) and at "
        "'Process memory' (out-of-memory kills). Source: Container Insights "
        "RestartCount" + whose + ". Missing data counts as OK: the metric appears only with "
        "restarts."
    )


def _crash_text() -> str:
    return (
        "The sidecar collector wrote a crash line ({where}): a Go panic, a fatal "
        "error or 'collector server run finished with error'; with a restart "
        "policy ECS restarts it in place, without one the application runs without "
        "a collector. Look first at the log stream that contains the line (the "
        "error just before it names the component), then at 'Process memory'. "
        "Out-of-memory kills write no line: memory_high covers them. Pass the ECS "
        "service to count restarts with Container Insights instead. Missing data "
        "counts as OK: the filter publishes 0 when lines arrive and none match."
    )


_RESTART_TEXTS: dict[str, Callable[[], str]] = {
    "insights-container": _insights_text(True),
    "insights-service": _insights_text(False),
    "crash-lines": _crash_text,
}
