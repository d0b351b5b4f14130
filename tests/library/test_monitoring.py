"""CollectorMonitoring: dashboard, alarms, alarm actions and validation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template
from otel_fargate import telemetry
from otel_fargate.errors import OtelFargateError
from otel_fargate.monitoring import (
    CRASH_FILTER_PATTERN,
    CollectorMonitoring,
    pipeline_components,
)

from tests.alarm_math import alarm_states, evaluate

MIB = 1024 * 1024


@dataclass
class Built:
    stack: cdk.Stack
    template: Template
    monitoring: CollectorMonitoring


@dataclass
class _Pending:
    stack: cdk.Stack
    monitoring: CollectorMonitoring


def _dims(**values: Any) -> list[dict[str, Any]]:
    return [{"Name": k, "Value": v} for k, v in sorted(values.items())]


def _alarm(built: Built, key: str) -> dict[str, Any]:
    alarm = built.monitoring.alarms[key]
    logical_id = built.stack.get_logical_id(alarm.node.default_child)  # type: ignore[arg-type]
    resources = built.template.find_resources("AWS::CloudWatch::Alarm")
    props: dict[str, Any] = resources[logical_id]["Properties"]
    return props


def _metric_stats(props: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Metric queries of a metric-math alarm, by id."""
    return {q["Id"]: q["MetricStat"] for q in props["Metrics"] if "MetricStat" in q}


def _expression(props: dict[str, Any]) -> str:
    (expr,) = [q["Expression"] for q in props["Metrics"] if "Expression" in q]
    return str(expr)


@pytest.fixture(scope="module")
def app_stacks() -> dict[str, Built]:
    """GIVEN one app with a gateway, two sidecar variants and a bare sidecar (one synth)."""
    app = cdk.App()
    out: dict[str, _Pending] = {}

    gw = cdk.Stack(app, "Gateway")
    vpc = ec2.Vpc(gw, "Vpc", max_azs=2, nat_gateways=0)
    cluster = ecs.Cluster(gw, "Cluster", vpc=vpc)
    task = ecs.FargateTaskDefinition(gw, "Task", cpu=512, memory_limit_mib=1024)
    task.add_container("otel-collector", image=ecs.ContainerImage.from_registry("collector"))
    service = ecs.FargateService(gw, "Service", cluster=cluster, task_definition=task)
    topic = sns.Topic(gw, "Topic")
    out["gateway"] = _Pending(
        gw,
        CollectorMonitoring(
            gw,
            "Monitoring",
            environment_name="prod",
            service_name="gateway",
            memory_limit_mib=1024,
            exporters={"awsxray": ["traces"], "awsemf": ["metrics"]},
            service=service,
            alarm_topic=topic,
        ),
    )

    sc = cdk.Stack(app, "Sidecar")
    out["sidecar"] = _Pending(
        sc,
        CollectorMonitoring(
            sc,
            "Monitoring",
            environment_name="dev",
            service_name="shop",
            memory_limit_mib=256,
            exporters={"otlp_grpc/gateway": ["traces", "metrics", "logs"]},
            ecs_cluster_name="apps",
            ecs_service_name="shop",
            sidecar=True,
            container_insights_enhanced=True,
            self_telemetry_interval_seconds=10,
            memory_utilization_threshold_percent=75,
            queue_utilization_threshold_percent=50,
        ),
    )

    lg = cdk.Stack(app, "SidecarLogs")
    log_group = logs.LogGroup(lg, "CollectorLogs")
    out["sidecar_logs"] = _Pending(
        lg,
        CollectorMonitoring(
            lg,
            "Monitoring",
            environment_name="dev",
            service_name="billing",
            memory_limit_mib=512,
            sidecar=True,
            collector_log_group=log_group,
            restart_threshold=2,
        ),
    )

    bare = cdk.Stack(app, "Bare")
    out["bare"] = _Pending(
        bare,
        CollectorMonitoring(
            bare,
            "Monitoring",
            environment_name="dev",
            service_name="bare",
            memory_limit_mib=512,
            sidecar=True,
        ),
    )
    return {
        name: Built(p.stack, Template.from_stack(p.stack), p.monitoring) for name, p in out.items()
    }


