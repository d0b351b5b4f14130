"""Every synthesized template: snapshots, cfn-lint, checkov, and properties that must always hold."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from stacks.demo import DEMO_METRICS_PORT
from tests.conftest import (
    REPO_ROOT,
    Synthesized,
    checkov_binary,
    collector_config_text,
    collector_containers,
    stack_names,
)

STACKS = stack_names()
_ASSET_HASH = re.compile(r"[0-9a-f]{64}")


def load(synthesized: Synthesized, name: str) -> dict[str, Any]:
    template: dict[str, Any] = json.loads(synthesized.template_path(name).read_text())
    return template


def masked(value: Any) -> Any:
    """The template with asset hashes replaced, so a snapshot changes only when the stack does."""
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    if isinstance(value, str):
        return _ASSET_HASH.sub("<asset-hash>", value)
    return value


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def test_every_environment_has_its_stacks(synthesized: Synthesized) -> None:
    # GIVEN cdk.json with dev (demo on) and prod (demo off)
    # THEN synth produced exactly the expected stacks, each with a template file
    assert sorted(synthesized.stacks) == sorted(STACKS)
    assert "otel-fargate-dev-demo" in STACKS and "otel-fargate-prod-demo" not in STACKS
    for name in STACKS:
        assert synthesized.template_path(name).is_file()


@pytest.mark.parametrize("stack_name", STACKS)
def test_snapshot(synthesized: Synthesized, snapshot_json: SnapshotAssertion, stack_name: str) -> None:
    assert masked(load(synthesized, stack_name)) == snapshot_json


@pytest.mark.parametrize("stack_name", STACKS)
def test_every_collector_health_check_is_exec_form(synthesized: Synthesized, stack_name: str) -> None:
    # A one-element command would become CMD-SHELL, which needs a shell the image lacks.
    for container in collector_containers(load(synthesized, stack_name)):
        command = container["HealthCheck"]["Command"]
        assert command[0] == "CMD", command
        assert command[1] == "/healthcheck"
        url = command[command.index("--url") + 1]
        # the probe checks where the rendered config's health_check extension listens
        endpoint = re.search(r"health_check:\n\s+endpoint: (\S+)", collector_config_text(container))
        assert endpoint is not None
        host, port = endpoint.group(1).rsplit(":", 1)
        assert url == f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/"


def test_collector_stacks_are_the_gateway_and_demo_stacks(synthesized: Synthesized) -> None:
    with_collectors = {n for n in STACKS if collector_containers(load(synthesized, n))}
    assert with_collectors == {n for n in STACKS if not n.endswith("-network")}


@pytest.mark.parametrize("stack_name", STACKS)
def test_no_secret_value_in_templates(synthesized: Synthesized, stack_name: str) -> None:
    text = synthesized.template_path(stack_name).read_text()
    # secrets come through ECS secrets only: no literal bearer tokens or API keys
    assert not re.search(r"Bearer [A-Za-z0-9._~+/=-]{16,}", text)
    assert not re.search(r"(?i)(api[_-]?key|password|token)\"?\s*[:=]\s*\"?[A-Za-z0-9]{20,}", text)
    for container in collector_containers(load(synthesized, stack_name)):
        assert {s["Name"] for s in container.get("Secrets", [])} >= {
            ref[len("${env:"):-1]
            for ref in re.findall(r"\$\{env:[A-Z0-9_]+\}", collector_config_text(container))
        }


@pytest.mark.slow
def test_cfn_lint_is_clean(synthesized: Synthesized) -> None:
    templates = sorted(str(p) for p in synthesized.outdir.glob("*.template.json"))
    assert templates
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--config-file",
         str(REPO_ROOT / ".cfnlintrc.yaml"), *templates],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_checkov_finds_nothing_unacknowledged(synthesized: Synthesized, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    for path in synthesized.outdir.glob("*.template.json"):
        shutil.copy(path, templates / path.name)
    result = subprocess.run(
        [checkov_binary(), "--directory", str(templates), "--framework", "cloudformation",
         "--config-file", str(REPO_ROOT / ".checkov.yaml"), "--compact", "--quiet",
         "--output", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    reports = json.loads(result.stdout) if result.stdout.strip() else []
    reports = reports if isinstance(reports, list) else [reports]
    failed = [
        f"{check['check_id']} {check['resource']} ({check['file_path']})"
        for report in reports
        for check in report.get("results", {}).get("failed_checks", [])
    ]
    assert result.returncode == 0 and not failed, "\n".join(failed) or result.stderr


def test_checkov_skips_all_have_reasons() -> None:
    lines = (REPO_ROOT / ".checkov.yaml").read_text().splitlines()
    skips = [line for line in lines if re.match(r"\s+- CKV", line)]
    assert skips
    for line in skips:
        assert re.match(r"\s+- CKV\w+\s+# \S.{15,}", line), f"skip without a reason: {line}"


def test_prod_keeps_its_telemetry_log_groups_and_dev_does_not(synthesized: Synthesized) -> None:
    # GIVEN the gateways' exporter log groups (they hold the apps' telemetry)
    for env, policy in (("prod", "Retain"), ("dev", "Delete")):
        template = synthesized.templates[f"otel-fargate-{env}-gateway"].to_json()
        groups = {
            resource["Properties"]["LogGroupName"]: resource
            for resource in template["Resources"].values()
            if resource["Type"] == "AWS::Logs::LogGroup"
            and isinstance(resource["Properties"].get("LogGroupName"), str)
        }
        metrics = groups[f"/otel-fargate/{env}/metrics"]
        # THEN prod retains them when its stack is deleted, dev removes them
        assert metrics["DeletionPolicy"] == policy, env


def test_dev_demo_web_service_is_instrumented_by_the_aspect(synthesized: Synthesized) -> None:
    # GIVEN dev's demo task, whose web container asks for the Node.js agent by Docker label
    # and whose stacks carry the environment's InstrumentApp Aspect
    template = load(synthesized, "otel-fargate-dev-demo")
    (task,) = [
        r["Properties"] for r in template["Resources"].values()
        if r["Type"] == "AWS::ECS::TaskDefinition"
        and any(c["Name"] == "demo-web" for c in r["Properties"]["ContainerDefinitions"])
    ]
    containers = {c["Name"]: c for c in task["ContainerDefinitions"]}
    web = containers["demo-web"]
    # THEN the web container loads the agent from the init container's copy, after it succeeded
    environment = {e["Name"]: e["Value"] for e in web["Environment"]}
    assert environment["NODE_OPTIONS"] == (
        "--require /otel-auto-instrumentation-nodejs/autoinstrumentation.js"
    )
    assert environment["OTEL_SERVICE_NAME"] == "demo-web"
    assert {"Condition": "SUCCESS", "ContainerName": "otel-agent-nodejs"} in web["DependsOn"]
    assert web["MountPoints"] == [
        {
            "ContainerPath": "/otel-auto-instrumentation-nodejs",
            "ReadOnly": True,
            "SourceVolume": "otel-auto-instrumentation-nodejs",
        }
    ]
    # AND the load generator, which asked for nothing, is left alone
    assert "NODE_OPTIONS" not in {e["Name"] for e in containers["demo-app"]["Environment"]}
    assert "otel-agent-nodejs" in containers and len(containers) == 4
    # AND every container's memory fits the task beside the Service Connect proxy's 128 MiB
    assert sum(c["Memory"] for c in containers.values()) + 128 <= int(task["Memory"])


def test_dev_scrapes_the_demo_web_service_with_one_scraper_task(synthesized: Synthesized) -> None:
    # GIVEN dev's demo stack (demo.scrape on)
    template = load(synthesized, "otel-fargate-dev-demo")
    resources = template["Resources"].values()
    containers = {
        c["Name"]: c for r in resources if r["Type"] == "AWS::ECS::TaskDefinition"
        for c in r["Properties"]["ContainerDefinitions"]
    }
    # THEN the web service is marked as a scrape target on the port its script serves
    web = containers["demo-web"]
    assert web["DockerLabels"]["ECS_PROMETHEUS_EXPORTER_PORT"] == str(DEMO_METRICS_PORT)
    assert web["DockerLabels"]["ECS_PROMETHEUS_JOB_NAME"] == "demo-web"
    assert {"ContainerPort": DEMO_METRICS_PORT, "Protocol": "tcp"} in web["PortMappings"]
    assert f".listen({DEMO_METRICS_PORT},'0.0.0.0')" in web["Command"][-1]
    # AND one scraper task, never two, forwards to the gateway
    (scraper,) = [r for r in resources if r["Type"] == "AWS::ECS::Service"
                  and r["Properties"]["DeploymentConfiguration"]["MaximumPercent"] == 100]
    assert scraper["Properties"]["DesiredCount"] == 1
    assert scraper["Properties"]["DeploymentConfiguration"]["MinimumHealthyPercent"] == 0
    # AND the demo tasks admit it on the metrics port only
    (ingress,) = [r["Properties"] for r in resources if r["Type"] == "AWS::EC2::SecurityGroupIngress"
                  and r["Properties"].get("FromPort") == DEMO_METRICS_PORT]
    assert ingress["ToPort"] == DEMO_METRICS_PORT and "SourceSecurityGroupId" in ingress
