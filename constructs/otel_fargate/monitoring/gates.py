"""Deployment gates: the alarms that mean "this revision of the collector is broken".

ECS watches the alarms named in a service's deployment configuration while a deployment runs
and for a bake time after it (ECS derives the bake time from the alarms' period and
evaluation periods), and rolls the deployment back when one of them goes to ALARM. The
circuit breaker already rolls back tasks that fail to start or to pass their health check;
the gates catch a collector that starts, is healthy, and cannot deliver:

- ``deployment_export_failures_<exporter>``, one per exporter: the share of the items that
  exporter handled in a period which failed for good (after its retries), in percent. A
  ratio, not a count, so that a healthy scale-out (more tasks, more items) never trips it,
  and one per exporter, so that a broken exporter is not diluted by healthy ones. Missing
  data is not breaching: a period without traffic says nothing about the revision.
- ``collector_crashes`` (sidecars whose collector log group is watched): crash lines in the
  collector's log, which a sidecar's non-essential container otherwise hides from ECS.

The collector's own metrics carry no revision, so during a rolling deployment the ratio mixes
old and new tasks: one broken task of two shows as about 50 %, well above the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from aws_cdk import Duration, Names, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from otel_fargate.errors import OtelFargateError
from otel_fargate.monitoring import alarms as table
from otel_fargate.monitoring.metrics import (
    EXPORTER_SEND_FAILED,
    EXPORTER_SENT,
    CollectorMetrics,
)

#: Period of a gate: ECS reads alarms each minute.
GATE_PERIOD_SECONDS: Final = 60
#: Periods a gate looks back, and how many of them must breach.
GATE_EVALUATION_PERIODS: Final = 3
GATE_DATAPOINTS: Final = 2
#: Failed share of an exporter's items, in percent, above which its gate fires.
EXPORT_FAILURE_RATIO_PERCENT: Final = 10.0


def failure_ratio(m: CollectorMetrics, exporter: str) -> cloudwatch.MathExpression:
    """Percentage of ``exporter``'s items that failed for good in a period.

    Each signal's series is filled with zero, so a signal without failures still counts its
    sent items; a period in which the exporter reported nothing at all stays missing.
    """
    using: dict[str, cloudwatch.IMetric] = {}
    for i, signal in enumerate(m.exporters[exporter]):
        using[f"s{i}"] = m.exporter_metric(EXPORTER_SENT, exporter, signal, kind="sent")
        using[f"f{i}"] = m.exporter_metric(EXPORTER_SEND_FAILED, exporter, signal, kind="failed")
    sent = " + ".join(f"FILL({k}, 0)" for k in using if k.startswith("s"))
    failed = " + ".join(f"FILL({k}, 0)" for k in using if k.startswith("f"))
    return cloudwatch.MathExpression(
        expression=f"100 * ({failed}) / (({sent}) + ({failed}))",
        using_metrics=using,
        period=Duration.seconds(GATE_PERIOD_SECONDS),
        label=f"failed % ({exporter})",
    )


def gate_specs(m: CollectorMetrics, where: str) -> list[table.AlarmSpec]:
    """One export-failure gate per exporter."""
    return [
        table.AlarmSpec(
            f"deployment_export_failures_{exporter.replace('/', '_')}",
            failure_ratio(m, exporter),
            EXPORT_FAILURE_RATIO_PERCENT,
            cloudwatch.TreatMissingData.NOT_BREACHING,
            GATE_DATAPOINTS,
            f"Deployment gate ({where}): more than {EXPORT_FAILURE_RATIO_PERCENT:g}% of what "
            f"exporter {exporter} handled failed after its retries in {GATE_DATAPOINTS} of "
            f"{GATE_EVALUATION_PERIODS} minutes. During a deployment ECS rolls the service "
            "back to its last completed revision when this fires. Look first at the "
            "collector log for 'Exporting failed' lines (permissions, region, endpoint, a "
            "payload the backend rejects). Missing data counts as OK: no traffic, no verdict.",
        )
        for exporter in m.exporters
    ]


def add_gates(
    scope: Construct,
    m: CollectorMetrics,
    settings: table.AlarmSettings,
    where: str,
) -> dict[str, cloudwatch.Alarm]:
    """Create the export-failure gates under ``scope``, keyed like the other alarms.

    Each gate gets a name fixed at synth (unique in its stack, from its construct path), so
    a service can name it without a reference that CloudFormation would have to resolve
    first; :func:`gate_service` adds the dependency explicitly.
    """
    gate_settings = replace(settings, evaluation_periods=GATE_EVALUATION_PERIODS)
    gates: dict[str, cloudwatch.Alarm] = {}
    for spec in gate_specs(m, where):
        gates[spec.key] = name_at_synth(table.add_alarm(scope, spec, gate_settings))
    return gates


def name_at_synth(alarm: cloudwatch.Alarm) -> cloudwatch.Alarm:
    """``alarm``, named from its construct path (unique in its stack) unless it was given a
    literal name (without one, the CDK leaves the name to CloudFormation).
    """
    cfn = alarm.node.default_child
    if isinstance(cfn, cloudwatch.CfnAlarm) and not _is_literal(cfn.alarm_name):
        cfn.alarm_name = Names.unique_resource_name(alarm, max_length=255)
    return alarm


def gate_service(service: ecs.BaseService, alarms: Sequence[cloudwatch.IAlarm]) -> None:
    """Roll ``service``'s deployments back when one of ``alarms`` fires during a deployment
    or its bake time; the service is created after the alarms.
    """
    names = [_literal_name(alarm) for alarm in alarms]
    try:
        service.enable_deployment_alarms(names, behavior=ecs.AlarmBehavior.ROLLBACK_ON_ALARM)
    except RuntimeError as error:  # jsii surfaces the CDK's validation errors as RuntimeError
        raise OtelFargateError(
            f"deployment_rollback: service {service.node.path} already gates its deployments "
            f"with another alarm behavior; use ROLLBACK_ON_ALARM there or pass "
            f"deployment_rollback=False, got {error}"
        ) from error
    for alarm in alarms:
        if isinstance(alarm, Construct):
            service.node.add_dependency(alarm)


def _literal_name(alarm: cloudwatch.IAlarm) -> str:
    cfn = alarm.node.default_child
    name = cfn.alarm_name if isinstance(cfn, cloudwatch.CfnAlarm) else None
    return name if name is not None and _is_literal(name) else alarm.alarm_name


def _is_literal(name: str | None) -> bool:
    return isinstance(name, str) and bool(name) and not Token.is_unresolved(name)
