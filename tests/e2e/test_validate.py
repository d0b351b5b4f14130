"""Every collector configuration the library renders is accepted by the real collector.

``<collector> validate`` loads the configuration exactly as the container does
(``--config=env:OTEL_FARGATE_CONFIG``), builds every component from its settings and checks the
pipelines, without binding ports or sending anything.

The collector built for the tests leaves out the components in ``LOCAL_EXCLUDE`` of
tools/collector.py (the AWS exporters, sigv4auth, pprof), whose modules the Go module proxy
does not serve at the pinned version. A configuration using one of them is validated with
each such component replaced by a built stand-in of the same kind under a derived id, every
reference renamed: receivers, processors, pipelines and the other components are checked by
the real collector; the replaced components' own settings are not. Components that are
neither built nor in ``LOCAL_EXCLUDE`` fail the test.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from otel_fargate.config import CollectorConfigOptions, render
from otel_fargate.config.model.components import MODULE_TYPES

from tests.conftest import (
    collector_config_text,
    collector_containers,
    container_environment,
    stack_names,
)
from tests.e2e.harness import REPO_ROOT, WITHOUT_CONTAINER_METRICS
from tests.library.guard_cases import LEGITIMATE, Case
from tests.library.guard_cases import options as guard_options
from tools.collector import LOCAL_EXCLUDE

pytestmark = pytest.mark.e2e

GOLDEN = sorted((REPO_ROOT / "tests" / "library" / "golden").glob("*.yaml"))
KINDS = ("receivers", "processors", "exporters", "extensions", "connectors")

_OTLP_STAND_IN: dict[str, Any] = {"protocols": {"grpc": {"endpoint": "127.0.0.1:0"}}}

#: (kind, type) of an excluded module → (stand-in type, stand-in settings). One type can name
#: two components (``awsxray`` is an exporter and a receiver), so the kind is part of the key.
STAND_INS: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {
    ("exporters", "awsxray"): ("debug", {}),
    ("exporters", "awsemf"): ("debug", {}),
    ("exporters", "awscloudwatchlogs"): ("debug", {}),
    ("extensions", "sigv4auth"): ("bearertokenauth", {"token": "stand-in"}),
    ("extensions", "pprof"): ("zpages", {"endpoint": "127.0.0.1:0"}),
    ("receivers", "awsecscontainermetrics"): ("otlp", _OTLP_STAND_IN),
    ("extensions", "ecs_observer"): ("zpages", {"endpoint": "127.0.0.1:0"}),
    ("receivers", "receiver_creator"): ("otlp", _OTLP_STAND_IN),
    ("receivers", "awsxray"): ("otlp", _OTLP_STAND_IN),
    ("extensions", "awsproxy"): ("zpages", {"endpoint": "127.0.0.1:0"}),
}


_UNKNOWN = re.compile(
    r"'(?P<kind>[a-z]+)' unknown type: \"(?P<type>[^\"]+)\" for id: \"(?P<id>[^\"]+)\""
)


def _rename_in(document: dict[str, Any], kind: str, old: str, new: str) -> dict[str, Any]:
    """``document`` with component ``old`` of ``kind`` renamed ``new``: everywhere for an
    extension (authenticators name extensions), else in its section and the pipelines only,
    so an exporter sharing the id of a receiver (``awsxray``) keeps it.
    """
    if kind == "extensions":
        renamed: dict[str, Any] = _rename(document, old, new)
        return renamed
    document[kind] = {(new if cid == old else cid): v for cid, v in document[kind].items()}
    for pipeline in ((document.get("service") or {}).get("pipelines") or {}).values():
        ids = pipeline.get(kind)
        if isinstance(ids, list):
            pipeline[kind] = [new if cid == old else cid for cid in ids]
    return document


def _rename(node: Any, old: str, new: str) -> Any:
    if isinstance(node, dict):
        return {
            (new if key == old else key): _rename(value, old, new) for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rename(item, old, new) for item in node]
    return new if node == old else node


def validate_with_stand_ins(
    binary: Path, text: str, *, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Validate ``text``; each component the collector reports as an unknown type and that
    has a stand-in is replaced and the result validated again.

    Returns the last validation and the (kind, id) of every component replaced.
    """
    document = yaml.safe_load(text)
    replaced: list[tuple[str, str]] = []
    for _ in range(len(STAND_INS) * 4 + 1):
        result = validate(binary, yaml.safe_dump(document, sort_keys=False), env=env)
        unknown = _UNKNOWN.findall(result.stderr)
        if result.returncode == 0 or not unknown:
            return result, replaced
        for kind, component_type, component_id in unknown:
            stand_in = STAND_INS.get((kind, component_type))
            if stand_in is None or (kind, component_id) in replaced:
                return result, replaced
            new_id = f"{stand_in[0]}/standin_{kind}_{component_id.replace('/', '_')}"
            document = _rename_in(document, kind, component_id, new_id)
            document[kind][new_id] = dict(stand_in[1])
            replaced.append((kind, component_id))
    raise AssertionError(f"validate_with_stand_ins: no result after replacing {replaced}")


