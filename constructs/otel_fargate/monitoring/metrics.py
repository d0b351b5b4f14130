"""The CloudWatch metrics a collector's dashboard and alarms read.

The collector's own metrics arrive under one namespace with the dimensions ``environment``
and ``service``, plus ``exporter`` or ``receiver`` where the metric has one (names in
:mod:`otel_fargate.telemetry`); ECS task counts and restarts come from Container Insights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

from otel_fargate import telemetry
from otel_fargate.errors import OtelFargateError
from otel_fargate.names import COLLECTOR_CONTAINER_NAME

#: Pipeline signal -> the unit suffix of the collector's per-item metrics.
SIGNAL_UNITS: Final[Mapping[str, str]] = {
    "traces": "spans",
    "metrics": "metric_points",
    "logs": "log_records",
}
ALL_SIGNALS: Final = ("traces", "metrics", "logs")
CONTAINER_INSIGHTS_NAMESPACE: Final = "ECS/ContainerInsights"


def _per_signal(kind: str) -> Mapping[str, str]:
    """``telemetry`` names of one per-item metric, by pipeline signal (e.g. ``EXPORTER_SENT``)."""
    return {
        signal: str(getattr(telemetry, f"{kind}_{unit.upper()}"))
        for signal, unit in SIGNAL_UNITS.items()
    }


EXPORTER_SENT: Final = _per_signal("EXPORTER_SENT")
EXPORTER_SEND_FAILED: Final = _per_signal("EXPORTER_SEND_FAILED")
EXPORTER_ENQUEUE_FAILED: Final = _per_signal("EXPORTER_ENQUEUE_FAILED")
RECEIVER_ACCEPTED: Final = _per_signal("RECEIVER_ACCEPTED")
RECEIVER_REFUSED: Final = _per_signal("RECEIVER_REFUSED")

Components = Mapping[str, tuple[str, ...]]


def pairs(components: Components) -> list[tuple[str, str]]:
    """Every (component, signal) pair."""
    return [(name, signal) for name, signals in components.items() for signal in signals]


def fill_sum(
    metrics: Mapping[str, cloudwatch.IMetric], *, period: Duration, label: str
) -> cloudwatch.MathExpression:
    """The sum of ``metrics``; a series that reported nothing this period counts as zero, and
    when no series reports at all the sum stays missing.
    """
    expression = " + ".join(f"FILL({metric_id}, 0)" for metric_id in metrics)
    return cloudwatch.MathExpression(
        expression=expression, using_metrics=dict(metrics), period=period, label=label
    )


def report_interval(config: Mapping[str, object]) -> int:
    """Seconds between two pushes of the collector's own metrics (its periodic reader)."""
    service = config.get("service")
    telemetry_ = service.get("telemetry") if isinstance(service, Mapping) else None
    metrics = telemetry_.get("metrics") if isinstance(telemetry_, Mapping) else None
    readers = metrics.get("readers") if isinstance(metrics, Mapping) else None
    for reader in readers if isinstance(readers, list) else ():
        periodic = reader.get("periodic") if isinstance(reader, Mapping) else None
        if isinstance(periodic, Mapping) and isinstance(periodic.get("interval"), int):
            return max(int(periodic["interval"]) // 1000, 1)
    return 60


@dataclass(frozen=True)
class CollectorMetrics:
    """Metric factory for one collector deployment (environment and service)."""

    namespace: str
    environment_name: str
    service_name: str
    period: Duration
    exporters: Components
    receivers: Components
    ecs_cluster_name: str | None = None
    ecs_service_name: str | None = None

    def metric(
        self, name: str, *, statistic: str, label: str | None = None, **dimensions: str
    ) -> cloudwatch.Metric:
        """One of the collector's own metrics, with the environment and service dimensions."""
        return cloudwatch.Metric(
            namespace=self.namespace,
            metric_name=name,
            dimensions_map={
                telemetry.DIMENSION_ENVIRONMENT: self.environment_name,
                telemetry.DIMENSION_SERVICE: self.service_name,
                **dimensions,
            },
            statistic=statistic,
            period=self.period,
            label=label,
        )

    def exporter_metric(
        self, names: Mapping[str, str], exporter: str, signal: str, *, kind: str
    ) -> cloudwatch.Metric:
        """An exporter's per-item count (Sum per period), e.g. ``EXPORTER_SENT`` of traces."""
        return self._item_metric(names, telemetry.DIMENSION_EXPORTER, exporter, signal, kind)

    def receiver_metric(
        self, names: Mapping[str, str], receiver: str, signal: str, *, kind: str
    ) -> cloudwatch.Metric:
        """A receiver's per-item count (Sum per period), e.g. ``RECEIVER_REFUSED`` of logs."""
        return self._item_metric(names, telemetry.DIMENSION_RECEIVER, receiver, signal, kind)

    def _item_metric(
        self, names: Mapping[str, str], dimension: str, component: str, signal: str, kind: str
    ) -> cloudwatch.Metric:
        unit = SIGNAL_UNITS[signal].replace("_", " ")
        return self.metric(
            names[signal],
            statistic="Sum",
            label=f"{kind} {unit} ({component})",
            **{dimension: component},
        )

    def send_failed_total(self) -> cloudwatch.MathExpression:
        """Failed spans, metric points and log records of every exporter, summed."""
        metrics = {
            f"f{i}": self.exporter_metric(EXPORTER_SEND_FAILED, exporter, signal, kind="failed")
            for i, (exporter, signal) in enumerate(pairs(self.exporters))
        }
        return fill_sum(metrics, period=self.period, label="failed items")

    def refused_total(self) -> cloudwatch.MathExpression:
        """Refused spans, metric points and log records of every receiver, summed."""
        metrics = {
            f"r{i}": self.receiver_metric(RECEIVER_REFUSED, receiver, signal, kind="refused")
            for i, (receiver, signal) in enumerate(pairs(self.receivers))
        }
        return fill_sum(metrics, period=self.period, label="refused items")

    def queue_metric(self, name: str, exporter: str) -> cloudwatch.Metric:
        """Queue size or capacity of one exporter (Maximum over its signals' series)."""
        kind = "capacity" if name == telemetry.EXPORTER_QUEUE_CAPACITY else "size"
        return self.metric(
            name,
            statistic="Maximum",
            label=f"queue {kind} ({exporter})",
            **{telemetry.DIMENSION_EXPORTER: exporter},
        )

    def queue_utilization(self) -> cloudwatch.MathExpression:
        """The fullest exporter queue, as a percentage of its capacity."""
        using: dict[str, cloudwatch.IMetric] = {}
        ratios: list[str] = []
        for i, exporter in enumerate(self.exporters):
            using[f"qs{i}"] = self.queue_metric(telemetry.EXPORTER_QUEUE_SIZE, exporter)
            using[f"qc{i}"] = self.queue_metric(telemetry.EXPORTER_QUEUE_CAPACITY, exporter)
            ratios.append(f"100*qs{i}/qc{i}")
        expression = ratios[0] if len(ratios) == 1 else f"MAX([{', '.join(ratios)}])"
        return cloudwatch.MathExpression(
            expression=expression,
            using_metrics=using,
            period=self.period,
            label="queue utilization %",
        )

    @property
    def has_ecs(self) -> bool:
        """True when the ECS service is known, so Container Insights metrics can be read."""
        return self.ecs_cluster_name is not None and self.ecs_service_name is not None

    def ecs_metric(self, name: str, *, statistic: str, **extra: str) -> cloudwatch.Metric:
        """A Container Insights metric of the collector's ECS service."""
        if self.ecs_cluster_name is None or self.ecs_service_name is None:
            raise OtelFargateError(
                f"{name}: needs service or ecs_cluster_name/ecs_service_name, got neither"
            )
        return cloudwatch.Metric(
            namespace=CONTAINER_INSIGHTS_NAMESPACE,
            metric_name=name,
            dimensions_map={
                "ClusterName": self.ecs_cluster_name,
                "ServiceName": self.ecs_service_name,
                **extra,
            },
            statistic=statistic,
            period=self.period,
            label=name,
        )

    def tasks_missing(self) -> cloudwatch.MathExpression:
        """Desired minus running tasks of the ECS service (Container Insights)."""
        return cloudwatch.MathExpression(
            expression="desired - running",
            using_metrics={
                "desired": self.ecs_metric("DesiredTaskCount", statistic="Average"),
                "running": self.ecs_metric("RunningTaskCount", statistic="Average"),
            },
            period=self.period,
            label="tasks missing",
        )

    def tasks_silent(self, reports_per_task: float) -> cloudwatch.MathExpression:
        """Running tasks minus tasks whose collector reported, as a number of tasks.

        ``reports`` counts the collector's uptime reports of every task in a period (one
        series, no per-task dimension), ``reports_per_task`` what one live collector sends
        in a period. Without a running task count (no Container Insights, no ECS service)
        one task is assumed, so silence of the whole service still shows.
        """
        using: dict[str, cloudwatch.IMetric] = {
            "reports": self.metric(
                telemetry.PROCESS_UPTIME, statistic="SampleCount", label="uptime reports"
            )
        }
        running = "1"
        if self.has_ecs:
            using["running"] = self.ecs_metric("RunningTaskCount", statistic="Average")
            running = "FILL(running, 1)"
        return cloudwatch.MathExpression(
            expression=f"{running} - FILL(reports, 0) / {reports_per_task:g}",
            using_metrics=using,
            period=self.period,
            label="tasks not reporting",
        )

    def container_restarts(self, *, enhanced: bool) -> cloudwatch.Metric:
        """Container Insights ``RestartCount`` of the service (or of the collector container).

        The Maximum per period is non-zero exactly when a container of the service has been
        restarted in place, whether the metric reports restarts per period or per task.
        """
        extra = {"ContainerName": COLLECTOR_CONTAINER_NAME} if enhanced else {}
        return self.ecs_metric("RestartCount", statistic="Maximum", **extra)
