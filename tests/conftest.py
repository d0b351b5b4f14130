"""Shared fixtures: the app is synthesized once per test session, every stack from that synth."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

REPO_ROOT = Path(__file__).resolve().parent.parent
for entry in (str(REPO_ROOT), str(REPO_ROOT / "constructs")):
    if entry not in sys.path:
        sys.path.insert(0, entry)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """In CI nothing may be skipped: a skip there would hide a missing tool."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every tool must be installed: {report.longrepr}"


def cdk_json_context() -> dict[str, Any]:
    document = json.loads((REPO_ROOT / "cdk.json").read_text())
    context: dict[str, Any] = document["context"]
    return context


@dataclass(frozen=True)
class Synthesized:
    """The app built and synthesized once: its stacks and its cloud assembly directory."""

    app: Any
    outdir: Path
    stacks: dict[str, Any]
    templates: dict[str, Any]

    def template_path(self, stack_name: str) -> Path:
        return self.outdir / f"{stack_name}.template.json"


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """Every environment of cdk.json, synthesized once into a temporary cloud assembly."""
    from aws_cdk import Stack
    from aws_cdk.assertions import Template

    from app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    app = build_app(context=cdk_json_context(), outdir=str(outdir))
    app.synth()
    stacks = {
        child.stack_name: child for child in app.node.children if isinstance(child, Stack)
    }
    templates = {name: Template.from_stack(stack) for name, stack in stacks.items()}
    yield Synthesized(app=app, outdir=outdir, stacks=stacks, templates=templates)


def stack_names() -> list[str]:
    """Every stack the app builds from cdk.json, known at collection time without a synth."""
    from stacks.settings import parse_environments

    names: list[str] = []
    for settings in parse_environments(cdk_json_context()["environments"]).values():
        names += [settings.stack_name("network"), settings.stack_name("gateway")]
        if settings.demo.enabled:
            names.append(settings.stack_name("demo"))
    return names


def container_environment(container: dict[str, Any]) -> dict[str, Any]:
    """A container definition's environment as a dict."""
    return {pair["Name"]: pair["Value"] for pair in container.get("Environment", [])}


#: What :func:`collector_config_text` reads where CloudFormation fills a value in.
CFN_RESOLVED = "cfn-resolved"


def collector_config_text(container: dict[str, Any]) -> str:
    """The collector YAML a container definition carries, as the container will see it; a
    value CloudFormation fills in (a cluster's name in an ``Fn::Join``) reads ``cfn-resolved``.
    """
    value = container_environment(container)["OTEL_FARGATE_CONFIG"]
    if isinstance(value, dict) and "Fn::Join" in value:
        delimiter, parts = value["Fn::Join"]
        value = delimiter.join(p if isinstance(p, str) else CFN_RESOLVED for p in parts)
    elif isinstance(value, dict):
        value = value["Fn::Sub"].replace("${!", "${")
    assert isinstance(value, str)
    return value


def collector_containers(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every collector container definition in a template."""
    return [
        container
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::ECS::TaskDefinition"
        for container in resource["Properties"]["ContainerDefinitions"]
        if container["Name"] == "otel-collector"
    ]


def checkov_binary() -> str:
    """checkov: ``$CHECKOV``, the tool environment ``make test`` installs, or the PATH."""
    configured = os.environ.get("CHECKOV")
    if configured and Path(configured).is_file():
        return configured
    local = REPO_ROOT / ".tools" / "checkov" / "bin" / "checkov"
    if local.is_file():
        return str(local)
    found = shutil.which("checkov")
    if found is None:
        pytest.skip("checkov is not installed (make test installs it into .tools/checkov)")
    return found
