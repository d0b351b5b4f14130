"""Deployment gates: the alarms ECS rolls a collector deployment back on, on every role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Annotations, Match, Template
from otel_fargate import (
    CloudWatchEmfExporter,
    CollectorGateway,
    CollectorSidecar,
    OtelFargateError,
    SamplingTier,
    XRayExporter,
)
from otel_fargate.monitoring.gates import (
    EXPORT_FAILURE_RATIO_PERCENT,
    GATE_DATAPOINTS,
    GATE_EVALUATION_PERIODS,
    GATE_PERIOD_SECONDS,
)

from tests.library.test_constructs import app_task, new_cluster, new_stack


@dataclass
class Gated:
    stack: cdk.Stack
    template: Template
    gateway: CollectorGateway
    sidecar: CollectorSidecar
    user_alarm: cloudwatch.Alarm


def _service(template: Template, fragment: str) -> dict[str, Any]:
    (found,) = [
        r for lid, r in template.find_resources("AWS::ECS::Service").items() if fragment in lid
    ]
    return found


def _alarm_props(stack: cdk.Stack, template: Template, alarm: cloudwatch.Alarm) -> dict[str, Any]:
    logical_id = stack.get_logical_id(alarm.node.default_child)  # type: ignore[arg-type]
    props: dict[str, Any] = template.find_resources("AWS::CloudWatch::Alarm")[logical_id][
        "Properties"
    ]
    return props


@pytest.fixture(scope="module")
def gated() -> Gated:
    """GIVEN a gateway with a sampling tier (defaults) and an app whose sidecar opts in, with
    one alarm of the user's, its service created after the sidecar (one synth)."""
    stack = new_stack("Gated")
    cluster = new_cluster(stack)
    gateway = CollectorGateway(
        stack,
        "Gateway",
        cluster=cluster,
        exporters=[XRayExporter(), CloudWatchEmfExporter(namespace="Shop", log_group_name="/shop/metrics")],
        sampling=SamplingTier(),
    )
    task, app = app_task(stack)
    user_alarm = cloudwatch.Alarm(
        stack,
        "AppErrors",
        alarm_name="checkout-errors",
        metric=cloudwatch.Metric(namespace="Shop", metric_name="Errors"),
        threshold=5,
        evaluation_periods=1,
    )
    sidecar = CollectorSidecar(
        stack,
        "Otel",
        task_definition=task,
        app_containers=[app],
        exporters=[XRayExporter()],
        deployment_rollback=True,
        deployment_alarms=[user_alarm],
    )
    ecs.FargateService(stack, "AppService", cluster=cluster, task_definition=task)
    return Gated(stack, Template.from_stack(stack), gateway, sidecar, user_alarm)


def test_each_gateway_exporter_has_a_ratio_gate(gated: Gated) -> None:
    # GIVEN the gateway's gates WHEN read from the template
    assert gated.gateway.monitoring is not None
    gates = gated.gateway.monitoring.deployment_gates
    # THEN one per exporter, each the failed share of that exporter's items, in percent
    # (traces leave through load_balancing to the samplers, which export to X-Ray)
    assert sorted(gates) == [
        "deployment_export_failures_awsemf",
        "deployment_export_failures_load_balancing",
    ]
    for alarm in gates.values():
        props = _alarm_props(gated.stack, gated.template, alarm)
        assert props["Threshold"] == EXPORT_FAILURE_RATIO_PERCENT == 10
        assert props["EvaluationPeriods"] == GATE_EVALUATION_PERIODS == 3
        assert props["DatapointsToAlarm"] == GATE_DATAPOINTS == 2
        assert props["TreatMissingData"] == "notBreaching"
        assert props["ComparisonOperator"] == "GreaterThanThreshold"
        (expression,) = [q["Expression"] for q in props["Metrics"] if "Expression" in q]
        assert expression.startswith("100 * (FILL(f0, 0)")
        stats = [q["MetricStat"] for q in props["Metrics"] if "MetricStat" in q]
        assert {s["Period"] for s in stats} == {GATE_PERIOD_SECONDS}
        names = sorted(s["Metric"]["MetricName"] for s in stats)
        assert any("send_failed" in n for n in names) and any("sent" in n for n in names)


def test_the_gateway_service_rolls_back_on_its_gates_named_at_synth(gated: Gated) -> None:
    # GIVEN the gateway's ECS service WHEN read
    service = _service(gated.template, "GatewayService")
    alarms = service["Properties"]["DeploymentConfiguration"]["Alarms"]
    assert gated.gateway.monitoring is not None
    gates = list(gated.gateway.monitoring.deployment_gates.values())
    expected = [_alarm_props(gated.stack, gated.template, a)["AlarmName"] for a in gates]
    # THEN it rolls back on exactly its gates, named by literals (no reference to resolve),
    # and the service waits for the alarms to exist
    assert alarms == {"AlarmNames": expected, "Enable": True, "Rollback": True}
    assert all(isinstance(name, str) for name in expected)
    for alarm in gates:
        assert gated.stack.get_logical_id(alarm.node.default_child) in service["DependsOn"]  # type: ignore[arg-type]


def test_the_samplers_roll_back_on_their_own_gates(gated: Gated) -> None:
    service = _service(gated.template, "SamplersService")
    samplers = gated.gateway.samplers
    assert samplers is not None and samplers.monitoring is not None
    gates = list(samplers.monitoring.deployment_gates.values())
    names = [_alarm_props(gated.stack, gated.template, a)["AlarmName"] for a in gates]
    assert names and service["Properties"]["DeploymentConfiguration"]["Alarms"] == {
        "AlarmNames": names,
        "Enable": True,
        "Rollback": True,
    }