# --------------------------------------------------------------------------- gateway


def test_gateway_has_the_gateway_alarm_set(app_stacks: dict[str, Built]) -> None:
    # WHEN the gateway monitoring is built with exporters and an ECS service
    # THEN it has the data-plane alarms and tasks_below_desired, not the sidecar restart alarm
    assert set(app_stacks["gateway"].monitoring.alarms) == {
        "export_failures",
        "queue_utilization",
        "receiver_refusals",
        "memory_high",
        "collector_heartbeat",
        "tasks_below_desired",
    }
    app_stacks["gateway"].template.resource_count_is("AWS::CloudWatch::Alarm", 6)


def test_export_failures_sums_send_failed_of_each_exporter_signal(
    app_stacks: dict[str, Built],
) -> None:
    props = _alarm(app_stacks["gateway"], "export_failures")
    stats = _metric_stats(props)
    # THEN every exporter/signal pair is read with its own dimensions, summed with FILL
    assert {s["Metric"]["MetricName"] for s in stats.values()} == {
        telemetry.EXPORTER_SEND_FAILED_SPANS,
        telemetry.EXPORTER_SEND_FAILED_METRIC_POINTS,
    }
    by_name = {s["Metric"]["MetricName"]: s for s in stats.values()}
    spans = by_name[telemetry.EXPORTER_SEND_FAILED_SPANS]
    assert spans["Metric"]["Namespace"] == "OtelFargate/Collector"
    assert spans["Metric"]["Dimensions"] == _dims(
        environment="prod", service="gateway", exporter="awsxray"
    )
    assert spans["Stat"] == "Sum"
    assert by_name[telemetry.EXPORTER_SEND_FAILED_METRIC_POINTS]["Metric"]["Dimensions"] == (
        _dims(environment="prod", service="gateway", exporter="awsemf")
    )
    assert _expression(props) == "FILL(f0, 0) + FILL(f1, 0)"
    assert props["Threshold"] == 0
    assert props["ComparisonOperator"] == "GreaterThanThreshold"
    assert props["TreatMissingData"] == "notBreaching"
    assert props["EvaluationPeriods"] == 5
    assert props["DatapointsToAlarm"] == 3
    assert "Exporting failed" in props["AlarmDescription"]
    assert "environment prod, service gateway" in props["AlarmDescription"]


def test_queue_utilization_is_size_over_capacity_of_the_fullest_queue(
    app_stacks: dict[str, Built],
) -> None:
    props = _alarm(app_stacks["gateway"], "queue_utilization")
    stats = _metric_stats(props)
    assert _expression(props) == "MAX([100*qs0/qc0, 100*qs1/qc1])"
    assert stats["qs0"]["Metric"]["MetricName"] == telemetry.EXPORTER_QUEUE_SIZE
    assert stats["qc0"]["Metric"]["MetricName"] == telemetry.EXPORTER_QUEUE_CAPACITY
    assert stats["qs1"]["Metric"]["Dimensions"] == _dims(
        environment="prod", service="gateway", exporter="awsemf"
    )
    assert stats["qs0"]["Stat"] == "Maximum"
    assert props["Threshold"] == 50
    assert props["TreatMissingData"] == "notBreaching"
    assert "sending queue is above 50%" in props["AlarmDescription"]


def test_the_default_queue_alarm_can_fire_before_the_limiter_refuses(
    app_stacks: dict[str, Built],
) -> None:
    # GIVEN queues sized to the memory limiter's hard limit, which refuses new data once the
    # heap reaches (1 - spike fraction) of it: the queue cannot grow much past that point
    from otel_fargate.config.core.sizing import SPIKE_FRACTION

    refusal_percent = 100 * (1 - SPIKE_FRACTION)
    # THEN the default threshold lies below it, so the alarm can fire while data still flows
    threshold = _alarm(app_stacks["gateway"], "queue_utilization")["Threshold"]
    assert threshold < refusal_percent


