"""The dashboard of one collector deployment: signals, queues, process and ECS rows."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_cloudwatch as cloudwatch

from otel_fargate import telemetry
from otel_fargate.monitoring.metrics import (
    ALL_SIGNALS,
    EXPORTER_ENQUEUE_FAILED,
    EXPORTER_SEND_FAILED,
    EXPORTER_SENT,
    RECEIVER_ACCEPTED,
    RECEIVER_REFUSED,
    SIGNAL_UNITS,
    CollectorMetrics,
    pairs,
)

_MIB = 1024 * 1024


def _graph(
    title: str, metrics: Sequence[cloudwatch.IMetric], *, width: int, floor: bool = False
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title,
        left=list(metrics),
        width=width,
        height=6,
        left_y_axis=cloudwatch.YAxisProps(min=0) if floor else None,
    )


def signal_row(m: CollectorMetrics) -> list[cloudwatch.IWidget]:
    """One graph per signal: accepted, refused, sent, failed and dropped items."""
    row: list[cloudwatch.IWidget] = []
    for signal in ALL_SIGNALS:
        receivers = [r for r, s in m.receivers.items() if signal in s]
        exporters = [e for e, s in m.exporters.items() if signal in s]
        left: list[cloudwatch.IMetric] = [
            *(m.receiver_metric(RECEIVER_ACCEPTED, r, signal, kind="accepted") for r in receivers),
            *(m.receiver_metric(RECEIVER_REFUSED, r, signal, kind="refused") for r in receivers),
            *(m.exporter_metric(EXPORTER_SENT, e, signal, kind="sent") for e in exporters),
            *(m.exporter_metric(EXPORTER_SEND_FAILED, e, signal, kind="failed") for e in exporters),
            *(
                m.exporter_metric(EXPORTER_ENQUEUE_FAILED, e, signal, kind="dropped")
                for e in exporters
            ),
        ]
        if left:
            unit = SIGNAL_UNITS[signal].replace("_", " ").capitalize()
            row.append(_graph(f"{unit}: accepted / refused / sent / failed", left, width=8))
    return row


def pressure_row(m: CollectorMetrics) -> list[cloudwatch.IWidget]:
    """Exporter queues against their capacity, and memory-limiter refusals."""
    queues: list[cloudwatch.IMetric] = []
    for exporter in m.exporters:
        queues.append(m.queue_metric(telemetry.EXPORTER_QUEUE_SIZE, exporter))
        queues.append(m.queue_metric(telemetry.EXPORTER_QUEUE_CAPACITY, exporter))
    refusals = [
        m.receiver_metric(RECEIVER_REFUSED, r, signal, kind="refused")
        for r, signal in pairs(m.receivers)
    ]
    row: list[cloudwatch.IWidget] = []
    if queues:
        row.append(_graph("Exporter queue: size vs capacity", queues, width=12))
    row.append(_graph("Memory limiter: refused by receivers", refusals, width=12))
    return row


def process_row(m: CollectorMetrics, memory_limit_mib: int) -> list[cloudwatch.IWidget]:
    """RSS against the container limit, CPU and uptime of the collector process."""
    rss = cloudwatch.GraphWidget(
        title="Process memory (RSS) vs container limit",
        left=[m.metric(telemetry.PROCESS_MEMORY_RSS, statistic="Maximum", label="RSS bytes (max)")],
        left_annotations=[
            cloudwatch.HorizontalAnnotation(
                value=memory_limit_mib * _MIB,
                label=f"memory limit {memory_limit_mib} MiB",
                color=cloudwatch.Color.RED,
            )
        ],
        left_y_axis=cloudwatch.YAxisProps(min=0),
        width=8,
        height=6,
    )
    cpu = m.metric(telemetry.PROCESS_CPU_SECONDS, statistic="Sum", label="CPU seconds")
    uptime = m.metric(telemetry.PROCESS_UPTIME, statistic="Minimum", label="uptime s (min)")
    return [
        rss,
        _graph("Process CPU (seconds used per period)", [cpu], width=8),
        _graph("Process uptime (drops on restart or new task)", [uptime], width=8),
    ]


def ecs_row(m: CollectorMetrics, restarts: cloudwatch.IMetric | None) -> list[cloudwatch.IWidget]:
    """ECS task counts (known service) and collector restarts (when a source exists)."""
    row: list[cloudwatch.IWidget] = []
    if m.has_ecs:
        tasks = [
            m.ecs_metric("RunningTaskCount", statistic="Average"),
            m.ecs_metric("DesiredTaskCount", statistic="Average"),
        ]
        row.append(_graph("ECS tasks: running vs desired", tasks, width=12, floor=True))
    if restarts is not None:
        row.append(_graph("Collector container restarts", [restarts], width=12, floor=True))
    return row


def build_dashboard(
    dashboard: cloudwatch.Dashboard,
    m: CollectorMetrics,
    *,
    memory_limit_mib: int,
    restarts: cloudwatch.IMetric | None,
    alarms: Sequence[cloudwatch.Alarm],
    extra_row: Sequence[cloudwatch.IWidget] = (),
) -> None:
    """Fill ``dashboard``: title, signal, pressure, process, scale-tier and ECS rows, alarm
    status.
    """
    title = f"otel-fargate collector: {m.environment_name} / {m.service_name}"
    dashboard.add_widgets(
        cloudwatch.TextWidget(markdown=f"# {title}\nNamespace `{m.namespace}`", width=24, height=2)
    )
    for row in (signal_row(m), pressure_row(m), process_row(m, memory_limit_mib)):
        dashboard.add_widgets(*row)
    if extra_row:
        dashboard.add_widgets(*extra_row)
    ecs = ecs_row(m, restarts)
    if ecs:
        dashboard.add_widgets(*ecs)
    dashboard.add_widgets(
        cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(alarms), width=24, height=4)
    )
