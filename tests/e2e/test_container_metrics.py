"""Container metrics with the real collector: the sidecar's rendered ``metrics/container`` pipeline
reads a local task metadata endpoint v4 (AWS's documented response shapes) and delivers to a sink.

Runs on the tests' ECS collector (docker/test-ecs-manifest.yaml, 0.165): the image's release has
the receiver, but the module proxy here does not serve it at that release. The settings these
tests exercise have the same upstream Config keys at both releases
(tests/library/test_ecs_keys_carry_over.py). That build has no ``resource_detection`` (its
dependencies are not served at 0.165), so the app pipelines run without it here; the container
pipeline runs exactly as rendered.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from otel_fargate.config import CollectorConfigOptions, ContainerMetrics, OtlpExporter, render
from otel_fargate.config.core.yamlio import dump_yaml
from otel_fargate.config.model.container_metrics import (
    ALL_CONTAINER_METRICS,
    CONTAINER_METRICS,
    DEFAULT_CONTAINER_METRICS,
    TASK_METRICS,
)

from tests.e2e import ecs_metadata as served
from tests.e2e.harness import (
    Collector,
    MetricPoint,
    OtlpSink,
    Ports,
    ProcessRunner,
    collector_env,
    free_port,
    healthy,
    loopback_overrides,
    start_collector,
    wait_until,
)

pytestmark = pytest.mark.e2e

INTERVAL = 10
#: Generous for a loaded 2-core machine: the first collection comes one interval after start.
WAIT = 120


@pytest.fixture()
def metadata() -> Iterator[served.TaskMetadataServer]:
    server = served.TaskMetadataServer()
    try:
        yield server
    finally:
        server.close()


def _without_resource_detection(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` less ``resource_detection``, which the 0.165 test build does not have."""
    config = {**config, "processors": dict(config["processors"])}
    config["processors"].pop("resource_detection", None)
    pipelines = {
        pid: {**p, "processors": [x for x in p["processors"] if x != "resource_detection"]}
        for pid, p in config["service"]["pipelines"].items()
    }
    config["service"] = {**config["service"], "pipelines": pipelines}
    return config


def start_sidecar(
    processes: ProcessRunner, binary: Path, sink: OtlpSink, uri: str | None,
    chosen: ContainerMetrics,
) -> Collector:
    ports = Ports.allocate()
    rendered = render(
        CollectorConfigOptions(
            preset="sidecar",
            exporters=(OtlpExporter(name="sink", protocol="http", endpoint=sink.endpoint),),
            container_metrics=chosen,
            health_check_endpoint=f"127.0.0.1:{ports.health}",
            self_telemetry_namespace=None,
            environment_name="e2e",
            service_name="e2e-app",
            overrides=loopback_overrides(ports),
        )
    )
    assert "metrics/container" in rendered.config["service"]["pipelines"]
    extra = {"ECS_CONTAINER_METADATA_URI_V4": uri} if uri is not None else {}
    env = collector_env(rendered, **extra)
    env["OTEL_FARGATE_CONFIG"] = dump_yaml(_without_resource_detection(rendered.config))
    return start_collector(processes, binary, rendered, ports, name="sidecar", env=env)


def from_receiver(points: list[MetricPoint]) -> list[MetricPoint]:
    """The points the container metrics receiver made (they carry the task's ARN)."""
    return [p for p in points if p.resource.get("aws.ecs.task.arn") == served.TASK_ARN]


def _names(sink: OtlpSink) -> set[str]:
    return {p.name for p in from_receiver(list(sink.state.points))}


def test_every_metric_arrives_with_its_unit_and_the_tasks_ecs_resource(
    ecs_collector_binary: Path, processes: ProcessRunner, keeping_sink: OtlpSink,
    metadata: served.TaskMetadataServer,
) -> None:
    # GIVEN a sidecar collecting every container metric from the served endpoint
    everything = ContainerMetrics(metrics=tuple(ALL_CONTAINER_METRICS),
                                  collection_interval_seconds=INTERVAL)
    start_sidecar(processes, ecs_collector_binary, keeping_sink, metadata.uri, everything)
    # WHEN it has read the endpoint
    keeping_sink.wait_for(lambda s: _names(keeping_sink) >= set(ALL_CONTAINER_METRICS),
                          timeout=WAIT, what="every container metric")
    points = from_receiver(list(keeping_sink.state.points))
    # THEN exactly the receiver's documented metrics arrive, each with its unit
    assert {p.name for p in points} == set(ALL_CONTAINER_METRICS)
    assert {p.name: p.unit for p in points} == ALL_CONTAINER_METRICS
    # AND task-level metrics carry the task's ECS resource, with the collector's env/service
    task = next(p for p in points if p.name == "ecs.task.memory.utilized")
    assert {key: task.resource.get(key) for key in (
        "aws.ecs.cluster.name", "aws.ecs.task.arn", "aws.ecs.task.family", "aws.ecs.task.revision",
        "aws.ecs.service.name", "aws.ecs.launchtype", "cloud.availability_zone", "cloud.region",
        "cloud.account.id", "environment", "service",
    )} == {
        "aws.ecs.cluster.name": served.CLUSTER, "aws.ecs.task.arn": served.TASK_ARN,
        "aws.ecs.task.family": served.FAMILY, "aws.ecs.task.revision": served.REVISION,
        "aws.ecs.service.name": served.SERVICE, "aws.ecs.launchtype": "fargate",
        "cloud.availability_zone": served.ZONE, "cloud.region": served.REGION,
        "cloud.account.id": served.ACCOUNT, "environment": "e2e", "service": "e2e-app",
    }
    # AND container-level metrics come once per container, named by container.name
    per_container = {p.resource.get("container.name") for p in points if p.name in CONTAINER_METRICS}
    assert per_container == {c.name for c in served.CONTAINERS}
    assert all(p.resource.get("container.name") is None for p in points if p.name in TASK_METRICS)
    # AND the values are those the served shapes imply
    app = served.CONTAINERS[0]
    memory = [p.value for p in points
              if p.name == "container.memory.utilized" and p.resource["container.name"] == app.name]
    assert set(memory) == {app.expected_memory_utilized_mib}
    storage = {p.name: p.value for p in points if "ephemeral_storage" in p.name}
    assert storage == {"ecs.task.ephemeral_storage.utilized": served.EPHEMERAL_UTILIZED,
                       "ecs.task.ephemeral_storage.reserved": served.EPHEMERAL_RESERVED}