def test_an_opted_in_sidecar_gates_the_app_service_with_crashes_and_the_users_alarm(
    gated: Gated,
) -> None:
    # GIVEN the app service, created after the sidecar WHEN read
    service = _service(gated.template, "AppService")
    assert gated.sidecar.monitoring is not None
    gates = gated.sidecar.monitoring.deployment_gates
    # THEN the sidecar's export gate, its crash-line alarm and the user's alarm gate it
    assert sorted(gates) == ["collector_restarts", "deployment_export_failures_awsxray"]
    names = [
        _alarm_props(gated.stack, gated.template, a)["AlarmName"] for a in gates.values()
    ] + ["checkout-errors"]
    assert service["Properties"]["DeploymentConfiguration"]["Alarms"] == {
        "AlarmNames": names,
        "Enable": True,
        "Rollback": True,
    }


def test_a_sidecar_does_not_gate_its_app_by_default() -> None:
    # GIVEN a sidecar with the defaults and its app's service
    stack = new_stack("Ungated")
    cluster = new_cluster(stack)
    task, app = app_task(stack)
    ecs.FargateService(stack, "AppService", cluster=cluster, task_definition=task)
    sidecar = CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app], exporters=[XRayExporter()]
    )
    template = Template.from_stack(stack)
    # THEN the app deploys without alarms and the sidecar creates no gate
    config = _service(template, "AppService")["Properties"]["DeploymentConfiguration"]
    assert config["Alarms"] == {"AlarmNames": [], "Enable": False, "Rollback": False}
    assert sidecar.monitoring is not None and sidecar.monitoring.deployment_gates == {}


def test_a_gateway_can_switch_rollback_off_for_itself_and_its_samplers() -> None:
    stack = new_stack("NoRollback")
    gateway = CollectorGateway(
        stack,
        "Gateway",
        cluster=new_cluster(stack),
        exporters=[XRayExporter()],
        sampling=SamplingTier(),
        deployment_rollback=False,
    )
    template = Template.from_stack(stack)
    off = {"AlarmNames": [], "Enable": False, "Rollback": False}
    for service in ("GatewayService", "SamplersService"):
        config = _service(template, service)["Properties"]["DeploymentConfiguration"]
        assert config["Alarms"] == off, service
    assert gateway.monitoring is not None and gateway.monitoring.deployment_gates == {}


def test_rollback_without_any_gate_warns() -> None:
    # GIVEN a gateway without monitoring and no alarms of the user's
    stack = new_stack("NoGates")
    CollectorGateway(
        stack, "Gateway", cluster=new_cluster(stack), exporters=[XRayExporter()], monitoring=False
    )
    # THEN synth warns that only the circuit breaker rolls back
    Annotations.from_stack(stack).has_warning(
        "/NoGates/Gateway",
        Match.string_like_regexp("deployment_rollback: no deployment gate exists"),
    )


def test_alarms_without_rollback_are_refused() -> None:
    stack = new_stack("Refused")
    alarm = cloudwatch.Alarm(
        stack,
        "A",
        metric=cloudwatch.Metric(namespace="N", metric_name="M"),
        threshold=1,
        evaluation_periods=1,
    )
    with pytest.raises(
        OtelFargateError,
        match=r"deployment_alarms: gate deployments only with deployment_rollback on.*Refused/A",
    ):
        CollectorGateway(
            stack,
            "Gateway",
            cluster=new_cluster(stack),
            exporters=[XRayExporter()],
            deployment_rollback=False,
            deployment_alarms=[alarm],
        )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("checkout-errors", r"deployment_alarms: must be a list of CloudWatch alarms, got 'checkout-errors'"),
        (["checkout-errors"], r"deployment_alarms: must hold CloudWatch alarms only, got 'checkout-errors'"),
    ],
)
def test_deployment_alarms_must_be_alarms(value: object, message: str) -> None:
    stack = new_stack("BadAlarms")
    with pytest.raises(OtelFargateError, match=message):
        CollectorGateway(
            stack,
            "Gateway",
            cluster=new_cluster(stack),
            exporters=[XRayExporter()],
            deployment_alarms=value,  # type: ignore[arg-type]
        )


def test_a_service_that_fails_on_alarm_is_named() -> None:
    # GIVEN an app service whose own deployment alarms fail instead of rolling back
    stack = new_stack("FailOnAlarm")
    cluster = new_cluster(stack)
    task, app = app_task(stack)
    ecs.FargateService(
        stack,
        "AppService",
        cluster=cluster,
        task_definition=task,
        deployment_alarms=ecs.DeploymentAlarmConfig(
            alarm_names=["theirs"], behavior=ecs.AlarmBehavior.FAIL_ON_ALARM
        ),
    )
    CollectorSidecar(
        stack,
        "Otel",
        task_definition=task,
        app_containers=[app],
        exporters=[XRayExporter()],
        deployment_rollback=True,
    )
    # WHEN synthesized THEN the refusal (raised while synth visits the services) names the
    # service and the setting
    with pytest.raises(
        RuntimeError, match=r"deployment_rollback: service FailOnAlarm/AppService already"
    ):
        Template.from_stack(stack)
