"""What ECS would refuse at deploy is refused at synth: a task definition past 64 KiB."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from otel_fargate import CollectorSidecar
from otel_fargate.config import DebugExporter

from tests.library.test_constructs import app_task, new_stack


def _sidecar(name: str, attributes: int) -> cdk.Stack:
    stack = new_stack(name)
    task, app = app_task(stack)
    actions = [
        {"key": f"team.attribute.{index:05d}", "value": "x" * 40, "action": "upsert"}
        for index in range(attributes)
    ]
    CollectorSidecar(
        stack, "Collector", task_definition=task, app_containers=[app],
        exporters=[DebugExporter()], processors={"attributes/many": {"actions": actions}},
    )  # fmt: skip
    return stack


def test_a_configuration_past_the_ecs_limit_fails_synth() -> None:
    # GIVEN a sidecar whose rendered configuration holds ~1000 attribute actions (> 64 KiB)
    stack = _sidecar("TooBig", 1000)
    # WHEN the app synthesizes THEN synth fails naming the size, the limit and the source
    with pytest.raises(
        RuntimeError,
        match=r"its container definitions take \d+ bytes, more than the 65536 ECS accepts.*"
        r"largest environment values: otel-collector\.OTEL_FARGATE_CONFIG \(\d+ bytes\)",
    ):
        cdk.App.of(stack).synth()  # type: ignore[union-attr]


def test_a_configuration_within_the_limit_synthesizes() -> None:
    # GIVEN the same sidecar with a few attribute actions WHEN it synthesizes THEN it passes
    stack = _sidecar("SmallEnough", 20)
    assert cdk.App.of(stack).synth() is not None  # type: ignore[union-attr]
