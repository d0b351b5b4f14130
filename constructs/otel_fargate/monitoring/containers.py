"""The app containers beside the collector: a dashboard row and the ephemeral-storage alarm.

Built on the container metrics the collector publishes into its own namespace (see
``config/rendering/container.py``): each container's CPU and memory (one series per container
name, found with a SEARCH expression, so the dashboard needs no container list) and the task's
ephemeral storage used against reserved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_cloudwatch as cloudwatch

from otel_fargate import telemetry
from otel_fargate.monitoring.alarms import AlarmSettings, AlarmSpec, Missing
from otel_fargate.monitoring.metrics import CollectorMetrics
from otel_fargate.names import CONTAINER_METRICS_PIPELINE_ID, SELF_EXPORTER_ID

#: Ephemeral storage used, in percent of what the task reserves, above which the alarm fires.
DISK_THRESHOLD_PERCENT = 80
_PUBLISHABLE = {name for names in telemetry.CONTAINER_METRIC_GROUPS.values() for name in names}


def published_container_metrics(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The container metrics ``config`` publishes as CloudWatch metrics through ``awsemf/self``."""
    pipelines = (config.get("service") or {}).get("pipelines") or {}
    container = pipelines.get(CONTAINER_METRICS_PIPELINE_ID) or {}
    if SELF_EXPORTER_ID not in (container.get("exporters") or ()):
        return ()
    exporter = (config.get("exporters") or {}).get(SELF_EXPORTER_ID) or {}
    found: list[str] = []
    for declaration in exporter.get("metric_declarations") or ():
        for selector in declaration.get("metric_name_selectors") or ():
            name = str(selector).strip("^$").replace("\\.", ".")
            if name in _PUBLISHABLE and name not in found:
                found.append(name)
    return tuple(found)


def _per_container(m: CollectorMetrics, name: str, label: str) -> cloudwatch.MathExpression:
    dimensions = ",".join(f'"{d}"' for d in telemetry.DIMENSIONS["app_container"])
    query = (
        f'SEARCH(\'{{"{m.namespace}",{dimensions}}} MetricName="{name}" '
        f'{telemetry.DIMENSION_ENVIRONMENT}="{m.environment_name}" '
        f'{telemetry.DIMENSION_SERVICE}="{m.service_name}"\', \'Maximum\', '
        f"{int(m.period.to_seconds())})"
    )
    return cloudwatch.MathExpression(expression=query, using_metrics={}, label=label,
                                     period=m.period)


def containers_row(m: CollectorMetrics, published: Sequence[str]) -> list[cloudwatch.IWidget]:
    """Each app container's CPU and memory, and the task's ephemeral storage, when published."""
    row: list[cloudwatch.IWidget] = []
    for name, title in (
        (telemetry.CONTAINER_CPU_UTILIZED, "App containers: CPU used (of reserved, busiest task)"),
        (telemetry.CONTAINER_MEMORY_UTILIZED, "App containers: memory used MiB (busiest task)"),
    ):
        if name in published:
            row.append(cloudwatch.GraphWidget(title=title, left=[_per_container(m, name, "")],
                                              width=8, height=6))
    disk = disk_percent(m, published)
    if disk is not None:
        row.append(cloudwatch.GraphWidget(
            title="Task ephemeral storage used % (fullest task)", left=[disk], width=8, height=6,
            left_annotations=[cloudwatch.HorizontalAnnotation(
                value=DISK_THRESHOLD_PERCENT, label="alarm", color=cloudwatch.Color.RED)],
        ))
    return row


def disk_percent(m: CollectorMetrics, published: Sequence[str]) -> cloudwatch.IMetric | None:
    """Ephemeral storage used in percent of reserved, or None unless both are published."""
    used = telemetry.TASK_EPHEMERAL_STORAGE_UTILIZED
    reserved = telemetry.TASK_EPHEMERAL_STORAGE_RESERVED
    if used not in published or reserved not in published:
        return None
    return cloudwatch.MathExpression(
        expression="100 * used / reserved",
        using_metrics={
            "used": m.metric(used, statistic="Maximum"),
            "reserved": m.metric(reserved, statistic="Minimum"),
        },
        label="ephemeral storage used %",
        period=m.period,
    )


def disk_alarm(
    m: CollectorMetrics, s: AlarmSettings, where: str, published: Sequence[str]
) -> AlarmSpec | None:
    """``ephemeral_storage``: a task's disk is filling (persistent queues, FireLens buffers)."""
    disk = disk_percent(m, published)
    if disk is None:
        return None
    return AlarmSpec(
        "ephemeral_storage",
        disk,
        DISK_THRESHOLD_PERCENT,
        Missing.NOT_BREACHING,
        s.datapoints_to_alarm,
        f"A task's ephemeral storage is more than {DISK_THRESHOLD_PERCENT} % used ({where}): the "
        "fullest task's used MiB against what the task reserves. When it is full, the "
        "collector's persistent queues and the FireLens buffers can no longer write and data "
        "is dropped. Look first at the exporter queue (a backend that refuses or is slow makes "
        "the persistent queue grow) and at what the app writes to its own disk; give the task "
        "more ephemeral storage if the usage is expected.",
    )