def test_receiver_refusals_reads_refused_of_every_default_receiver_signal(
    app_stacks: dict[str, Built],
) -> None:
    props = _alarm(app_stacks["gateway"], "receiver_refusals")
    stats = _metric_stats(props)
    assert {s["Metric"]["MetricName"] for s in stats.values()} == {
        telemetry.RECEIVER_REFUSED_SPANS,
        telemetry.RECEIVER_REFUSED_METRIC_POINTS,
        telemetry.RECEIVER_REFUSED_LOG_RECORDS,
    }
    for stat in stats.values():
        assert stat["Metric"]["Dimensions"] == _dims(
            environment="prod", service="gateway", receiver="otlp"
        )
    assert props["Threshold"] == 0
    assert "memory limiter" in props["AlarmDescription"]


def test_memory_high_is_ninety_percent_of_the_limit_and_keeps_state_when_missing(
    app_stacks: dict[str, Built],
) -> None:
    app_stacks["gateway"].template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": telemetry.PROCESS_MEMORY_RSS,
            "Namespace": "OtelFargate/Collector",
            "Dimensions": _dims(environment="prod", service="gateway"),
            "Statistic": "Maximum",
            "Threshold": 1024 * MIB * 0.9,
            "TreatMissingData": "missing",
            "AlarmDescription": Match.string_like_regexp("above 90% of its 1024 MiB limit"),
        },
    )


def test_tasks_below_desired_uses_container_insights_of_the_service(
    app_stacks: dict[str, Built],
) -> None:
    built = app_stacks["gateway"]
    props = _alarm(built, "tasks_below_desired")
    stats = _metric_stats(props)
    assert _expression(props) == "desired - running"
    assert stats["desired"]["Metric"]["MetricName"] == "DesiredTaskCount"
    assert stats["running"]["Metric"]["MetricName"] == "RunningTaskCount"
    assert stats["running"]["Metric"]["Namespace"] == "ECS/ContainerInsights"
    service_id = built.stack.resolve(
        built.stack.get_logical_id(
            built.stack.node.find_child("Service").node.default_child  # type: ignore[arg-type]
        )
    )
    dims = {d["Name"]: d["Value"] for d in stats["running"]["Metric"]["Dimensions"]}
    assert dims["ServiceName"] == {"Fn::GetAtt": [service_id, "Name"]}
    assert "Ref" in dims["ClusterName"]
    assert props["TreatMissingData"] == "breaching"
    # a sustained shortfall: every evaluation period
    assert props["DatapointsToAlarm"] == props["EvaluationPeriods"] == 5
    assert "python -m tools.cli verify --env prod" in props["AlarmDescription"]


def test_topic_receives_alarm_and_ok_actions(app_stacks: dict[str, Built]) -> None:
    built = app_stacks["gateway"]
    topic_id = built.stack.get_logical_id(
        built.stack.node.find_child("Topic").node.default_child  # type: ignore[arg-type]
    )
    for key in built.monitoring.alarms:
        props = _alarm(built, key)
        assert props["AlarmActions"] == [{"Ref": topic_id}], key
        assert props["OKActions"] == [{"Ref": topic_id}], key


def test_every_alarm_has_a_description_saying_where_to_look(
    app_stacks: dict[str, Built],
) -> None:
    for built in app_stacks.values():
        for key in built.monitoring.alarms:
            description = _alarm(built, key)["AlarmDescription"]
            assert "Look first" in description, key
            assert "Missing data" in description, key


def test_dashboard_graphs_rss_against_the_limit_and_the_ecs_task_counts(
    app_stacks: dict[str, Built],
) -> None:
    built = app_stacks["gateway"]
    (dashboard,) = built.template.find_resources("AWS::CloudWatch::Dashboard").values()
    # dashboard names are account-wide: the region keeps two regions' dashboards apart
    assert dashboard["Properties"]["DashboardName"] == {
        "Fn::Join": ["", ["otel-fargate-prod-gateway-", {"Ref": "AWS::Region"}]]
    }
    body = json.dumps(built.stack.resolve(dashboard["Properties"]["DashboardBody"]))
    for needle in (
        telemetry.RECEIVER_ACCEPTED_SPANS,
        telemetry.RECEIVER_REFUSED_METRIC_POINTS,
        telemetry.EXPORTER_SENT_SPANS,
        telemetry.EXPORTER_SEND_FAILED_METRIC_POINTS,
        telemetry.EXPORTER_QUEUE_SIZE,
        telemetry.EXPORTER_QUEUE_CAPACITY,
        telemetry.PROCESS_MEMORY_RSS,
        telemetry.PROCESS_CPU_SECONDS,
        "RunningTaskCount",
        "DesiredTaskCount",
        "RestartCount",
        "memory limit 1024 MiB",
        str(1024 * MIB),
    ):
        assert needle in body, needle


