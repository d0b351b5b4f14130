"""Persistent sending queues: on a task-scoped volume, so a restarted collector resumes."""

from __future__ import annotations

import pytest
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Template
from otel_fargate import CollectorImage, CollectorSidecar, OtelFargateError, OtlpExporter
from otel_fargate.config import CollectorConfigOptions, DebugExporter, XRayExporter, render

from tests.library.test_constructs import app_task, containers, new_stack

BACKEND = OtlpExporter(name="backend", endpoint="api.example.com:443")


def test_every_exporter_queue_goes_to_the_file_storage() -> None:
    rendered = render(
        CollectorConfigOptions(
            preset="sidecar",
            exporters=(BACKEND, XRayExporter(), DebugExporter()),
            persistent_queues=True,
        )
    )
    config = rendered.config
    # THEN the queued exporter keeps its queue on disk; the others have no queue to keep
    assert config["exporters"]["otlp_grpc/backend"]["sending_queue"]["storage"] == "file_storage/queue"
    assert "sending_queue" not in config["exporters"]["awsxray"]
    assert config["extensions"]["file_storage/queue"]["directory"] == "/var/lib/otelcol/queue"
    assert "file_storage/queue" in config["service"]["extensions"]


def test_a_bundled_sidecar_mounts_a_task_volume_for_its_queues() -> None:
    stack = new_stack("Durable")
    task, app = app_task(stack)
    CollectorSidecar(stack, "Otel", task_definition=task, app_containers=[app], exporters=BACKEND)
    template = Template.from_stack(stack)
    collector = containers(template)["otel-collector"]
    # THEN the queue directory is a task-scoped volume: a restarted container finds it again
    assert collector["MountPoints"] == [
        {"ContainerPath": "/var/lib/otelcol/queue", "ReadOnly": False, "SourceVolume": "otel-collector-queue"}
    ]
    (definition,) = template.find_resources("AWS::ECS::TaskDefinition").values()
    assert {"Name": "otel-collector-queue"} in definition["Properties"]["Volumes"]


def test_a_registry_image_keeps_queues_in_memory_unless_told() -> None:
    stack = new_stack("Registry")
    task, app = app_task(stack)
    sidecar = CollectorSidecar(
        stack, "Otel", task_definition=task, app_containers=[app], exporters=BACKEND,
        image=CollectorImage.from_registry("example/otelcol:1", probe_path="/healthcheck"),
    )
    assert "file_storage/queue" not in sidecar.rendered_config.config.get("extensions", {})
    assert not containers(Template.from_stack(stack))["otel-collector"].get("MountPoints")


def test_queues_must_fit_the_tasks_ephemeral_storage() -> None:
    stack = new_stack("Tiny")
    task = ecs.FargateTaskDefinition(stack, "Task", cpu=4096, memory_limit_mib=30720, ephemeral_storage_gib=21)
    app = task.add_container("app", image=ecs.ContainerImage.from_registry("busybox"), memory_limit_mib=1024)
    exporters = [OtlpExporter(name=f"b{i}", endpoint="api.example.com:443") for i in range(3)]
    with pytest.raises(OtelFargateError, match=r"^persistent_queues: 3 queues of up to \d+ bytes together must fit half"):
        CollectorSidecar(
            stack, "Otel", task_definition=task, app_containers=[app], exporters=exporters,
            memory_mib=28672, cpu=2048,
        )
