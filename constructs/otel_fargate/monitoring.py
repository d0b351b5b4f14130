"""Dashboard and alarms for a collector deployment (sidecar or gateway).

The collector's own metrics arrive in CloudWatch under one namespace with the dimensions
``environment`` and ``service``, plus ``exporter`` or ``receiver`` where the metric has one
(names in :mod:`otel_fargate.telemetry`). :class:`CollectorMonitoring` graphs them next to the
ECS task counts and raises alarms that each say what broke and where to look first.

Restarts of a sidecar collector. ECS restarts a container in place when its restart policy
allows it: the task, its id and the service's task counts stay the same, so only ECS itself
sees the restart. The primary source is therefore the Container Insights ``RestartCount``
metric (namespace ``ECS/ContainerInsights``), used whenever the ECS service is known; with
enhanced observability it carries a ``ContainerName`` dimension, so the alarm watches the
``otel-collector`` container alone. The collector's own signals are weaker: a crash-looping
collector exports nothing (``otelcol_process_uptime`` goes missing rather than dropping),
and a startup log line or a low uptime also appears for every new task of a deployment or a
scale-out, which would page on healthy rollouts. When only the collector's log group is
known (a sidecar added to a task definition whose service is created elsewhere), a metric
filter counts the lines a collector writes when it dies (a Go ``panic:``/``fatal error:``
or the collector's ``collector server run finished with error``); an out-of-memory kill
writes nothing, which is why ``memory_high`` keeps its state when data goes missing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from aws_cdk import Annotations, Duration, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from . import telemetry
from .container import COLLECTOR_CONTAINER_NAME
from .errors import OtelFargateError

#: Pipeline signal -> the unit suffix of the collector's per-item metrics.
SIGNAL_UNITS: Final[Mapping[str, str]] = {
    "traces": "spans",
    "metrics": "metric_points",
    "logs": "log_records",
}
ALL_SIGNALS: Final = ("traces", "metrics", "logs")



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

CONTAINER_INSIGHTS_NAMESPACE: Final = "ECS/ContainerInsights"

#: Namespace of the metric the crash-line filter publishes (``collector_log_group`` only).
CRASH_METRIC_NAMESPACE: Final = "OtelFargate/CollectorLogs"
#: Metric filters cannot set fixed dimensions, so the metric name carries environment and
#: service: ``CollectorCrashLines-<environment>-<service>``.
CRASH_METRIC_NAME: Final = "CollectorCrashLines-{environment}-{service}"
#: Lines a dying collector writes: Go runtime panics/fatal errors, the collector's exit error.
CRASH_FILTER_PATTERN: Final = (
    '?"panic: " ?"fatal error: " ?"collector server run finished with error"'
)

#: CloudWatch refuses alarms whose metric math reads more than 10 metrics.
MAX_ALARM_METRICS: Final = 10

_DASHBOARD_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_MIB = 1024 * 1024


class CollectorMonitoring(Construct):
    """A CloudWatch dashboard and alarms for one collector deployment of one environment.

    Alarms, keyed in :attr:`alarms` by short stable names:

    - ``export_failures``: exporters failed to send spans, metric points or log records
      (needs ``exporters``).
    - ``queue_utilization``: an exporter's sending queue is filling up (needs ``exporters``).
    - ``receiver_refusals``: receivers refused data (the memory limiter pushing back).
    - ``memory_high``: collector RSS close to the container's memory limit.
    - ``tasks_below_desired``: gateway with a known ECS service: fewer running tasks than
      desired.
    - ``collector_restarts``: sidecar: ECS restarted the collector container in place
      (Container Insights ``RestartCount`` with a known ECS service, otherwise crash lines in
      ``collector_log_group``).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment_name: str,
        service_name: str,
        memory_limit_mib: int,
        exporters: Mapping[str, Sequence[str]] | None = None,
        receivers: Mapping[str, Sequence[str]] | None = None,
        namespace: str | None = None,
        service: ecs.FargateService | None = None,
        ecs_cluster_name: str | None = None,
        ecs_service_name: str | None = None,
        collector_log_group: logs.ILogGroup | None = None,
        sidecar: bool = False,
        container_insights_enhanced: bool = False,
        alarm_topic: sns.ITopic | None = None,
        dashboard_name: str | None = None,
        period_seconds: int = 60,
        evaluation_periods: int = 5,
        datapoints_to_alarm: int = 3,
        export_failure_threshold: float = 0,
        queue_utilization_threshold_percent: float = 80,
        refused_threshold: float = 0,
        memory_utilization_threshold_percent: float = 90,
        restart_threshold: float = 0,
    ) -> None:
        """Create the dashboard and the alarms.

        :param environment_name: value of the ``environment`` dimension of the collector's
            metrics (the environment name in ``cdk.json``).
        :param service_name: value of the ``service`` dimension of the collector's metrics
            (the gateway's or the application's service name).
        :param memory_limit_mib: memory limit of the collector container in MiB; the RSS graph
            draws it as a line and ``memory_high`` is a percentage of it.
        :param exporters: exporter component ids (the ``exporter`` dimension, e.g.
            ``"awsxray"``, ``"otlp/gateway"``) mapped to the signals they export
            (``"traces"``, ``"metrics"``, ``"logs"``), as in the collector's pipelines.
            default: no exporter graphs and no ``export_failures``/``queue_utilization``
            alarms (a synth warning says so).
        :param receivers: receiver component ids mapped to the signals they receive.
            default: ``{"otlp": ("traces", "metrics", "logs")}``, the OTLP receiver of every
            preset.
        :param namespace: CloudWatch namespace of the collector's metrics.
            default: ``OtelFargate/Collector``.
        :param service: the ECS service running the collector (the gateway service, or the
            application service that carries the sidecar); adds task counts and the
            Container Insights restart count. default: no ECS graphs or alarms unless
            ``ecs_cluster_name`` and ``ecs_service_name`` are given.
        :param ecs_cluster_name: cluster name for the ECS metrics when ``service`` is not a
            construct of this app. default: taken from ``service``.
        :param ecs_service_name: ECS service name, given together with ``ecs_cluster_name``.
            default: taken from ``service``.
        :param collector_log_group: the collector container's log group. For a sidecar whose
            ECS service is unknown, ``collector_restarts`` counts crash lines in it.
            default: no log-based restart detection.
        :param sidecar: whether the collector runs as a sidecar. A sidecar gets the
            ``collector_restarts`` alarm; a gateway gets ``tasks_below_desired``.
            default: a gateway.
        :param container_insights_enhanced: whether the cluster has Container Insights with
            enhanced observability, which adds the ``ContainerName`` dimension so restarts are
            counted for the ``otel-collector`` container alone. default: restarts of any
            container of the service count.
        :param alarm_topic: SNS topic notified when an alarm fires and when it recovers.
            default: alarms notify nobody (they still show in the console and in
            ``otel-fargate verify``).
        :param dashboard_name: default: ``otel-fargate-<environment>-<service>``.
        :param period_seconds: aggregation period of graphs and alarms; 10, 30 or a multiple
            of 60. default: one minute.
        :param evaluation_periods: periods each alarm looks back. default: 5.
        :param datapoints_to_alarm: breaching periods within ``evaluation_periods`` that fire
            the data-plane alarms. default: 3 (3 out of 5 minutes).
        :param export_failure_threshold: failed items per period above which
            ``export_failures`` breaches. default: any failure (0).
        :param queue_utilization_threshold_percent: queue size as a percentage of capacity
            above which ``queue_utilization`` breaches, in (0, 100]. default: 80.
        :param refused_threshold: refused items per period above which ``receiver_refusals``
            breaches. default: any refusal (0).
        :param memory_utilization_threshold_percent: RSS as a percentage of
            ``memory_limit_mib`` above which ``memory_high`` breaches, in (0, 100].
            default: 90.
        :param restart_threshold: restarts (or crash lines) per period above which
            ``collector_restarts`` breaches. default: any restart (0).
        """
        super().__init__(scope, id)

        _require_text("environment_name", environment_name)
        _require_text("service_name", service_name)
        namespace = namespace if namespace is not None else telemetry.SELF_TELEMETRY_NAMESPACE
        _require_text("namespace", namespace)
        if isinstance(memory_limit_mib, bool) or not isinstance(memory_limit_mib, int):
            raise OtelFargateError(
                f"memory_limit_mib must be an integer number of MiB, got {memory_limit_mib!r}"
            )
        if memory_limit_mib <= 0:
            raise OtelFargateError(f"memory_limit_mib must be positive, got {memory_limit_mib}")
        exporter_signals = (
            _validate_components("exporters", exporters) if exporters is not None else {}
        )
        receiver_signals = _validate_components(
            "receivers",
            receivers if receivers is not None else {"otlp": ALL_SIGNALS},
        )
        failure_pairs = sum(len(s) for s in exporter_signals.values())
        if failure_pairs > MAX_ALARM_METRICS:
            raise OtelFargateError(
                f"exporters: an alarm can read at most {MAX_ALARM_METRICS} metrics, got "
                f"{failure_pairs} exporter/signal pairs"
            )
        if 2 * len(exporter_signals) > MAX_ALARM_METRICS:
            raise OtelFargateError(
                f"exporters: at most {MAX_ALARM_METRICS // 2} exporters fit one queue alarm, "
                f"got {len(exporter_signals)}"
            )
        refusal_pairs = sum(len(s) for s in receiver_signals.values())
        if refusal_pairs > MAX_ALARM_METRICS:
            raise OtelFargateError(
                f"receivers: an alarm can read at most {MAX_ALARM_METRICS} metrics, got "
                f"{refusal_pairs} receiver/signal pairs"
            )
        if service is not None and (ecs_cluster_name is not None or ecs_service_name is not None):
            raise OtelFargateError(
                "ecs_cluster_name/ecs_service_name: give either service or the names, "
                f"got service and ecs_cluster_name={ecs_cluster_name!r}, "
                f"ecs_service_name={ecs_service_name!r}"
            )
        if (ecs_cluster_name is None) != (ecs_service_name is None):
            raise OtelFargateError(
                "ecs_cluster_name and ecs_service_name must be given together, got "
                f"ecs_cluster_name={ecs_cluster_name!r}, ecs_service_name={ecs_service_name!r}"
            )
        if ecs_cluster_name is not None:
            _require_text("ecs_cluster_name", ecs_cluster_name)
        if ecs_service_name is not None:
            _require_text("ecs_service_name", ecs_service_name)
        if period_seconds not in (10, 30) and (period_seconds <= 0 or period_seconds % 60 != 0):
            raise OtelFargateError(
                f"period_seconds must be 10, 30 or a positive multiple of 60, got {period_seconds}"
            )
        if evaluation_periods < 1:
            raise OtelFargateError(
                f"evaluation_periods must be at least 1, got {evaluation_periods}"
            )
        if not 1 <= datapoints_to_alarm <= evaluation_periods:
            raise OtelFargateError(
                f"datapoints_to_alarm must be between 1 and evaluation_periods "
                f"({evaluation_periods}), got {datapoints_to_alarm}"
            )
        if period_seconds * evaluation_periods > 86400:
            raise OtelFargateError(
                "evaluation_periods: period_seconds * evaluation_periods must not exceed one "
                f"day (86400 s), got {period_seconds * evaluation_periods}"
            )
        _require_percent("queue_utilization_threshold_percent", queue_utilization_threshold_percent)
        _require_percent(
            "memory_utilization_threshold_percent", memory_utilization_threshold_percent
        )
        _require_non_negative("export_failure_threshold", export_failure_threshold)
        _require_non_negative("refused_threshold", refused_threshold)
        _require_non_negative("restart_threshold", restart_threshold)
        resolved_dashboard_name = (
            dashboard_name
            if dashboard_name is not None
            else f"otel-fargate-{environment_name}-{service_name}"
        )
        if not Token.is_unresolved(resolved_dashboard_name) and not _DASHBOARD_NAME.match(
            resolved_dashboard_name
        ):
            raise OtelFargateError(
                "dashboard_name must be 1-255 letters, digits, '-' or '_', got "
                f"{resolved_dashboard_name!r}"
                + ("" if dashboard_name is not None else " (from environment_name/service_name)")
            )

        self.environment_name = environment_name
        self.service_name = service_name
        self.namespace = namespace
        self.memory_limit_mib = memory_limit_mib
        self.sidecar = sidecar
        self._period = Duration.seconds(period_seconds)
        self._exporters = exporter_signals
        self._receivers = receiver_signals

        if service is not None:
            self.ecs_cluster_name: str | None = service.cluster.cluster_name
            self.ecs_service_name: str | None = service.service_name
        else:
            self.ecs_cluster_name = ecs_cluster_name
            self.ecs_service_name = ecs_service_name
        has_ecs = self.ecs_cluster_name is not None

        #: Alarms by short stable name (see the class docstring).
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        #: The crash-line metric filter (sidecar with a log group and no ECS service), or None.
        self.crash_metric_filter: logs.MetricFilter | None = None

        def add_alarm(
            key: str,
            *,
            metric: cloudwatch.IMetric,
            threshold: float,
            description: str,
            treat_missing_data: cloudwatch.TreatMissingData,
            datapoints: int,
        ) -> None:
            alarm = cloudwatch.Alarm(
                self,
                _construct_id(key),
                metric=metric,
                threshold=threshold,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=evaluation_periods,
                datapoints_to_alarm=datapoints,
                treat_missing_data=treat_missing_data,
                alarm_description=description,
            )
            if alarm_topic is not None:
                action = cloudwatch_actions.SnsAction(alarm_topic)
                alarm.add_alarm_action(action)
                alarm.add_ok_action(action)
            self.alarms[key] = alarm

        where = f"environment {environment_name}, service {service_name}"

        if exporter_signals:
            add_alarm(
                "export_failures",
                metric=self.send_failed_total(),
                threshold=export_failure_threshold,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                datapoints=datapoints_to_alarm,
                description=(
                    f"Collector exporters failed to send telemetry ({where}): more than "
                    f"{export_failure_threshold:g} spans/metric points/log records per period "
                    "were dropped after retries. Look first at the collector log group for "
                    "'Exporting failed' lines naming the exporter and the error (permissions, "
                    "throttling, an unreachable endpoint), then at the destination's health. "
                    "Missing data counts as OK: exporters report failures only when they "
                    "happen."
                ),
            )
            add_alarm(
                "queue_utilization",
                metric=self.queue_utilization(),
                threshold=queue_utilization_threshold_percent,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                datapoints=datapoints_to_alarm,
                description=(
                    "An exporter's sending queue is above "
                    f"{queue_utilization_threshold_percent:g}% of its capacity ({where}). The "
                    "destination is slower than the input or failing; once the queue is full "
                    "new data is dropped. Look first at the 'Exporter queue' graph to see "
                    "which exporter, then at export failures and the destination's "
                    "latency/throttling. Missing data counts as OK: exporters without a "
                    "sending queue report no queue metrics."
                ),
            )
        else:
            Annotations.of(self).add_warning_v2(
                "otel-fargate:monitoring-no-exporters",
                "exporters not given: no export_failures or queue_utilization alarm and no "
                "exporter graphs. Pass exporters={component id: [signals]}.",
            )
        add_alarm(
            "receiver_refusals",
            metric=self.refused_total(),
            threshold=refused_threshold,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            datapoints=datapoints_to_alarm,
            description=(
                f"Collector receivers refused telemetry ({where}): more than "
                f"{refused_threshold:g} items per period. This is almost always the memory "
                "limiter rejecting data because the collector is near its memory limit; "
                "clients see errors and must retry or drop. Look first at the 'Process memory' "
                "graph and at the exporter queue (a stuck exporter fills memory), then give "
                "the collector more memory or more tasks. Missing data counts as OK."
            ),
        )
        rss_limit_bytes = memory_limit_mib * _MIB
        add_alarm(
            "memory_high",
            metric=self.process_metric(telemetry.PROCESS_MEMORY_RSS, statistic="Maximum"),
            threshold=rss_limit_bytes * memory_utilization_threshold_percent / 100,
            treat_missing_data=cloudwatch.TreatMissingData.MISSING,
            datapoints=datapoints_to_alarm,
            description=(
                f"Collector resident memory is above {memory_utilization_threshold_percent:g}% "
                f"of its {memory_limit_mib} MiB limit ({where}). Next comes the memory "
                "limiter refusing data, then the container being killed for out-of-memory. "
                "Look first at the exporter queue and export failures (a backlog holds "
                "memory), then at the input rate; raise the task memory or scale out. Missing "
                "data keeps the previous state: a collector that stops reporting while near "
                "its limit has most likely been killed, which is not a recovery."
            ),
        )
        if has_ecs and not sidecar:
            add_alarm(
                "tasks_below_desired",
                metric=self.tasks_missing(),
                threshold=0,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
                datapoints=evaluation_periods,
                description=(
                    f"The collector gateway runs fewer tasks than desired ({where}) for every "
                    "evaluation period. Look first at the ECS service's events and stopped "
                    "tasks (stopped reason, failed health checks of the otel-collector "
                    "container, image pull or secret errors), then run "
                    f"'otel-fargate verify --env {environment_name}'. Missing data counts as "
                    "breaching: without Container Insights task counts the gateway is "
                    "unobserved, so enable Container Insights on the cluster."
                ),
            )
        if sidecar and has_ecs:
            add_alarm(
                "collector_restarts",
                metric=self.container_restarts(enhanced=container_insights_enhanced),
                threshold=restart_threshold,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                datapoints=1,
                description=(
                    f"ECS restarted the sidecar collector container in place ({where}); the "
                    "application kept running but its telemetry was not collected while the "
                    "collector was down. Look first at the last lines of the collector log "
                    "stream before the restart (config or permission errors, panics) and at "
                    "'Process memory' (out-of-memory kills). Source: Container Insights "
                    "RestartCount"
                    + (
                        " of the otel-collector container"
                        if container_insights_enhanced
                        else " of the service's containers (any container's restart counts)"
                    )
                    + ". Missing data counts as OK: the metric appears only with restarts."
                ),
            )
        elif sidecar and collector_log_group is not None:
            self.crash_metric_filter = logs.MetricFilter(
                self,
                "CrashLines",
                log_group=collector_log_group,
                filter_pattern=logs.FilterPattern.literal(CRASH_FILTER_PATTERN),
                metric_namespace=CRASH_METRIC_NAMESPACE,
                metric_name=CRASH_METRIC_NAME.format(
                    environment=environment_name, service=service_name
                ),
                metric_value="1",
                default_value=0,
                dimensions=None,
            )
            add_alarm(
                "collector_restarts",
                metric=self.crash_lines(),
                threshold=restart_threshold,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                datapoints=1,
                description=(
                    f"The sidecar collector wrote a crash line ({where}): a Go panic, a fatal "
                    "error or 'collector server run finished with error'; with a restart "
                    "policy ECS restarts it in place, without one the application runs without "
                    "a collector. Look first at the log stream that contains the line (the "
                    "error just before it names the component), then at 'Process memory'. "
                    "Out-of-memory kills write no line: memory_high covers them. Pass the ECS "
                    "service to count restarts with Container Insights instead. Missing data "
                    "counts as OK: the filter publishes 0 when lines arrive and none match."
                ),
            )
        elif sidecar:
            Annotations.of(self).add_warning_v2(
                "otel-fargate:monitoring-no-restart-alarm",
                "sidecar without service, ecs_cluster_name/ecs_service_name or "
                "collector_log_group: collector restarts go unnoticed (no alarm).",
            )

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=resolved_dashboard_name,
            period_override=cloudwatch.PeriodOverride.INHERIT,
        )
        self._build_dashboard(has_ecs=has_ecs, enhanced=container_insights_enhanced)

    # ----------------------------------------------------------------------------- metrics

    def _metric(
        self, name: str, *, statistic: str, label: str | None = None, **dimensions: str
    ) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=self.namespace,
            metric_name=name,
            dimensions_map={
                telemetry.DIMENSION_ENVIRONMENT: self.environment_name,
                telemetry.DIMENSION_SERVICE: self.service_name,
                **dimensions,
            },
            statistic=statistic,
            period=self._period,
            label=label,
        )

    def process_metric(self, name: str, *, statistic: str) -> cloudwatch.Metric:
        """A process-level metric of the collector (dimensions environment and service)."""
        return self._metric(name, statistic=statistic)

    def exporter_metric(
        self, names: Mapping[str, str], exporter: str, signal: str, *, kind: str
    ) -> cloudwatch.Metric:
        """An exporter's per-item count (Sum per period), e.g. ``EXPORTER_SENT`` of traces."""
        return self._metric(
            names[signal],
            statistic="Sum",
            label=f"{kind} {SIGNAL_UNITS[signal].replace('_', ' ')} ({exporter})",
            **{telemetry.DIMENSION_EXPORTER: exporter},
        )

    def receiver_metric(
        self, names: Mapping[str, str], receiver: str, signal: str, *, kind: str
    ) -> cloudwatch.Metric:
        """A receiver's per-item count (Sum per period), e.g. ``RECEIVER_REFUSED`` of logs."""
        return self._metric(
            names[signal],
            statistic="Sum",
            label=f"{kind} {SIGNAL_UNITS[signal].replace('_', ' ')} ({receiver})",
            **{telemetry.DIMENSION_RECEIVER: receiver},
        )

    def send_failed_total(self) -> cloudwatch.MathExpression:
        """Failed spans, metric points and log records of every exporter, summed."""
        metrics = {
            f"f{i}": self.exporter_metric(EXPORTER_SEND_FAILED, exporter, signal, kind="failed")
            for i, (exporter, signal) in enumerate(_pairs(self._exporters))
        }
        return _fill_sum(metrics, period=self._period, label="failed items")

    def refused_total(self) -> cloudwatch.MathExpression:
        """Refused spans, metric points and log records of every receiver, summed."""
        metrics = {
            f"r{i}": self.receiver_metric(RECEIVER_REFUSED, receiver, signal, kind="refused")
            for i, (receiver, signal) in enumerate(_pairs(self._receivers))
        }
        return _fill_sum(metrics, period=self._period, label="refused items")

    def queue_utilization(self) -> cloudwatch.MathExpression:
        """The fullest exporter queue, as a percentage of its capacity."""
        using: dict[str, cloudwatch.IMetric] = {}
        ratios: list[str] = []
        for i, exporter in enumerate(self._exporters):
            using[f"qs{i}"] = self._queue_metric(telemetry.EXPORTER_QUEUE_SIZE, exporter)
            using[f"qc{i}"] = self._queue_metric(telemetry.EXPORTER_QUEUE_CAPACITY, exporter)
            ratios.append(f"100*qs{i}/qc{i}")
        expression = ratios[0] if len(ratios) == 1 else f"MAX([{', '.join(ratios)}])"
        return cloudwatch.MathExpression(
            expression=expression,
            using_metrics=using,
            period=self._period,
            label="queue utilization %",
        )

    def _queue_metric(self, name: str, exporter: str) -> cloudwatch.Metric:
        kind = "capacity" if name == telemetry.EXPORTER_QUEUE_CAPACITY else "size"
        return self._metric(
            name,
            statistic="Maximum",
            label=f"queue {kind} ({exporter})",
            **{telemetry.DIMENSION_EXPORTER: exporter},
        )

    def _ecs_metric(self, name: str, *, statistic: str, **extra: str) -> cloudwatch.Metric:
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
            period=self._period,
            label=name,
        )

    def tasks_missing(self) -> cloudwatch.MathExpression:
        """Desired minus running tasks of the ECS service (Container Insights)."""
        return cloudwatch.MathExpression(
            expression="desired - running",
            using_metrics={
                "desired": self._ecs_metric("DesiredTaskCount", statistic="Average"),
                "running": self._ecs_metric("RunningTaskCount", statistic="Average"),
            },
            period=self._period,
            label="tasks missing",
        )

    def container_restarts(self, *, enhanced: bool) -> cloudwatch.Metric:
        """Container Insights ``RestartCount`` of the service (or of the collector container).

        The Maximum per period is non-zero exactly when a container of the service has been
        restarted in place, whether the metric reports restarts per period or per task.
        """
        extra = {"ContainerName": COLLECTOR_CONTAINER_NAME} if enhanced else {}
        return self._ecs_metric("RestartCount", statistic="Maximum", **extra)

    def crash_lines(self) -> cloudwatch.Metric:
        """Crash lines counted by the log metric filter (Sum per period)."""
        if self.crash_metric_filter is None:
            raise OtelFargateError(
                "crash_lines: needs sidecar=True with collector_log_group and no ECS service"
            )
        return self.crash_metric_filter.metric(
            statistic="Sum", period=self._period, label="crash lines"
        )

    # ---------------------------------------------------------------------------- dashboard

    def _build_dashboard(self, *, has_ecs: bool, enhanced: bool) -> None:
        title = f"otel-fargate collector: {self.environment_name} / {self.service_name}"
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=f"# {title}\nNamespace `{self.namespace}`", width=24, height=2
            )
        )
        signal_widgets: list[cloudwatch.IWidget] = []
        for signal in ALL_SIGNALS:
            receivers = [r for r, s in self._receivers.items() if signal in s]
            exporters = [e for e, s in self._exporters.items() if signal in s]
            left: list[cloudwatch.IMetric] = [
                *(
                    self.receiver_metric(RECEIVER_ACCEPTED, r, signal, kind="accepted")
                    for r in receivers
                ),
                *(
                    self.receiver_metric(RECEIVER_REFUSED, r, signal, kind="refused")
                    for r in receivers
                ),
                *(self.exporter_metric(EXPORTER_SENT, e, signal, kind="sent") for e in exporters),
                *(
                    self.exporter_metric(EXPORTER_SEND_FAILED, e, signal, kind="failed")
                    for e in exporters
                ),
                *(
                    self.exporter_metric(EXPORTER_ENQUEUE_FAILED, e, signal, kind="dropped")
                    for e in exporters
                ),
            ]
            if left:
                signal_widgets.append(
                    cloudwatch.GraphWidget(
                        title=(
                            f"{SIGNAL_UNITS[signal].replace('_', ' ').capitalize()}: "
                            "accepted / refused / sent / failed"
                        ),
                        left=left,
                        width=8,
                        height=6,
                    )
                )
        self.dashboard.add_widgets(*signal_widgets)

        queue_metrics: list[cloudwatch.IMetric] = []
        for exporter in self._exporters:
            queue_metrics.append(self._queue_metric(telemetry.EXPORTER_QUEUE_SIZE, exporter))
            queue_metrics.append(self._queue_metric(telemetry.EXPORTER_QUEUE_CAPACITY, exporter))
        refusals: list[cloudwatch.IMetric] = [
            self.receiver_metric(RECEIVER_REFUSED, r, signal, kind="refused")
            for r, signal in _pairs(self._receivers)
        ]
        row: list[cloudwatch.IWidget] = []
        if queue_metrics:
            row.append(
                cloudwatch.GraphWidget(
                    title="Exporter queue: size vs capacity", left=queue_metrics, width=12, height=6
                )
            )
        row.append(
            cloudwatch.GraphWidget(
                title="Memory limiter: refused by receivers", left=refusals, width=12, height=6
            )
        )
        self.dashboard.add_widgets(*row)

        limit_bytes = self.memory_limit_mib * _MIB
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Process memory (RSS) vs container limit",
                left=[
                    self._metric(
                        telemetry.PROCESS_MEMORY_RSS, statistic="Maximum", label="RSS bytes (max)"
                    )
                ],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(
                        value=limit_bytes,
                        label=f"memory limit {self.memory_limit_mib} MiB",
                        color=cloudwatch.Color.RED,
                    )
                ],
                left_y_axis=cloudwatch.YAxisProps(min=0),
                width=8,
                height=6,
            ),
            cloudwatch.GraphWidget(
                title="Process CPU (seconds used per period)",
                left=[
                    self._metric(
                        telemetry.PROCESS_CPU_SECONDS, statistic="Sum", label="CPU seconds"
                    )
                ],
                width=8,
                height=6,
            ),
            cloudwatch.GraphWidget(
                title="Process uptime (drops on restart or new task)",
                left=[
                    self._metric(
                        telemetry.PROCESS_UPTIME, statistic="Minimum", label="uptime s (min)"
                    )
                ],
                width=8,
                height=6,
            ),
        )

        ecs_row: list[cloudwatch.IWidget] = []
        if has_ecs:
            ecs_row.append(
                cloudwatch.GraphWidget(
                    title="ECS tasks: running vs desired",
                    left=[
                        self._ecs_metric("RunningTaskCount", statistic="Average"),
                        self._ecs_metric("DesiredTaskCount", statistic="Average"),
                    ],
                    left_y_axis=cloudwatch.YAxisProps(min=0),
                    width=12,
                    height=6,
                )
            )
            restarts: cloudwatch.IMetric = self.container_restarts(enhanced=enhanced)
        elif self.crash_metric_filter is not None:
            restarts = self.crash_lines()
        if has_ecs or self.crash_metric_filter is not None:
            ecs_row.append(
                cloudwatch.GraphWidget(
                    title="Collector container restarts",
                    left=[restarts],
                    left_y_axis=cloudwatch.YAxisProps(min=0),
                    width=12,
                    height=6,
                )
            )
        if ecs_row:
            self.dashboard.add_widgets(*ecs_row)

        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=list(self.alarms.values()), width=24, height=4
            )
        )


