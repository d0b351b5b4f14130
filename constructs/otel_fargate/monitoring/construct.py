"""CollectorMonitoring: the dashboard and alarms of one collector deployment.

Restarts of a sidecar collector. ECS restarts a container in place when its restart policy
allows it: the task, its id and the service's task counts stay the same, so only ECS itself
sees the restart. The primary source is therefore the Container Insights ``RestartCount``
metric (namespace ``ECS/ContainerInsights``), used whenever the ECS service is known; with
enhanced observability it carries a ``ContainerName`` dimension, so the alarm watches the
``otel-collector`` container alone. When only the collector's log group is known (a sidecar
added to a task definition whose service is created elsewhere), a metric filter counts the
lines a collector writes when it dies (a Go ``panic:``/``fatal error:`` or the collector's
``collector server run finished with error``); an out-of-memory kill writes nothing, which
is why ``memory_high`` keeps its state when data goes missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from aws_cdk import Annotations, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from otel_fargate.checks import check_choice
from otel_fargate.monitoring import alarms as table
from otel_fargate.monitoring import containers, gates, validation
from otel_fargate.monitoring.dashboard import build_dashboard
from otel_fargate.monitoring.metrics import CollectorMetrics, report_interval
from otel_fargate.monitoring.tier import tier_alarms, tier_of, tier_row
from otel_fargate.monitoring.validation import pipeline_components
from otel_fargate.names import (
    NAME_PREFIX,
    SELF_TELEMETRY_NAMESPACE,
)

#: Namespace of the metric the crash-line filter publishes (``collector_log_group`` only).
CRASH_METRIC_NAMESPACE: Final = "OtelFargate/CollectorLogs"
#: Metric filters cannot set fixed dimensions, so the metric name carries environment and
#: service: ``CollectorCrashLines-<environment>-<service>``.
CRASH_METRIC_NAME: Final = "CollectorCrashLines-{environment}-{service}"
#: Lines a dying collector writes: Go runtime panics/fatal errors, the collector's exit error.
CRASH_FILTER_PATTERN: Final = (
    '?"panic: " ?"fatal error: " ?"collector server run finished with error"'
)


class CollectorMonitoring(Construct):
    """A CloudWatch dashboard and alarms for one collector deployment of one environment.

    Alarms, keyed in :attr:`alarms` by short stable names:

    - ``export_failures``: exporters failed to send spans, metric points or log records
      (needs ``exporters``).
    - ``queue_utilization``: an exporter's sending queue is filling up (needs ``exporters``).
    - ``receiver_refusals``: receivers refused data (the memory limiter pushing back).
    - ``memory_high``: collector RSS close to the container's memory limit.
    - ``collector_heartbeat``: the collector's own metrics stopped arriving (missing data
      breaches): a collector that died for good, which no other alarm sees.
    - ``tasks_below_desired``: gateway with a known ECS service: fewer running tasks than
      desired.
    - ``collector_restarts``: sidecar: ECS restarted the collector container in place
      (Container Insights ``RestartCount`` with a known ECS service, otherwise crash lines in
      ``collector_log_group``).
    - ``routing_failures`` and ``no_samplers``: a routing gateway (``tier="routing"``) failed
      to send traces to samplers, or resolves none.
    - ``traces_dropped_early``: samplers (``tier="sampling"``) dropped traces undecided.

    Args:
        scope: the parent construct.
        id: the construct id.
        environment_name: value of the ``environment`` dimension of the collector's metrics.
        service_name: value of the ``service`` dimension of the collector's metrics.
        memory_limit_mib: memory limit of the collector container; the RSS graph draws it and
            ``memory_high`` is a percentage of it.
        exporters: exporter component ids (``awsxray``, ``otlp_grpc/gateway``) mapped to the
            signals they export. Default: no exporter graphs and no
            ``export_failures``/``queue_utilization`` alarms (a synth warning says so).
        receivers: receiver component ids mapped to the signals they receive. Default:
            ``{"otlp": ("traces", "metrics", "logs")}``.
        namespace: CloudWatch namespace of the collector's metrics. Default:
            ``OtelFargate/Collector``.
        service: the ECS service running the collector; adds task counts and the Container
            Insights restart count. Default: no ECS graphs or alarms unless
            ``ecs_cluster_name`` and ``ecs_service_name`` are given.
        ecs_cluster_name: cluster name for the ECS metrics when ``service`` is not a construct
            of this app. Default: taken from ``service``.
        ecs_service_name: ECS service name, given together with ``ecs_cluster_name``.
            Default: taken from ``service``.
        collector_log_group: the collector container's log group; for a sidecar whose ECS
            service is unknown, ``collector_restarts`` counts crash lines in it. Default: no
            log-based restart detection.
        sidecar: the collector runs as a sidecar (``collector_restarts``) rather than a
            gateway (``tasks_below_desired``). Default: a gateway.
        container_insights_enhanced: the cluster has Container Insights with enhanced
            observability, so restarts are counted for the ``otel-collector`` container
            alone. Default: restarts of any container of the service count.
        alarm_topic: SNS topic notified when an alarm fires and when it recovers. Default:
            alarms notify nobody.
        dashboard_name: dashboard names are unique per account, across regions. Default:
            ``otel-fargate-<environment>-<service>-<region>``.
        period_seconds: aggregation period of graphs and alarms; 10, 30 or a multiple of 60.
            Default: one minute.
        evaluation_periods: periods each alarm looks back. Default: 5.
        datapoints_to_alarm: breaching periods within ``evaluation_periods`` that fire the
            data-plane alarms. Default: 3.
        export_failure_threshold: failed items per period above which ``export_failures``
            breaches. Default: any failure (0).
        queue_utilization_threshold_percent: queue size as a percentage of capacity above
            which ``queue_utilization`` breaches, in (0, 100]. Default: 50. The presets size
            each queue to the memory limiter's hard limit and the limiter refuses new data
            once the heap reaches 75 % of it, so a queue never gets much past 75 %: an
            alarm at 80 % could never fire, one at 50 % fires while data still flows.
        refused_threshold: refused items per period above which ``receiver_refusals``
            breaches. Default: any refusal (0).
        memory_utilization_threshold_percent: RSS as a percentage of ``memory_limit_mib``
            above which ``memory_high`` breaches, in (0, 100]. Default: 90.
        restart_threshold: restarts (or crash lines) per period above which
            ``collector_restarts`` breaches. Default: any restart (0).
        tier: ``"routing"`` (a gateway routing traces to samplers) or ``"sampling"`` (a
            sampler) adds that tier's alarms and dashboard row. Default: neither; the
            constructs derive it from the configuration.
        self_telemetry_interval_seconds: how often each collector pushes its own metrics;
            ``collector_heartbeat`` expects period / interval uptime reports per task.
            Default: 60 s, as the presets render it (the constructs read it from the
            configuration).
        deployment_gates: also create the deployment gates (:attr:`deployment_gates`), the
            alarms an ECS deployment rolls back on. Default: none; the gateway and the
            samplers ask for them, a sidecar when ``deployment_rollback=True``.
        container_metrics: the container metrics the collector publishes into the namespace
            (``telemetry.CONTAINER_METRIC_GROUPS``): each published app-container CPU and
            memory metric gets a graph, and with both ephemeral-storage metrics a graph and
            the ``ephemeral_storage`` alarm (above 80 % of what the task reserves). Default:
            none; ``monitor_collector`` derives them from the configuration.

    Attributes:
        alarms: the ``cloudwatch.Alarm`` of each name above that applies, by name.
        deployment_gates: the alarms a deployment rolls back on, by name; empty without
            ``deployment_gates``.
        dashboard: the ``cloudwatch.Dashboard``.
        crash_metric_filter: the ``logs.MetricFilter`` counting crash lines, or None.
        metrics: the collector's metrics (``CollectorMetrics``) the graphs and alarms read.
        report_interval: the seconds between two reports of one collector's own metrics.
        environment_name, service_name, namespace, memory_limit_mib, sidecar, tier,
            container_metrics, ecs_cluster_name, ecs_service_name: what was passed in (the
            ECS names taken from ``service`` when it is given).
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
        queue_utilization_threshold_percent: float = 50,
        refused_threshold: float = 0,
        memory_utilization_threshold_percent: float = 90,
        restart_threshold: float = 0,
        tier: str | None = None,
        deployment_gates: bool = False,
        self_telemetry_interval_seconds: int = 60,
        container_metrics: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        namespace = namespace if namespace is not None else SELF_TELEMETRY_NAMESPACE
        exporter_signals, receiver_signals = validation.check_props(
            environment_name=environment_name,
            service_name=service_name,
            namespace=namespace,
            memory_limit_mib=memory_limit_mib,
            exporters=exporters,
            receivers=receivers,
        )
        validation.ecs_names(service is not None, ecs_cluster_name, ecs_service_name)
        self.report_interval = validation.evaluation(
            period_seconds, evaluation_periods, datapoints_to_alarm, self_telemetry_interval_seconds
        )
        validation.thresholds(
            queue_percent=queue_utilization_threshold_percent,
            memory_percent=memory_utilization_threshold_percent,
            export_failures=export_failure_threshold,
            refused=refused_threshold,
            restarts=restart_threshold,
        )
        name = _dashboard_name(self, dashboard_name, f"{environment_name}-{service_name}")
        self.environment_name, self.service_name = environment_name, service_name
        self.tier = check_choice("tier", tier, ("routing", "sampling", None))
        self.container_metrics = validation.container_metrics(container_metrics)
        self.namespace, self.memory_limit_mib, self.sidecar = namespace, memory_limit_mib, sidecar
        self.ecs_cluster_name = service.cluster.cluster_name if service else ecs_cluster_name
        self.ecs_service_name = service.service_name if service else ecs_service_name
        self.metrics = CollectorMetrics(
            namespace=namespace,
            environment_name=environment_name,
            service_name=service_name,
            period=Duration.seconds(period_seconds),
            exporters=exporter_signals,
            receivers=receiver_signals,
            ecs_cluster_name=self.ecs_cluster_name,
            ecs_service_name=self.ecs_service_name,
        )
        settings = table.AlarmSettings(
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            export_failure_threshold=export_failure_threshold,
            queue_utilization_threshold_percent=queue_utilization_threshold_percent,
            refused_threshold=refused_threshold,
            memory_utilization_threshold_percent=memory_utilization_threshold_percent,
            restart_threshold=restart_threshold,
            memory_limit_mib=memory_limit_mib,
            alarm_topic=alarm_topic,
        )
        self._build(settings, collector_log_group, enhanced=container_insights_enhanced, name=name)
        #: Deployment gates by short stable name (:mod:`otel_fargate.monitoring.gates`): the
        #: alarms an ECS deployment rolls back on. Empty unless ``deployment_gates``.
        self.deployment_gates: dict[str, cloudwatch.Alarm] = {}
        if deployment_gates:
            self._add_gates(settings)

    def _build(
        self,
        settings: table.AlarmSettings,
        log_group: logs.ILogGroup | None,
        *,
        enhanced: bool,
        name: str,
    ) -> None:
        """Create the alarms, then the dashboard that shows them."""
        #: The crash-line metric filter (sidecar with a log group and no ECS service), or None.
        self.crash_metric_filter: logs.MetricFilter | None = None
        restarts, specs = self._alarm_specs(settings, log_group, enhanced=enhanced)
        #: Alarms by short stable name (see the class docstring).
        self.alarms: dict[str, cloudwatch.Alarm] = {
            spec.key: table.add_alarm(self, spec, settings) for spec in specs
        }
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=name,
            period_override=cloudwatch.PeriodOverride.INHERIT,
        )
        build_dashboard(
            self.dashboard,
            self.metrics,
            memory_limit_mib=self.memory_limit_mib,
            restarts=restarts,
            alarms=list(self.alarms.values()),
            extra_row=[
                *tier_row(self.metrics, self.tier),
                *containers.containers_row(self.metrics, self.container_metrics),
            ],
        )

    def _add_gates(self, settings: table.AlarmSettings) -> None:
        """The export-failure gates, and a sidecar's crash-line alarm, which ECS cannot see
        otherwise (its collector container is not essential).
        """
        where = f"environment {self.environment_name}, service {self.service_name}"
        self.deployment_gates.update(gates.add_gates(self, self.metrics, settings, where))
        if self.crash_metric_filter is not None and "collector_restarts" in self.alarms:
            restarts = gates.name_at_synth(self.alarms["collector_restarts"])
            self.deployment_gates["collector_restarts"] = restarts

    def _alarm_specs(
        self,
        settings: table.AlarmSettings,
        log_group: logs.ILogGroup | None,
        *,
        enhanced: bool,
    ) -> tuple[cloudwatch.IMetric | None, list[table.AlarmSpec]]:
        m = self.metrics
        where = f"environment {self.environment_name}, service {self.service_name}"
        specs: list[table.AlarmSpec] = []
        if m.exporters:
            specs += table.exporter_alarms(m, settings, where)
        else:
            Annotations.of(self).add_warning_v2(
                "otel-fargate:monitoring-no-exporters",
                "exporters not given: no export_failures or queue_utilization alarm and no "
                "exporter graphs. Pass exporters={component id: [signals]}.",
            )
        specs += table.data_plane_alarms(m, settings, where)
        specs += tier_alarms(m, settings, where, self.tier)
        specs.append(
            table.heartbeat_alarm(m, settings, where, interval_seconds=self.report_interval)
        )
        disk = containers.disk_alarm(m, settings, where, self.container_metrics)
        if disk is not None:
            specs.append(disk)
        if m.has_ecs and not self.sidecar:
            specs.append(table.tasks_alarm(m, settings, where, self.environment_name))
        restarts = self._restart_metric(log_group, enhanced=enhanced)
        if restarts is not None and self.sidecar:
            source = (
                "crash-lines"
                if self.crash_metric_filter is not None
                else ("insights-container" if enhanced else "insights-service")
            )
            specs.append(table.restart_alarm(restarts, settings, where, source=source))
        elif self.sidecar:
            Annotations.of(self).add_warning_v2(
                "otel-fargate:monitoring-no-restart-alarm",
                "sidecar without service, ecs_cluster_name/ecs_service_name or "
                "collector_log_group: collector restarts go unnoticed (no alarm).",
            )
        return restarts, specs

    def _restart_metric(
        self, log_group: logs.ILogGroup | None, *, enhanced: bool
    ) -> cloudwatch.IMetric | None:
        """Container Insights restarts when the service is known; for a sidecar with only a
        log group, crash lines counted by a metric filter; else nothing.
        """
        if self.metrics.has_ecs:
            return self.metrics.container_restarts(enhanced=enhanced)
        if not self.sidecar or log_group is None:
            return None
        self.crash_metric_filter = logs.MetricFilter(
            self,
            "CrashLines",
            log_group=log_group,
            filter_pattern=logs.FilterPattern.literal(CRASH_FILTER_PATTERN),
            metric_namespace=CRASH_METRIC_NAMESPACE,
            metric_name=CRASH_METRIC_NAME.format(
                environment=self.environment_name, service=self.service_name
            ),
            metric_value="1",
            default_value=0,
        )
        return self.crash_metric_filter.metric(
            statistic="Sum", period=self.metrics.period, label="crash lines"
        )


def _dashboard_name(scope: Construct, given: str | None, environment_service: str) -> str:
    """``given``, checked, or ``otel-fargate-<environment>-<service>-<region>``."""
    if given is not None:
        return validation.dashboard_name(given, derived=False)
    derived = validation.dashboard_name(f"{NAME_PREFIX}-{environment_service}", derived=True)
    return derived + f"-{Stack.of(scope).region}"


def monitor_collector(
    scope: Construct, *, rendered_config: Mapping[str, object], **options: Any
) -> CollectorMonitoring:
    """A CollectorMonitoring named ``Monitoring`` whose alarms cover the exporters and
    receivers the pipelines of ``rendered_config`` use; ``options`` are its other props.
    """
    exporters, receivers = pipeline_components(rendered_config)
    return CollectorMonitoring(
        scope,
        "Monitoring",
        exporters=exporters,
        receivers=receivers,
        tier=tier_of(rendered_config),
        self_telemetry_interval_seconds=report_interval(rendered_config),
        container_metrics=containers.published_container_metrics(rendered_config),
        **options,
    )