def validate(
    binary: Path, text: str, *, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``<collector> validate`` of ``text`` read from the environment, as in the container."""
    names = set(re.findall(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}", text))
    full_env = {
        "PATH": "/usr/bin:/bin",
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "dummy-secret",
        **{name: f"dummy-{name.lower()}" for name in names},
        **(env or {}),
        "OTEL_FARGATE_CONFIG": text,
    }
    return subprocess.run(
        [str(binary), "validate", "--config=env:OTEL_FARGATE_CONFIG"],
        capture_output=True,
        text=True,
        timeout=60,
        env=full_env,
        check=False,
    )


def test_stand_ins_cover_exactly_the_components_left_out_of_the_test_build() -> None:
    # GIVEN the (kind, type) of the modules tools/collector.py leaves out of the test build
    excluded = {MODULE_TYPES[module] for module in LOCAL_EXCLUDE}
    # THEN each has a stand-in of its kind, and no stand-in is kept for a component that is built
    assert excluded == set(STAND_INS)
    assert ("receivers", "awsxray") in excluded
    assert ("exporters", "awsxray") in excluded


@pytest.mark.parametrize("golden", GOLDEN, ids=[path.stem for path in GOLDEN])
def test_golden_config_is_accepted_by_the_collector(collector_binary: Path, golden: Path) -> None:
    # GIVEN a committed golden configuration, AWS-only components replaced by stand-ins
    # WHEN the real collector validates it
    result, replaced = validate_with_stand_ins(collector_binary, golden.read_text())
    # THEN it is accepted
    assert result.returncode == 0, f"{golden.name} (stand-ins for {replaced}):\n{result.stderr}"


def test_there_are_golden_configs() -> None:
    assert len(GOLDEN) >= 5, GOLDEN


@pytest.mark.parametrize("stack_name", stack_names())
def test_synthesized_collector_configs_are_accepted_by_the_collector(
    collector_binary: Path, synthesized: Any, stack_name: str
) -> None:
    # GIVEN every collector container of a synthesized stack, with its own environment
    template = synthesized.templates[stack_name].to_json()
    containers = collector_containers(template)
    if stack_name.endswith("-network"):
        assert containers == []
        return
    assert containers, f"{stack_name}: no otel-collector container"
    for container in containers:
        environment = {
            name: value
            for name, value in container_environment(container).items()
            if isinstance(value, str) and name != "OTEL_FARGATE_CONFIG"
        }
        # WHEN the real collector validates the config as the container receives it
        result, replaced = validate_with_stand_ins(
            collector_binary, collector_config_text(container), env=environment
        )
        # THEN it is accepted
        assert result.returncode == 0, f"{stack_name} (stand-ins for {replaced}):\n{result.stderr}"


#: The agent configuration with own metrics kept local and container metrics off: every
#: component it uses is built.
AGENT = render(
    CollectorConfigOptions(
        preset="agent", self_telemetry_namespace=None, container_metrics=WITHOUT_CONTAINER_METRICS
    )
).yaml


def test_a_config_with_an_unknown_component_type_is_rejected(collector_binary: Path) -> None:
    # GIVEN the agent configuration with an exporter of a type no collector has
    document = yaml.safe_load(AGENT)
    document["exporters"]["nosuchexporter"] = {}
    document["service"]["pipelines"]["traces"]["exporters"].append("nosuchexporter")
    # WHEN it is validated
    result = validate(collector_binary, yaml.safe_dump(document))
    # THEN the collector refuses it, naming the type
    assert result.returncode != 0
    assert 'unknown type: "nosuchexporter"' in result.stderr


def test_a_pipeline_referencing_an_undefined_component_is_rejected(collector_binary: Path) -> None:
    # GIVEN the agent configuration whose traces pipeline names a processor never defined
    document = yaml.safe_load(AGENT)
    document["service"]["pipelines"]["traces"]["processors"].append("batch/undefined")
    # WHEN it is validated
    result = validate(collector_binary, yaml.safe_dump(document))
    # THEN the collector refuses it, naming the reference
    assert result.returncode != 0
    assert "batch/undefined" in result.stderr


def test_the_unmodified_agent_config_is_accepted(collector_binary: Path) -> None:
    # GIVEN / WHEN the base of the two cases above, unchanged THEN it is accepted
    result = validate(collector_binary, AGENT)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("case", LEGITIMATE, ids=[c.id for c in LEGITIMATE])
def test_every_configuration_the_guards_accept_is_accepted_by_the_collector(
    collector_binary: Path, case: Case
) -> None:
    # GIVEN a configuration the security rules accept (tests/library/guard_cases.py)
    rendered = render(guard_options(case))
    # WHEN the real collector validates it, with the container's plain environment
    result, replaced = validate_with_stand_ins(
        collector_binary, rendered.yaml, env=dict(rendered.environment)
    )
    # THEN it is accepted
    assert result.returncode == 0, f"{case.id} (stand-ins for {replaced}):\n{result.stderr}"
