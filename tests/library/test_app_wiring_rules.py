"""What app containers get does not depend on the topology: one propagators rule, and with
``stdout_logs`` a stop order that lets the log router hand its last lines to the collector.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Template
from otel_fargate import (
    CollectorGateway,
    CollectorSidecar,
    DebugExporter,
    KeepErrors,
    SamplingTier,
    TailSampling,
    XRayExporter,
)

from tests.conftest import container_environment
from tests.library.test_constructs import app_task, containers, new_cluster, new_stack


def _propagators(*, sampling: bool, xray: bool) -> str:
    stack = new_stack("Propagators")
    cluster = new_cluster(stack)
    gateway = CollectorGateway(
        stack, "Gateway", cluster=cluster,
        exporters=XRayExporter() if xray else DebugExporter(),
        sampling=SamplingTier(tail_sampling=TailSampling(policies=(KeepErrors(),))) if sampling else None,
    )
    task, app = app_task(stack, memory=384)
    CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app], gateway=gateway)
    ecs.FargateService(
        stack, "Orders", cluster=cluster, task_definition=task,
        service_connect_configuration=gateway.service_connect_client(),
    )
    return container_environment(containers(Template.from_stack(stack))["checkout"])["OTEL_PROPAGATORS"]


@pytest.mark.parametrize(
    ("sampling", "xray", "expected"),
    [
        (False, True, "tracecontext,baggage,xray"),
        (True, True, "tracecontext,baggage,xray"),
        (False, False, "tracecontext,baggage"),
        (True, False, "tracecontext,baggage"),
    ],
)
def test_apps_propagate_the_xray_header_whenever_their_traces_end_in_xray(
    sampling: bool, xray: bool, expected: str
) -> None:
    # GIVEN an agent behind a gateway that exports traces itself, or whose samplers do
    # WHEN the app container is wired THEN its propagators depend on where traces end only
    assert _propagators(sampling=sampling, xray=xray) == expected


@pytest.fixture(scope="module")
def stdout_task() -> dict[str, dict[str, Any]]:
    stack = new_stack("StopOrder")
    task, app = app_task(stack, memory=256)
    CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app],
        exporters=[DebugExporter(signals=("logs",))], stdout_logs=True,
    )
    return containers(Template.from_stack(stack))


def _depends(container: dict[str, Any]) -> dict[str, str]:
    return {d["ContainerName"]: d["Condition"] for d in container.get("DependsOn", [])}


def test_the_log_router_starts_after_and_stops_before_the_collector(
    stdout_task: dict[str, dict[str, Any]],
) -> None:
    # GIVEN a sidecar with stdout_logs: ECS stops containers in the reverse order of dependsOn
    router = stdout_task["log-router"]
    # THEN the router waits for the healthy collector, so ECS stops the router first
    assert _depends(router) == {"otel-collector": "HEALTHY"}
    # AND the app waits for the router (and the collector), so it stops before both
    assert _depends(stdout_task["checkout"]) == {"otel-collector": "HEALTHY", "log-router": "START"}


def test_the_collector_waits_for_nothing_of_the_apps(stdout_task: dict[str, dict[str, Any]]) -> None:
    # no dependency cycle: the collector starts first and stops last
    assert _depends(stdout_task["otel-collector"]) == {}


def test_a_router_without_health_checks_waits_for_the_collector_to_start() -> None:
    stack = cdk.Stack(cdk.App(), "StopOrderNoHealth", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    task, app = app_task(stack, memory=256)
    CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app],
        exporters=[DebugExporter(signals=("logs",))], stdout_logs=True, health_check=False,
    )
    assert _depends(containers(Template.from_stack(stack))["log-router"]) == {"otel-collector": "START"}
