"""What ECS would refuse at deploy is refused at synth: a task definition past 64 KiB, on every
role that builds a collector task (sidecar or agent, gateway, sampler).
"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from otel_fargate import CollectorGateway, CollectorSidecar
from otel_fargate.config import DebugExporter, XRayExporter
from otel_fargate.config.sampling.policies import KeepAttribute, KeepErrors
from otel_fargate.config.sampling.tier import TailSampling
from otel_fargate.sampling import SamplingTier

from tests.library.test_constructs import app_task, new_cluster, new_stack

_TOO_BIG = r"its container definitions take \d+ bytes, more than the 65536 ECS accepts"


def _actions(count: int) -> dict[str, object]:
    return {"attributes/many": {"actions": [
        {"key": f"team.attribute.{index:05d}", "value": "x" * 40, "action": "upsert"}
        for index in range(count)
    ]}}  # fmt: skip


def _sidecar(name: str, attributes: int) -> cdk.Stack:
    stack = new_stack(name)
    task, app = app_task(stack)
    CollectorSidecar(
        stack, "Collector", task_definition=task, app_containers=[app],
        exporters=[DebugExporter()], processors=_actions(attributes),
    )  # fmt: skip
    return stack


def _gateway(name: str, attributes: int) -> cdk.Stack:
    stack = new_stack(name)
    CollectorGateway(
        stack, "Gateway", cluster=new_cluster(stack), environment_name="dev",
        exporters=[XRayExporter()], processors=_actions(attributes),
    )  # fmt: skip
    return stack


def _sampler(name: str, values: int) -> cdk.Stack:
    stack = new_stack(name)
    customers = KeepAttribute(key="customer.id", values=[f"customer-{i:06d}" for i in range(values)])
    CollectorGateway(
        stack, "Gateway", cluster=new_cluster(stack), environment_name="dev",
        exporters=[XRayExporter()],
        sampling=SamplingTier(tail_sampling=TailSampling(policies=(KeepErrors(), customers))),
    )  # fmt: skip
    return stack


def test_a_configuration_past_the_ecs_limit_fails_synth() -> None:
    # GIVEN a sidecar whose rendered configuration holds ~1000 attribute actions (> 64 KiB)
    stack = _sidecar("TooBig", 1000)
    # WHEN the app synthesizes THEN synth fails naming the size, the limit and the source
    with pytest.raises(
        RuntimeError,
        match=_TOO_BIG + r".*largest environment values: otel-collector\.OTEL_FARGATE_CONFIG \(\d+ bytes\)",
    ):
        cdk.App.of(stack).synth()  # type: ignore[union-attr]


def test_a_gateway_configuration_past_the_ecs_limit_fails_synth() -> None:
    # GIVEN a gateway whose processors push its configuration past 64 KiB
    stack = _gateway("GatewayTooBig", 1000)
    # WHEN the app synthesizes THEN synth fails naming the gateway's task definition
    with pytest.raises(RuntimeError, match=r"task GatewayTooBig/Gateway/TaskDefinition: " + _TOO_BIG):
        cdk.App.of(stack).synth()  # type: ignore[union-attr]


def test_a_sampler_configuration_past_the_ecs_limit_fails_synth() -> None:
    # GIVEN a sampling tier whose policies keep 5000 listed customers (> 64 KiB of YAML)
    stack = _sampler("SamplerTooBig", 5000)
    # WHEN the app synthesizes THEN synth fails naming the sampler's task definition
    with pytest.raises(RuntimeError, match=r"task SamplerTooBig/Gateway/Samplers/TaskDefinition: " + _TOO_BIG):
        cdk.App.of(stack).synth()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("build", "size"), [(_sidecar, 20), (_gateway, 20), (_sampler, 50)], ids=["sidecar", "gateway", "sampler"]
)
def test_a_configuration_within_the_limit_synthesizes(build: object, size: int) -> None:
    # GIVEN the same roles with a few actions or values WHEN they synthesize THEN they pass
    stack = build(f"SmallEnough{getattr(build, '__name__', '').strip('_').title()}", size)  # type: ignore[operator]
    assert cdk.App.of(stack).synth() is not None  # type: ignore[union-attr]
