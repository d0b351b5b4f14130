"""InstrumentApp: one Aspect instruments every service of an app that asks for it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from otel_fargate import (
    AutoInstrumentation,
    CollectorSidecar,
    DebugExporter,
    InstrumentApp,
    OtelFargateError,
    request_instrumentation,
)


@dataclass
class Instrumented:
    templates: dict[str, dict[str, Any]]
    aspect: InstrumentApp

    def definitions(self, stack: str, task: str) -> list[dict[str, Any]]:
        resources = self.templates[stack]["Resources"]
        (definition,) = [
            r for lid, r in resources.items()
            if r["Type"] == "AWS::ECS::TaskDefinition" and lid.startswith(task)
        ]
        return list(definition["Properties"]["ContainerDefinitions"])

    def names(self, stack: str, task: str) -> Counter[str]:
        return Counter(c["Name"] for c in self.definitions(stack, task))

    def containers(self, stack: str, task: str) -> dict[str, dict[str, Any]]:
        return {c["Name"]: c for c in self.definitions(stack, task)}


def _container(task: ecs.TaskDefinition, name: str, **options: Any) -> ecs.ContainerDefinition:
    return task.add_container(
        name,
        container_name=name,
        image=ecs.ContainerImage.from_registry(f"example/{name}"),
        memory_limit_mib=256,
        **options,
    )


@pytest.fixture(scope="module")
def instrumented() -> Instrumented:
    """GIVEN an app of two stacks: a task with a requested Java container, a labelled Node.js
    one and a plain one; a task that has a sidecar already and a requested Python container;
    in the other stack a .NET container the rule picks and an EC2 task definition; the Aspect
    added twice (one synth)."""
    app = cdk.App()
    shop = cdk.Stack(app, "Shop")
    vpc = ec2.Vpc(shop, "Vpc", max_azs=1, nat_gateways=0)
    cluster = ecs.Cluster(shop, "Cluster", vpc=vpc)
    orders = ecs.FargateTaskDefinition(shop, "Orders", cpu=1024, memory_limit_mib=2048)
    request_instrumentation(_container(orders, "orders"), AutoInstrumentation.java())
    _container(orders, "web", docker_labels={"otel-fargate.instrument": "nodejs"})
    _container(orders, "cache")
    ecs.FargateService(shop, "OrdersService", cluster=cluster, task_definition=orders)
    billing = ecs.FargateTaskDefinition(shop, "Billing", cpu=1024, memory_limit_mib=2048)
    worker = _container(billing, "worker")
    CollectorSidecar(shop, "BillingOtel", task_definition=billing, exporters=[DebugExporter()],
                     service_name="billing")
    request_instrumentation(worker, AutoInstrumentation.python(service_version="7"))
    cart_stack = cdk.Stack(app, "Cart")
    cart = ecs.FargateTaskDefinition(cart_stack, "Cart", cpu=1024, memory_limit_mib=2048)
    _container(cart, "cart-dotnet")
    legacy = ecs.Ec2TaskDefinition(cart_stack, "Legacy", network_mode=ecs.NetworkMode.AWS_VPC)
    _container(legacy, "legacy-dotnet")
    aspect = InstrumentApp(
        rule=lambda c: AutoInstrumentation.dotnet() if c.container_name.endswith("-dotnet") else None,
        exporters=[DebugExporter()],
        environment_name="shop",
    )
    cdk.Aspects.of(app).add(aspect)
    cdk.Aspects.of(app).add(aspect)
    assembly = app.synth()
    return Instrumented({s.stack_name: s.template for s in assembly.stacks}, aspect)


def _mounts(container: dict[str, Any]) -> list[str]:
    return [m["ContainerPath"] for m in container.get("MountPoints", [])]


def test_asked_containers_get_their_agent_and_a_collector_once(instrumented: Instrumented) -> None:
    orders = instrumented.containers("Shop", "Orders")
    # THEN one collector and one init container per runtime, whatever the visits
    assert instrumented.names("Shop", "Orders") == Counter(
        ["orders", "web", "cache", "otel-collector", "otel-agent-java", "otel-agent-nodejs"]
    )
    assert _mounts(orders["orders"]) == ["/otel-auto-instrumentation-java"]
    assert _mounts(orders["web"]) == ["/otel-auto-instrumentation-nodejs"]
    # AND the plain container is left alone
    assert _mounts(orders["cache"]) == []
    cache_env = {e["Name"] for e in orders["cache"].get("Environment", [])}
    assert "JAVA_TOOL_OPTIONS" not in cache_env and "NODE_OPTIONS" not in cache_env


def test_a_task_with_a_collector_keeps_it(instrumented: Instrumented) -> None:
    billing = instrumented.containers("Shop", "Billing")
    assert instrumented.names("Shop", "Billing") == Counter(
        ["worker", "otel-collector", "otel-agent-python"]
    )
    env = {e["Name"]: e["Value"] for e in billing["worker"]["Environment"]}
    assert env["OTEL_RESOURCE_ATTRIBUTES"].endswith(",service.version=7")


def test_the_rule_picks_containers_and_ec2_tasks_are_left_alone(instrumented: Instrumented) -> None:
    cart = instrumented.containers("Cart", "Cart")
    assert sorted(cart) == ["cart-dotnet", "otel-agent-dotnet", "otel-collector"]
    legacy = instrumented.containers("Cart", "Legacy")
    assert sorted(legacy) == ["legacy-dotnet"]


def test_the_report_says_what_was_done_and_why_not(instrumented: Instrumented) -> None:
    decisions = {(d.container, d.action, d.reason) for d in instrumented.aspect.report}
    assert ("Shop/Orders/orders", "instrumented", "java (collector sidecar Shop/OrdersOtel added)") in decisions
    assert ("Shop/Billing/worker", "instrumented", "python (collector Shop/BillingOtel)") in decisions
    assert ("Shop/Orders/cache", "skipped", "not asked for (no request, label or rule)") in decisions
    assert ("Shop/Orders/orders", "skipped", "instrumented already") in decisions
    assert ("Shop/Orders/otel-collector", "skipped", "part of the collector") in decisions


def test_an_unknown_label_is_named() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Bad")
    task = ecs.FargateTaskDefinition(stack, "Task")
    _container(task, "svc", docker_labels={"otel-fargate.instrument": "ruby"})
    cdk.Aspects.of(app).add(InstrumentApp(exporters=[DebugExporter()]))
    with pytest.raises(RuntimeError, match=r"Bad/Task/svc: docker label otel-fargate\.instrument: must be one of java, nodejs, python, dotnet, got 'ruby'"):
        app.synth()


def test_the_aspect_decides_the_task_and_its_containers_itself() -> None:
    with pytest.raises(OtelFargateError, match=r"app_containers: is decided per task by the Aspect"):
        InstrumentApp(app_containers=[])