def _post_app_metric(collector: Collector, name: str) -> None:
    """An app's OTLP/HTTP metric named like a container metric the selection leaves out."""
    point = metrics_pb2.NumberDataPoint(as_int=7, time_unix_nano=1)
    request = metrics_service_pb2.ExportMetricsServiceRequest(resource_metrics=[
        metrics_pb2.ResourceMetrics(
            resource={"attributes": [common_pb2.KeyValue(
                key="service.name", value=common_pb2.AnyValue(string_value="e2e-app"))]},
            scope_metrics=[metrics_pb2.ScopeMetrics(metrics=[
                metrics_pb2.Metric(name=name, unit="Count",
                                   gauge=metrics_pb2.Gauge(data_points=[point]))])],
        )
    ])
    answer = urllib.request.urlopen(urllib.request.Request(
        f"{collector.http_endpoint}/v1/metrics", data=request.SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"}), timeout=10)
    assert answer.status == 200


def test_only_the_chosen_metrics_go_out_and_the_apps_own_metrics_are_not_filtered(
    ecs_collector_binary: Path, processes: ProcessRunner, keeping_sink: OtlpSink,
    metadata: served.TaskMetadataServer,
) -> None:
    # GIVEN a sidecar with the default selection
    chosen = ContainerMetrics(collection_interval_seconds=INTERVAL)
    collector = start_sidecar(processes, ecs_collector_binary, keeping_sink, metadata.uri, chosen)
    # WHEN the app sends a metric named like one the selection leaves out
    left_out = "container.cpu.usage.total"
    assert left_out not in DEFAULT_CONTAINER_METRICS
    _post_app_metric(collector, left_out)
    # AND the receiver has collected twice
    keeping_sink.wait_for(
        lambda s: _names(keeping_sink) >= set(DEFAULT_CONTAINER_METRICS)
        and sum(1 for p in from_receiver(list(s.points)) if p.name == "ecs.task.cpu.utilized") >= 2,
        timeout=WAIT + INTERVAL, what="two collections of the default metrics",
    )
    points = list(keeping_sink.state.points)
    # THEN the receiver's metrics that arrive are exactly the chosen ones
    assert {p.name for p in from_receiver(points)} == set(DEFAULT_CONTAINER_METRICS)
    # AND the app's metric passed its own pipeline untouched
    apps = [p for p in points if p.resource.get("service.name") == "e2e-app" and p.name == left_out]
    assert [p.value for p in apps] == [7.0]


@pytest.mark.parametrize("endpoint", ["unreachable", "slow"])
def test_an_unreachable_or_slow_endpoint_is_a_logged_error_not_a_crash(
    endpoint: str, ecs_collector_binary: Path, processes: ProcessRunner, keeping_sink: OtlpSink,
    metadata: served.TaskMetadataServer,
) -> None:
    # GIVEN a metadata endpoint nobody answers on, or one answering after 2x the interval
    if endpoint == "unreachable":
        uri = f"http://127.0.0.1:{free_port()}/v4/gone"
    else:
        metadata.delay_seconds = 2 * INTERVAL
        uri = metadata.uri
    chosen = ContainerMetrics(collection_interval_seconds=INTERVAL)
    collector = start_sidecar(processes, ecs_collector_binary, keeping_sink, uri, chosen)
    # WHEN collections come due (unreachable: the receiver logs the failure)
    if endpoint == "unreachable":
        wait_until(lambda: "Failed to collect stats" in collector.process.log(), timeout=WAIT,
                   interval=0.5, what="the receiver's logged failure")
    else:
        wait_until(lambda: sum(metadata.requests.values()) >= 1, timeout=WAIT, interval=0.5,
                   what="a stalled request to the endpoint")
    # THEN the collector keeps running and healthy, and the app's data still flows
    _post_app_metric(collector, "app.requests")
    keeping_sink.wait_for(lambda s: any(p.name == "app.requests" for p in s.points),
                          timeout=60, what="the app's metric")
    assert collector.process.alive()
    assert healthy(f"http://127.0.0.1:{collector.ports.health}/")
    if endpoint == "slow":  # AND a slow endpoint's answers still become metrics
        keeping_sink.wait_for(lambda s: bool(from_receiver(list(s.points))),
                              timeout=WAIT + 4 * INTERVAL, what="metrics from the slow endpoint")


def test_without_the_variable_the_collector_names_what_is_missing(
    ecs_collector_binary: Path, processes: ProcessRunner, keeping_sink: OtlpSink,
) -> None:
    # GIVEN no ECS_CONTAINER_METADATA_URI_V4 (Fargate sets it in every container of a task on
    # platform 1.4.0 or later; only a collector run outside ECS lacks it)
    chosen = ContainerMetrics(collection_interval_seconds=INTERVAL)
    # WHEN the sidecar starts THEN it exits, naming the endpoint it could not find
    with pytest.raises(RuntimeError, match="exited"):
        start_sidecar(processes, ecs_collector_binary, keeping_sink, None, chosen)
    log = processes.processes[-1].log()
    assert "unable to detect task metadata endpoint" in log