def _pairs(components: Mapping[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    return [(name, signal) for name, signals in components.items() for signal in signals]


def _fill_sum(
    metrics: Mapping[str, cloudwatch.IMetric], *, period: Duration, label: str
) -> cloudwatch.MathExpression:
    # FILL(m, 0) lets a series that reported nothing this period count as zero instead of
    # blanking the sum; when no series reports at all, the sum stays missing.
    expression = " + ".join(f"FILL({metric_id}, 0)" for metric_id in metrics)
    return cloudwatch.MathExpression(
        expression=expression, using_metrics=dict(metrics), period=period, label=label
    )


def _construct_id(key: str) -> str:
    return "".join(part.capitalize() for part in key.split("_")) + "Alarm"


def _require_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise OtelFargateError(f"{name} must be a non-empty string, got {value!r}")


def _require_percent(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 100:
        raise OtelFargateError(f"{name} must be in (0, 100], got {value!r}")


def _require_non_negative(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise OtelFargateError(f"{name} must be a number >= 0, got {value!r}")


def _validate_components(
    name: str, components: Mapping[str, Sequence[str]]
) -> dict[str, tuple[str, ...]]:
    if not isinstance(components, Mapping) or not components:
        raise OtelFargateError(
            f"{name} must map at least one component id to its signals, got {components!r}"
        )
    result: dict[str, tuple[str, ...]] = {}
    for component, signals in components.items():
        if not isinstance(component, str) or not component.strip():
            raise OtelFargateError(
                f"{name}: component ids must be non-empty strings, got {component!r}"
            )
        if isinstance(signals, str) or not signals:
            raise OtelFargateError(
                f"{name}[{component!r}] must be a non-empty list of signals "
                f"{list(ALL_SIGNALS)}, got {signals!r}"
            )
        for signal in signals:
            if signal not in SIGNAL_UNITS:
                raise OtelFargateError(
                    f"{name}[{component!r}]: unknown signal {signal!r}, expected one of "
                    f"{list(ALL_SIGNALS)}"
                )
        if len(set(signals)) != len(signals):
            raise OtelFargateError(
                f"{name}[{component!r}]: signals must be unique, got {list(signals)!r}"
            )
        result[component] = tuple(signals)
    return result


def monitor_collector(
    scope: Construct,
    *,
    rendered_config: Mapping[str, object],
    **options: Any,
) -> CollectorMonitoring:
    """A :class:`CollectorMonitoring` named ``Monitoring`` for a collector running
    ``rendered_config`` (a rendered config dict): alarms cover the exporters and receivers
    its pipelines use."""
    exporters, receivers = pipeline_components(rendered_config)
    return CollectorMonitoring(
        scope, "Monitoring", exporters=exporters, receivers=receivers, **options
    )


def pipeline_components(
    config: Mapping[str, object], *, skip_pipelines: Sequence[str] = ("metrics/self",)
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """The ``(exporters, receivers)`` arguments of :class:`CollectorMonitoring` for a config.

    Reads ``service.pipelines`` of a rendered collector configuration (a dict): each
    pipeline's signal is the part of its name before ``/``.

    :param skip_pipelines: pipelines left out. default: ``metrics/self``, the pipeline that
        ships the collector's own metrics.
    """
    service = config.get("service")
    pipelines = service.get("pipelines") if isinstance(service, Mapping) else None
    if not isinstance(pipelines, Mapping):
        raise OtelFargateError(
            f"service.pipelines must be a mapping of pipelines, got {pipelines!r}"
        )
    exporters: dict[str, list[str]] = {}
    receivers: dict[str, list[str]] = {}
    for name, pipeline in pipelines.items():
        if name in skip_pipelines:
            continue
        signal = str(name).split("/", 1)[0]
        if signal not in SIGNAL_UNITS or not isinstance(pipeline, Mapping):
            continue
        for target, key in ((exporters, "exporters"), (receivers, "receivers")):
            for component in pipeline.get(key) or ():
                signals = target.setdefault(str(component), [])
                if signal not in signals:
                    signals.append(signal)
    return (
        {k: tuple(v) for k, v in exporters.items()},
        {k: tuple(v) for k, v in receivers.items()},
    )