# --------------------------------------------------------------------------- sidecars


def test_sidecar_with_ecs_names_alarms_on_container_insights_restart_count(
    app_stacks: dict[str, Built],
) -> None:
    built = app_stacks["sidecar"]
    assert "tasks_below_desired" not in built.monitoring.alarms
    props = _alarm(built, "collector_restarts")
    (stat,) = _metric_stats(props).values()
    assert stat["Metric"] == {
        "Namespace": "ECS/ContainerInsights",
        "MetricName": "RestartCount",
        "Dimensions": [
            {"Name": "ClusterName", "Value": "apps"},
            {"Name": "ContainerName", "Value": "otel-collector"},
            {"Name": "ServiceName", "Value": "shop"},
        ],
    }
    assert stat["Stat"] == "Maximum"
    assert props["Threshold"] == 0
    assert props["DatapointsToAlarm"] == 1
    assert props["TreatMissingData"] == "notBreaching"
    assert "of the otel-collector container" in props["AlarmDescription"]


def test_sidecar_thresholds_are_applied(app_stacks: dict[str, Built]) -> None:
    built = app_stacks["sidecar"]
    assert _alarm(built, "memory_high")["Threshold"] == 256 * MIB * 0.75
    assert _alarm(built, "queue_utilization")["Threshold"] == 50
    assert _expression(_alarm(built, "queue_utilization")) == "100*qs0/qc0"
    assert _expression(_alarm(built, "export_failures")) == (
        "FILL(f0, 0) + FILL(f1, 0) + FILL(f2, 0)"
    )


def test_no_topic_means_no_actions(app_stacks: dict[str, Built]) -> None:
    for name in ("sidecar", "sidecar_logs", "bare"):
        for props in app_stacks[name].template.find_resources("AWS::CloudWatch::Alarm").values():
            assert "AlarmActions" not in props["Properties"]
            assert "OKActions" not in props["Properties"]


def test_sidecar_with_only_a_log_group_counts_crash_lines(app_stacks: dict[str, Built]) -> None:
    built = app_stacks["sidecar_logs"]
    log_group_id = built.stack.get_logical_id(
        built.stack.node.find_child("CollectorLogs").node.default_child  # type: ignore[arg-type]
    )
    built.template.has_resource_properties(
        "AWS::Logs::MetricFilter",
        {
            "LogGroupName": {"Ref": log_group_id},
            "FilterPattern": CRASH_FILTER_PATTERN,
            "MetricTransformations": [
                Match.object_like(
                    {
                        "MetricNamespace": "OtelFargate/CollectorLogs",
                        "MetricName": "CollectorCrashLines-dev-billing",
                        "MetricValue": "1",
                    }
                )
            ],
        },
    )
    props = _alarm(built, "collector_restarts")
    (stat,) = _metric_stats(props).values()
    assert stat["Metric"] == {
        "Namespace": "OtelFargate/CollectorLogs",
        "MetricName": "CollectorCrashLines-dev-billing",
    }
    assert stat["Stat"] == "Sum"
    assert props["Threshold"] == 2
    assert props["TreatMissingData"] == "notBreaching"
    assert "crash line" in props["AlarmDescription"]
    # without exporters: no exporter alarms, and a warning says so
    assert set(built.monitoring.alarms) == {
        "receiver_refusals",
        "memory_high",
        "collector_heartbeat",
        "collector_restarts",
    }
    Annotations.from_stack(built.stack).has_warning(
        "/SidecarLogs/Monitoring", Match.string_like_regexp("exporters not given")
    )


