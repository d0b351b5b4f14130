"""Alarms and dashboard rows of the scale tier: the routing gateway and the samplers."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_cloudwatch as cloudwatch

from otel_fargate import telemetry
from otel_fargate.config.core.values import component_type
from otel_fargate.monitoring.alarms import AlarmSettings, AlarmSpec, Missing
from otel_fargate.monitoring.metrics import CollectorMetrics


def tier_of(config: Mapping[str, object]) -> str | None:
    """``routing`` when a pipeline exports through load_balancing, ``sampling`` when one runs
    tail_sampling, else None.
    """
    service = config.get("service")
    pipelines = service.get("pipelines") if isinstance(service, Mapping) else None
    for pipeline in (pipelines or {}).values() if isinstance(pipelines, Mapping) else ():
        if not isinstance(pipeline, Mapping):
            continue
        if any(component_type(str(e)) == "load_balancing" for e in pipeline.get("exporters") or ()):
            return "routing"
        if any(component_type(str(p)) == "tail_sampling" for p in pipeline.get("processors") or ()):
            return "sampling"
    return None


def tier_alarms(
    m: CollectorMetrics, s: AlarmSettings, where: str, tier: str | None
) -> list[AlarmSpec]:
    """``routing_failures`` and ``no_samplers`` (routing); ``traces_dropped_early`` (sampling)."""
    if tier == "routing":
        failed = m.metric(
            telemetry.LOADBALANCER_BACKEND_OUTCOME,
            statistic="Sum",
            label="failed sends to samplers",
            **{telemetry.DIMENSION_SUCCESS: "false"},
        )
        backends = m.metric(
            telemetry.LOADBALANCER_NUM_BACKENDS, statistic="Minimum", label="samplers seen"
        )
        return [
            AlarmSpec(
                "routing_failures",
                failed,
                0,
                Missing.NOT_BREACHING,
                s.datapoints_to_alarm,
                f"The routing gateway failed to send traces to samplers ({where}). Its queue "
                "retries them on the samplers it then knows, so data is late, not lost, until "
                "the queue fills. Look first at the samplers' service (stopped tasks, memory, "
                "'receiver_refusals' of the samplers), then at the samplers' security group. "
                "Missing data counts as OK: failures are reported when they happen.",
            ),
            AlarmSpec(
                "no_samplers",
                backends,
                1,
                Missing.NOT_BREACHING,
                s.datapoints_to_alarm,
                f"The routing gateway resolves no sampler ({where}): traces wait in its queue "
                "and are dropped once it is full. Look first at the samplers' ECS service and "
                "its Cloud Map service (A records), then at the gateway's DNS resolution in "
                "its log. Missing data counts as OK: the heartbeat alarm covers silence.",
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            ),
        ]
    if tier == "sampling":
        dropped = m.metric(
            telemetry.SAMPLING_DROPPED_TOO_EARLY, statistic="Sum", label="traces dropped early"
        )
        return [
            AlarmSpec(
                "traces_dropped_early",
                dropped,
                0,
                Missing.NOT_BREACHING,
                s.datapoints_to_alarm,
                f"Samplers dropped traces before deciding them ({where}): more new traces "
                "arrived within decision_wait than num_traces holds, so the oldest were dropped "
                "undecided (errors among them). Raise expected_new_traces_per_second with more "
                "sampler memory, or add sampler tasks. Missing data counts as OK.",
            )
        ]
    return []


def tier_row(m: CollectorMetrics, tier: str | None) -> list[cloudwatch.IWidget]:
    """Dashboard widgets of the routing gateway or the samplers; none for other collectors."""
    graph = cloudwatch.GraphWidget
    if tier == "routing":
        outcome = [
            m.metric(
                telemetry.LOADBALANCER_BACKEND_OUTCOME,
                statistic="Sum",
                label=f"sends to samplers, success={value}",
                **{telemetry.DIMENSION_SUCCESS: value},
            )
            for value in ("true", "false")
        ]
        backends = m.metric(telemetry.LOADBALANCER_NUM_BACKENDS, statistic="Minimum")
        return [
            graph(title="Samplers seen", left=[backends], width=12, height=6),
            graph(title="Sends to samplers", left=outcome, width=12, height=6),
        ]
    if tier != "sampling":
        return []
    decided = {
        value: m.metric(
            telemetry.SAMPLING_TRACES_DECIDED,
            statistic="Sum",
            **{telemetry.DIMENSION_SAMPLED: value},
        )
        for value in ("true", "false")
    }
    ratio = cloudwatch.MathExpression(
        expression="100 * kept / (kept + dropped)",
        using_metrics={"kept": decided["true"], "dropped": decided["false"]},
        label="traces kept (%)",
        period=m.period,
    )
    return [
        graph(title="Traces kept (%)", left=[ratio], width=6, height=6),
        graph(
            title="Decision latency (ms)",
            left=[m.metric(telemetry.SAMPLING_DECISION_LATENCY, statistic="Maximum")],
            width=6,
            height=6,
        ),
        graph(
            title="Traces waiting for a decision",
            left=[m.metric(telemetry.SAMPLING_TRACES_ON_MEMORY, statistic="Maximum")],
            width=6,
            height=6,
        ),
        graph(
            title="Traces dropped before a decision",
            left=[m.metric(telemetry.SAMPLING_DROPPED_TOO_EARLY, statistic="Sum")],
            width=6,
            height=6,
        ),
    ]
