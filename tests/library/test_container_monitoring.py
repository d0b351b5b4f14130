"""The dashboard's app-container row and the ephemeral-storage alarm, from container metrics."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template
from otel_fargate import ContainerMetrics, OtelFargateError
from otel_fargate.monitoring.containers import published_container_metrics

from tests.library.test_image_components import new_stack, sidecar


def _dashboard(template: Template) -> str:
    (body,) = [
        json.dumps(r["Properties"]["DashboardBody"])
        for r in template.to_json()["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Dashboard"
    ]
    return body


def _alarms(template: Template) -> dict[str, Any]:
    return {
        key: r["Properties"]
        for key, r in template.to_json()["Resources"].items()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }


def test_default_container_metrics_give_the_dashboard_row_and_the_disk_alarm() -> None:
    # GIVEN a sidecar with the default container metrics and its own metrics published
    stack = new_stack("ContainersOn")
    built = sidecar(stack, environment_name="dev")
    assert published_container_metrics(built.rendered_config.config)
    template = Template.from_stack(stack)
    # THEN the dashboard finds every app container's CPU and memory by SEARCH
    body = _dashboard(template)
    assert "container.cpu.utilized" in body and "container.memory.utilized" in body
    assert "SEARCH(" in body and "container.name" in body
    # AND an alarm fires above 80 % of the task's reserved ephemeral storage
    disk = [a for key, a in _alarms(template).items() if key.startswith("OtelMonitoringEphemeral")]
    assert len(disk) == 1
    (alarm,) = disk
    assert alarm["Threshold"] == 80
    assert alarm["TreatMissingData"] == "notBreaching"
    expressions = [q.get("Expression") for q in alarm["Metrics"] if "Expression" in q]
    assert expressions == ["100 * used / reserved"]
    names = {q["MetricStat"]["Metric"]["MetricName"] for q in alarm["Metrics"] if "MetricStat" in q}
    assert names == {"ecs.task.ephemeral_storage.utilized", "ecs.task.ephemeral_storage.reserved"}


def test_without_container_metrics_there_is_no_row_and_no_disk_alarm() -> None:
    stack = new_stack("ContainersOff")
    sidecar(stack, container_metrics=ContainerMetrics(enabled=False))
    template = Template.from_stack(stack)
    assert "container.cpu.utilized" not in _dashboard(template)
    assert not [key for key in _alarms(template) if "Ephemeral" in key]


def test_a_selection_without_ephemeral_storage_has_the_row_but_no_disk_alarm() -> None:
    stack = new_stack("ContainersNoDisk")
    sidecar(stack, container_metrics=ContainerMetrics(metrics=["container.cpu.utilized"]))
    template = Template.from_stack(stack)
    body = _dashboard(template)
    assert "container.cpu.utilized" in body and "container.memory.utilized" not in body
    assert not [key for key in _alarms(template) if "Ephemeral" in key]


def test_monitoring_refuses_a_metric_it_cannot_read() -> None:
    from otel_fargate import CollectorMonitoring

    with pytest.raises(OtelFargateError, match=r"^container_metrics\[0\]: must be one of "):
        CollectorMonitoring(
            new_stack("BadNames"), "M", environment_name="dev", service_name="app",
            memory_limit_mib=512, container_metrics=["container.network.rate.rx"],
        )