def test_sidecar_without_any_restart_source_warns(app_stacks: dict[str, Built]) -> None:
    built = app_stacks["bare"]
    assert "collector_restarts" not in built.monitoring.alarms
    built.template.resource_count_is("AWS::Logs::MetricFilter", 0)
    Annotations.from_stack(built.stack).has_warning(
        "/Bare/Monitoring", Match.string_like_regexp("collector restarts go unnoticed")
    )


# --------------------------------------------------------------------------- helpers


def test_pipeline_components_reads_signals_from_pipeline_names() -> None:
    config = {
        "service": {
            "pipelines": {
                "traces": {"receivers": ["otlp"], "exporters": ["awsxray"]},
                "metrics/app": {"receivers": ["otlp"], "exporters": ["awsemf"]},
                "logs": {"receivers": ["otlp"], "exporters": ["awscloudwatchlogs"]},
                "metrics/self": {"receivers": ["otlp/self"], "exporters": ["awsemf/self"]},
            }
        }
    }
    exporters, receivers = pipeline_components(config)
    assert exporters == {
        "awsxray": ("traces",),
        "awsemf": ("metrics",),
        "awscloudwatchlogs": ("logs",),
    }
    assert receivers == {"otlp": ("traces", "metrics", "logs")}


def test_pipeline_components_rejects_a_config_without_pipelines() -> None:
    with pytest.raises(OtelFargateError, match=r"service\.pipelines: must be a mapping.*None"):
        pipeline_components({"service": {}})


# --------------------------------------------------------------------------- validation

_VALID: dict[str, Any] = {
    "environment_name": "dev",
    "service_name": "gateway",
    "memory_limit_mib": 512,
}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"environment_name": ""}, r"environment_name: must be a non-empty string, got ''"),
        ({"service_name": "  "}, r"service_name: must be a non-empty string, got '  '"),
        ({"namespace": ""}, r"namespace: must be a non-empty string, got ''"),
        ({"memory_limit_mib": 0}, r"memory_limit_mib: must be a whole number >= 1, got 0"),
        ({"memory_limit_mib": 1.5}, r"memory_limit_mib: must be a whole number >= 1, got 1.5"),
        ({"exporters": {}}, r"exporters: must map at least one component id"),
        ({"exporters": {"": ["traces"]}}, r"exporters: component ids must be non-empty"),
        ({"exporters": {"awsxray": []}}, r"exporters\['awsxray'\]: must be a non-empty list"),
        ({"exporters": {"awsxray": "traces"}}, r"exporters\['awsxray'\]: must be a non-empty"),
        (
            {"exporters": {"awsxray": ["spans"]}},
            r"exporters\['awsxray'\]: unknown signal 'spans'",
        ),
        (
            {"receivers": {"otlp": ["logs", "logs"]}},
            r"receivers\['otlp'\]: signals must be unique",
        ),
        (
            {"exporters": {f"e{i}": ["traces", "metrics", "logs"] for i in range(4)}},
            r"exporters: an alarm can read at most 10 metrics, got 12 exporter/signal pairs",
        ),
        (
            {"exporters": {f"e{i}": ["traces"] for i in range(6)}},
            r"exporters: at most 5 exporters fit one queue alarm, got 6",
        ),
        (
            {"receivers": {f"r{i}": ["traces", "metrics", "logs"] for i in range(4)}},
            r"receivers: an alarm can read at most 10 metrics, got 12",
        ),
        (
            {"ecs_cluster_name": "c"},
            r"ecs_cluster_name and ecs_service_name must be given together, "
            r"got ecs_cluster_name='c', ecs_service_name=None",
        ),
        (
            {"ecs_cluster_name": "", "ecs_service_name": "s"},
            r"ecs_cluster_name: must be a non-empty string, got ''",
        ),
        ({"period_seconds": 45}, r"period_seconds: must be 10, 30 or a positive multiple of 60"),
        ({"period_seconds": 0}, r"period_seconds: must be .*got 0"),
        ({"evaluation_periods": 0}, r"evaluation_periods: must be a whole number >= 1, got 0"),
        (
            {"evaluation_periods": 2, "datapoints_to_alarm": 3},
            r"datapoints_to_alarm: must be a whole number from 1 to 2, got 3",
        ),
        (
            {"period_seconds": 3600, "evaluation_periods": 25, "datapoints_to_alarm": 1},
            r"period_seconds \* evaluation_periods must not exceed one day .*got 90000",
        ),
        (
            {"queue_utilization_threshold_percent": 120},
            r"queue_utilization_threshold_percent: must be a number > 0 and <= 100, got 120",
        ),
        (
            {"queue_utilization_threshold_percent": 0},
            r"queue_utilization_threshold_percent: must be a number > 0 and <= 100, got 0",
        ),
        (
            {"memory_utilization_threshold_percent": 101},
            r"memory_utilization_threshold_percent: must be a number > 0 and <= 100, got 101",
        ),
        ({"export_failure_threshold": -1}, r"export_failure_threshold: must be a number >= 0"),
        ({"refused_threshold": -0.5}, r"refused_threshold: must be a number >= 0, got -0.5"),
        ({"restart_threshold": -1}, r"restart_threshold: must be a number >= 0, got -1"),
        (
            {"self_telemetry_interval_seconds": 0},
            r"self_telemetry_interval_seconds: must be a whole number >= 1, got 0",
        ),
        (
            {"dashboard_name": "my dashboard"},
            r"dashboard_name: must be 1-255 letters, digits, '-' or '_', got 'my dashboard'",
        ),
        (
            {"service_name": "api/v2"},
            r"dashboard_name: .*got 'otel-fargate-dev-api/v2' "
            r"\(from environment_name/service_name\)",
        ),
    ],
)
def test_invalid_options_are_rejected_naming_the_option(
    overrides: dict[str, Any], message: str
) -> None:
    # GIVEN a stack
    stack = cdk.Stack(cdk.App(), "Invalid")
    # WHEN the monitoring gets one bad option THEN the error names it and the value
    with pytest.raises(OtelFargateError, match=message):
        CollectorMonitoring(stack, "Monitoring", **{**_VALID, **overrides})


