"""Every component the presets render or ADOT's samples use says what it needs in AWS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Template
from otel_fargate import CollectorSidecar
from otel_fargate.config.model.component_iam import COMPONENT_IAM

from tests.library.test_constructs import app_task, new_stack, policy_actions

HERE = Path(__file__).parent
CONFIGS = sorted([*(HERE / "adot").glob("*.yaml"), *(HERE / "golden").glob("*.yaml")])


def _types(path: Path) -> set[tuple[str, str]]:
    config = yaml.safe_load(path.read_text())
    return {
        (section, str(cid).split("/", 1)[0])
        for section in ("receivers", "processors", "exporters", "extensions")
        for cid in (config.get(section) or {})
    }


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_component_names_its_actions_or_why_it_needs_none(path: Path) -> None:
    for section, kind in sorted(_types(path)):
        entry = COMPONENT_IAM[section].get(kind)
        assert entry is not None, f"{path.name}: {section}.{kind} has no IAM entry"
        assert bool(entry.actions) != bool(entry.reason), f"{section}.{kind}: actions or a reason"


def _granted(config: str, **options: Any) -> set[str]:
    """What the collector's task role may call with ``config`` as its whole configuration."""
    stack = new_stack("Granted")
    task, app = app_task(stack)
    CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app],
                     config_replacement=config, monitoring=False, **options)
    return policy_actions(Template.from_stack(stack))


@pytest.mark.parametrize(
    ("section", "kind", "settings"),
    [
        ("receivers", "awsxray", {"endpoint": "127.0.0.1:2000", "transport": "udp"}),
        ("extensions", "awsproxy", {"endpoint": "127.0.0.1:2000"}),
        ("extensions", "ecs_observer", {"cluster_name": "c", "cluster_region": "eu-west-1", "result_file": "/tmp/t.yaml",
                                        "services": [{"name_pattern": "^shop$"}]}),
    ],
)
def test_the_actions_a_component_names_are_granted(section: str, kind: str, settings: dict[str, Any]) -> None:
    receivers = {"otlp": {"protocols": {"grpc": {"endpoint": "127.0.0.1:4317"}}}}
    extensions: dict[str, Any] = {}
    pipeline_receivers = ["otlp"]
    if section == "receivers":
        receivers[kind] = settings
        pipeline_receivers.append(kind)
    else:
        extensions[kind] = settings
    config = {
        "receivers": receivers,
        "extensions": extensions,
        "exporters": {"debug": {}},
        "service": {
            "extensions": list(extensions),
            "pipelines": {"traces": {"receivers": pipeline_receivers, "exporters": ["debug"]}},
        },
    }
    # WHEN the only component that calls AWS is this one
    granted = _granted(yaml.safe_dump(config))
    # THEN the task role gets exactly what the component calls, no more (the README's "exactly")
    assert granted == set(COMPONENT_IAM[section][kind].actions)


@pytest.mark.parametrize(
    ("kind", "signal", "settings", "extensions"),
    [
        ("awsxray", "traces", {"telemetry": {"enabled": True}}, {}),
        (
            "awsemf",
            "metrics",
            {"namespace": "Shop", "log_group_name": "/shop/m", "region": "us-east-1", "log_retention": 14},
            {},
        ),
        (
            "awscloudwatchlogs",
            "logs",
            {"log_group_name": "/shop/l", "log_stream_name": "s", "region": "us-east-1", "log_retention": 14},
            {},
        ),
        (
            "prometheusremotewrite",
            "metrics",
            {
                "endpoint": "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write",
                "auth": {"authenticator": "sigv4auth"},
            },
            {"sigv4auth": {"region": "eu-west-1"}},
        ),
    ],
)
def test_an_exporter_is_granted_exactly_the_actions_it_names(
    kind: str, signal: str, settings: dict[str, Any], extensions: dict[str, Any]
) -> None:
    # GIVEN an exporter with every conditional call switched on (telemetry; a group in another
    # region with a retention, which the exporter creates and retains)
    config = {
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "127.0.0.1:4317"}}}},
        "extensions": extensions,
        "exporters": {kind: settings},
        "service": {
            "extensions": list(extensions),
            "pipelines": {signal: {"receivers": ["otlp"], "exporters": [kind]}},
        },
    }
    # WHEN it is the only component that calls AWS
    granted = _granted(yaml.safe_dump(config))
    # THEN the task role gets exactly the actions its entry names
    assert granted == set(COMPONENT_IAM["exporters"][kind].actions)
