"""Every Python block of the README is a complete app that synthesizes, as it stands."""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
import pytest

from tests.conftest import REPO_ROOT

BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)
EXAMPLES = BLOCK.findall((REPO_ROOT / "README.md").read_text())


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("code", EXAMPLES, ids=[f"example{i + 1}" for i in range(len(EXAMPLES))])
def test_readme_example_synthesizes(code: str) -> None:
    # GIVEN a README example, verbatim WHEN it runs (it synthesizes its app itself)
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    exec(compile(code, "README.md", "exec"), namespace)
    # THEN its app synthesized every stack, with the collector in it
    apps = [value for value in namespace.values() if isinstance(value, cdk.App)]
    assert len(apps) == 1
    assembly = apps[0].synth()
    assert assembly.stacks
    for stack in assembly.stacks:
        definitions = [
            c
            for resource in stack.template["Resources"].values()
            if resource["Type"] == "AWS::ECS::TaskDefinition"
            for c in resource["Properties"]["ContainerDefinitions"]
        ]
        # a collector container, or an app container carrying the collector (embedded mode)
        assert any(
            c["Name"] == "otel-collector"
            or any(e["Name"] == "OTEL_FARGATE_CONFIG" for e in c.get("Environment", []))
            for c in definitions
        )