def test_service_and_ecs_names_are_mutually_exclusive() -> None:
    stack = cdk.Stack(cdk.App(), "Both")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
    cluster = ecs.Cluster(stack, "Cluster", vpc=vpc)
    task = ecs.FargateTaskDefinition(stack, "Task")
    task.add_container("otel-collector", image=ecs.ContainerImage.from_registry("collector"))
    service = ecs.FargateService(stack, "Service", cluster=cluster, task_definition=task)
    with pytest.raises(
        OtelFargateError,
        match=r"give either service or the names, got service and ecs_cluster_name='c'",
    ):
        CollectorMonitoring(
            stack,
            "Monitoring",
            **_VALID,
            service=service,
            ecs_cluster_name="c",
            ecs_service_name="s",
        )


def _heartbeat(built: Built) -> tuple[str, dict[str, dict[str, Any]], dict[str, Any]]:
    props = _alarm(built, "collector_heartbeat")
    (expression,) = [q["Expression"] for q in props["Metrics"] if "Expression" in q]
    return expression, _metric_stats(props), props


def test_heartbeat_compares_reports_with_the_running_task_count(
    app_stacks: dict[str, Built],
) -> None:
    # GIVEN monitoring of a gateway (own metrics every 60 s) and of a sidecar (every 10 s),
    #       both with their ECS service known
    expected = {"gateway": 1, "sidecar": 6}
    for name, per_task in expected.items():
        expression, stats, props = _heartbeat(app_stacks[name])
        # THEN the alarm counts the tasks whose collector did not report in a period: running
        #      tasks (Container Insights) minus uptime reports over one task's reports
        assert expression == f"FILL(running, 1) - FILL(reports, 0) / {per_task}"
        running, reports = stats["running"], stats["reports"]
        assert running["Metric"]["Namespace"] == "ECS/ContainerInsights"
        assert running["Metric"]["MetricName"] == "RunningTaskCount"
        assert running["Stat"] == "Average"
        assert {d["Name"] for d in running["Metric"]["Dimensions"]} == {
            "ClusterName",
            "ServiceName",
        }
        assert reports["Metric"]["MetricName"] == telemetry.PROCESS_UPTIME
        assert reports["Stat"] == "SampleCount"
        # AND one series for the whole service: no dimension per task, so the cost is flat
        assert {d["Name"] for d in reports["Metric"]["Dimensions"]} == {
            telemetry.DIMENSION_ENVIRONMENT,
            telemetry.DIMENSION_SERVICE,
        }
        # AND half a task missing breaches, in 3 of 5 one-minute periods; silence breaches
        assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", 0.5)
        assert (props["EvaluationPeriods"], props["DatapointsToAlarm"]) == (5, 3)
        assert props["TreatMissingData"] == "breaching"
        assert "Look first" in props["AlarmDescription"]


