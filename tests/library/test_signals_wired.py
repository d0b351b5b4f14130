"""Signals wired end to end: agents forward what their gateway accepts, apps send only what
their collector accepts, and processors sit only in pipelines they can serve."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template
from otel_fargate import (
    CloudWatchEmfExporter,
    CollectorGateway,
    CollectorSidecar,
    ConfigError,
    DebugExporter,
    XRayExporter,
)
from otel_fargate.config import CollectorConfigOptions, render

from tests.conftest import container_environment
from tests.library.test_constructs import app_task, containers, new_cluster, new_stack

USER_PIPELINES = ("traces", "metrics", "logs")


def _signals(config: dict[str, Any]) -> set[str]:
    return {p for p in config["service"]["pipelines"] if p in USER_PIPELINES}


@pytest.fixture(scope="module")
def traces_only_gateway() -> dict[str, Any]:
    """GIVEN a gateway that exports traces only and an agent in front of it (one synth)."""
    stack = new_stack("TracesOnly")
    gateway = CollectorGateway(
        stack, "Gateway", cluster=new_cluster(stack), exporters=XRayExporter()
    )
    task, app = app_task(stack, memory=384)
    agent = CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app], gateway=gateway)
    env = container_environment(containers(Template.from_stack(stack))["checkout"])
    return {"gateway": gateway, "agent": agent, "env": env}


def test_agent_forwards_only_what_the_gateway_accepts(traces_only_gateway: dict[str, Any]) -> None:
    # THEN the gateway accepts traces only, and the agent receives and forwards traces only
    assert traces_only_gateway["gateway"].rendered_config.otlp_signals == ("traces",)
    agent = traces_only_gateway["agent"].rendered_config
    assert _signals(agent.config) == {"traces"}
    assert agent.otlp_signals == ("traces",)


def test_app_exports_only_signals_its_collector_accepts(traces_only_gateway: dict[str, Any]) -> None:
    env = traces_only_gateway["env"]
    assert env["OTEL_TRACES_EXPORTER"] == "otlp"
    assert env["OTEL_METRICS_EXPORTER"] == "none"
    assert env["OTEL_LOGS_EXPORTER"] == "none"


def test_sidecar_without_a_logs_exporter_tells_the_app_not_to_send_logs() -> None:
    # GIVEN a sidecar exporting to X-Ray and EMF (no logs pipeline)
    stack = new_stack("XrayEmf")
    task, app = app_task(stack)
    sidecar = CollectorSidecar(
        stack,
        "Otel",
        task_definition=task,
        app_containers=[app],
        exporters=[XRayExporter(), CloudWatchEmfExporter(namespace="Shop", log_group_name="/shop")],
    )
    # THEN the app sends traces and metrics, and no logs
    env = sidecar.otel_environment(app)
    assert (env["OTEL_TRACES_EXPORTER"], env["OTEL_METRICS_EXPORTER"], env["OTEL_LOGS_EXPORTER"]) == (
        "otlp",
        "otlp",
        "none",
    )


def test_forward_signals_belong_to_the_agent_only() -> None:
    with pytest.raises(ConfigError, match=r"^forward_signals: only the agent preset forwards"):
        CollectorConfigOptions(
            preset="sidecar", exporters=(DebugExporter(),), forward_signals=("traces",)
        )
    with pytest.raises(ConfigError, match=r"^forward_signals: the gateway accepts no signal"):
        CollectorConfigOptions(preset="agent", forward_signals=())
    with pytest.raises(ConfigError, match=r"^forward_signals: unknown signal 'profiles'"):
        CollectorConfigOptions(preset="agent", forward_signals=("profiles",))  # type: ignore[arg-type]


TAIL_SAMPLING = {"decision_wait": "10s", "policies": [{"name": "all", "type": "always_sample"}]}


def test_a_traces_only_processor_goes_into_the_traces_pipeline_only() -> None:
    # GIVEN a sidecar with every signal and a tail_sampling processor
    rendered = render(
        CollectorConfigOptions(
            preset="sidecar",
            exporters=(DebugExporter(),),
            processors={"tail_sampling": TAIL_SAMPLING, "attributes/redact": {"actions": []}},
        )
    )
    pipelines = rendered.config["service"]["pipelines"]
    # THEN tail_sampling serves traces alone, attributes every signal
    assert "tail_sampling" in pipelines["traces"]["processors"]
    assert "tail_sampling" not in pipelines["metrics"]["processors"]
    assert "tail_sampling" not in pipelines["logs"]["processors"]
    assert all("attributes/redact" in pipelines[s]["processors"] for s in USER_PIPELINES)


def test_a_processor_that_serves_no_pipeline_is_refused() -> None:
    with pytest.raises(
        ConfigError, match=r"^processors.tail_sampling: serves traces only, and this collector has no pipeline"
    ):
        render(
            CollectorConfigOptions(
                preset="sidecar",
                exporters=(DebugExporter(signals=("metrics",)),),
                processors={"tail_sampling": TAIL_SAMPLING},
            )
        )


def test_an_override_cannot_put_a_traces_processor_into_a_metrics_pipeline() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^overrides: service.pipelines.metrics.processors: 'tail_sampling' serves traces only",
    ):
        render(
            CollectorConfigOptions(
                preset="sidecar",
                exporters=(DebugExporter(),),
                processors={"tail_sampling": TAIL_SAMPLING},
                overrides={
                    "service": {
                        "pipelines": {
                            "metrics": {"processors": ["memory_limiter", "tail_sampling", "batch"]}
                        }
                    }
                },
            )
        )