def test_heartbeat_without_a_task_count_assumes_one_task(app_stacks: dict[str, Built]) -> None:
    expression, stats, _ = _heartbeat(app_stacks["sidecar_logs"])
    assert expression == "1 - FILL(reports, 0) / 1"
    assert set(stats) == {"reports"}


def _heartbeat_states(
    built: Built, running: list[float | None], reports: list[float | None]
) -> list[str]:
    """The heartbeat alarm of ``built``, evaluated minute by minute on recorded series."""
    expression, _, props = _heartbeat(built)
    values = [
        evaluate(expression, {"running": r, "reports": n})
        for r, n in zip(running, reports, strict=True)
    ]
    return alarm_states(
        values,
        threshold=props["Threshold"],
        evaluation_periods=props["EvaluationPeriods"],
        datapoints_to_alarm=props["DatapointsToAlarm"],
        missing_breaches=props["TreatMissingData"] == "breaching",
    )


#: three healthy tasks, 6 reports a minute each, with one report landing a minute late or
#: early now and then (push timing does not follow the period's edges)
_HEALTHY = [18.0, 17.0, 19.0, 18.0, 18.0, 17.0, 19.0, 18.0, 18.0, 18.0]


def test_heartbeat_one_silent_task_of_three_alarms_within_five_minutes(
    app_stacks: dict[str, Built],
) -> None:
    # GIVEN three tasks; from minute 4 one collector is dead (its task still runs)
    running = [3.0] * 10
    reports = _HEALTHY[:4] + [12.0] * 6
    states = _heartbeat_states(app_stacks["sidecar"], running, reports)
    # THEN the alarm fires within five periods of the first silent minute, and not before
    assert "ALARM" not in states[:4]
    assert "ALARM" in states[4:9]
    print(f"first ALARM {states.index('ALARM') - 4 + 1} minutes after the collector died")


def test_heartbeat_healthy_tasks_stay_ok(app_stacks: dict[str, Built]) -> None:
    assert set(_heartbeat_states(app_stacks["sidecar"], [3.0] * 10, _HEALTHY)) == {"OK"}


def test_heartbeat_scaling_out_and_in_does_not_alarm(app_stacks: dict[str, Built]) -> None:
    # GIVEN scale-out 3 -> 4 at minute 3, the new collector silent for its first whole minute
    #       (counted RUNNING before its first push); then scale-in 4 -> 2 at minute 8, the
    #       two stopping collectors silent for two minutes before ECS stops counting their
    #       tasks (the 120 s stop timeout)
    running = [3.0, 3.0, 3.0] + [4.0] * 7 + [2.0] * 4
    reports = [18.0, 18.0, 18.0, 18.0] + [24.0] * 4 + [12.0] * 6
    states = _heartbeat_states(app_stacks["sidecar"], running, reports)
    # THEN no state is ALARM: at most two breaching periods in any five
    assert set(states) == {"OK"}


def test_heartbeat_silence_of_every_task_alarms(app_stacks: dict[str, Built]) -> None:
    # GIVEN every collector and the task count silent (scaled to zero, or Insights gone)
    running: list[float | None] = [3.0, 3.0, None, None, None, None]
    states = _heartbeat_states(app_stacks["sidecar"], running, [18.0, 18.0] + [None] * 4)
    assert states[-1] == "ALARM"
