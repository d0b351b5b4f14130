"""A stop that drains: the supervisor holds SIGTERM back until the collector holds nothing.

Each role's rendered configuration (sidecar, gateway, sampler) runs under the supervisor in
``--collector-only`` mode, as its container does on ECS, with the backend down: the sink's
loopback port is fixed in the configuration and nothing listens on it yet.

1. Within the drain timeout: 1000 spans are accepted and held (the sampler holds them
   undecided), the supervisor gets SIGTERM, the backend comes up a second later; every span
   arrives exactly once, then the collector is stopped and the supervisor exits 0.
2. Past it: the backend never comes up; at the drain timeout the supervisor logs what the
   collector still holds (``otelcol_exporter_queue_size{...}``), the collector logs the spans
   it drops (``dropped_items``, 1000 in all), and the supervisor exits 1.
3. A collector killed with SIGKILL (an out-of-memory kill) is restarted in place by the
   supervisor, on the same persistent queue directory: once the backend is up every span
   arrives exactly once (the sampler's once decided: undecided traces live in memory).

Without the supervisor the collector exits within milliseconds of SIGTERM and drops its
in-memory queue (``interrupted due to shutdown``): the contrast test shows it.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from otel_fargate.config import CollectorConfigOptions, OtlpExporter, RenderedConfig, render
from otel_fargate.config.sampling.policies import Probabilistic
from otel_fargate.config.sampling.tier import TailSampling

from tests.e2e.harness import (
    GATEWAY_TOKEN,
    Collector,
    Ports,
    Process,
    ProcessRunner,
    collector_env,
    descendants,
    for_local_build,
    json_lines,
    loopback_overrides,
    start_collector,
    wait_healthy,
    wait_until,
)
from tests.e2e.test_durable_queues import SPANS_PER_REQUEST, Backend, backend, span_keys
from tests.e2e.test_overload import load_request

pytestmark = pytest.mark.e2e
__all__ = ["backend"]

SEEDS = range(1, 5)
TOTAL = len(SEEDS) * SPANS_PER_REQUEST
ROLES = ("sidecar", "gateway", "sampler")
#: the sampler's decision_wait in these tests
DECISION_WAIT_SECONDS = 2


def role_config(
    role: str, ports: Ports, *, sink: str, persistent: bool, queue: Path
) -> RenderedConfig:
    """``role``'s preset on loopback ``ports``, exporting over OTLP/HTTP to ``sink``."""
    extra: dict[str, Any] = {}
    if role == "sampler":
        extra["sampling"] = TailSampling(
            policies=(Probabilistic(percent=100),), decision_wait=f"{DECISION_WAIT_SECONDS}s"
        )
    overrides = loopback_overrides(ports)
    if role == "sampler":
        overrides["receivers"]["otlp"]["protocols"].pop("http")
    return render(
        CollectorConfigOptions(
            preset=role,  # type: ignore[arg-type]
            exporters=(OtlpExporter(name="sink", protocol="http", endpoint=sink),),
            memory_mib=1024,
            health_check_endpoint=f"127.0.0.1:{ports.health}",
            self_telemetry_namespace=None,
            environment_name="e2e",
            service_name=f"e2e-{role}",
            persistent_queues=persistent,
            queue_directory=str(queue),
            overrides=overrides,
            **for_local_build(role, extra),
        )
    )


def drain_flags(role: str) -> tuple[str, ...]:
    """What the constructs pass the supervisor for ``role`` besides the timeout."""
    if role != "sampler":
        return ()
    return (
        "--drain-metric", "otelcol_exporter_queue_size",
        "--drain-metric", "otelcol_exporter_in_flight_requests",
        "--drain-metric", "otelcol_processor_tail_sampling_sampling_traces_on_memory",
        "--drain-min-wait", f"{DECISION_WAIT_SECONDS + 1}s",
    )  # fmt: skip


@dataclass
class Supervised:
    collector: Collector
    supervisor: Process


def supervise(
    processes: ProcessRunner,
    binaries: Mapping[str, Path],
    role: str,
    backend: Backend,
    queue: Path,
    *,
    drain_timeout: str,
    persistent: bool,
) -> Supervised:
    """The supervisor running ``role``'s collector alone, healthy."""
    ports = Ports.allocate()
    rendered = role_config(role, ports, sink=backend.endpoint, persistent=persistent, queue=queue)
    argv: list[str | Path] = [
        binaries["supervisor"], "--collector-only",
        "--collector", binaries["collector"],
        "--collector-arg", "--config=env:OTEL_FARGATE_CONFIG",
        "--drain-metrics-url", f"http://127.0.0.1:{ports.metrics}/metrics",
        "--drain-timeout", drain_timeout,
        "--drain-poll-interval", "250ms",
        "--collector-stop-timeout", "20s",
        "--restart-initial-backoff", "200ms",
        *drain_flags(role),
    ]  # fmt: skip
    process = processes.start("supervisor", argv, env=collector_env(rendered))
    collector = Collector(process=process, ports=ports, rendered=rendered)
    wait_healthy(collector, timeout=60)
    return Supervised(collector, process)


def send(collector: Collector, role: str) -> None:
    """1000 spans over OTLP/gRPC (with the gateway's token); each request must succeed."""
    metadata = (("authorization", f"Bearer {GATEWAY_TOKEN}"),) if role == "gateway" else ()
    with grpc.insecure_channel(collector.grpc_endpoint) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        for seed in SEEDS:
            stub.Export(
                load_request(seed, spans=SPANS_PER_REQUEST, payload_bytes=64),
                timeout=10,
                metadata=metadata,
            )


def held(collector: Collector, role: str) -> float:
    """What the collector holds: its queue, or for the sampler its undecided traces too."""
    if role == "sampler":
        undecided = collector.metric("otelcol_processor_tail_sampling_sampling_traces_on_memory")
        return collector.metric("otelcol_exporter_queue_size") + undecided
    return collector.metric("otelcol_exporter_queue_size")


def accepted_and_held(collector: Collector, role: str) -> None:
    wait_until(
        lambda: (
            collector.metric("otelcol_receiver_accepted_spans") == TOTAL
            and held(collector, role) > 0
        ),
        timeout=30,
        interval=0.1,
        what=f"{TOTAL} spans accepted and held",
    )


def dropped_items(log: str) -> int:
    """The items the collector logged as dropped."""
    return sum(
        int(entry.get("dropped_items", 0))
        for entry in json_lines(log)
        if "Dropping data" in str(entry.get("msg", ""))
    )


@pytest.fixture()
def binaries(collector_binary: Path, supervisor_binary: Path) -> dict[str, Path]:
    return {"collector": collector_binary, "supervisor": supervisor_binary}


@pytest.mark.parametrize("role", ROLES)
def test_a_stop_waits_for_the_backend_and_delivers_every_span(
    role: str, binaries: dict[str, Path], processes: ProcessRunner, backend: Backend,
    tmp_path: Path,
) -> None:  # fmt: skip
    # GIVEN the role's collector under the supervisor, backend down, 1000 spans held
    run = supervise(
        processes, binaries, role, backend, tmp_path / "queue", drain_timeout="60s",
        persistent=False,
    )  # fmt: skip
    send(run.collector, role)
    accepted_and_held(run.collector, role)

    # WHEN ECS stops the task (SIGTERM) and the backend returns a second later
    run.supervisor.popen.send_signal(signal.SIGTERM)
    wait_until(
        lambda: "received SIGTERM: draining" in run.supervisor.log(), timeout=10,
        what="the drain started",
    )  # fmt: skip
    assert run.supervisor.alive()
    sink = backend.up()

    # THEN every span arrives exactly once, and only then does the supervisor stop it
    status = run.supervisor.popen.wait(timeout=90)
    state = sink.settle(quiet_seconds=0.5, timeout=10)
    log = run.supervisor.log()
    assert status == 0, log[-3000:]
    assert state.span_ids == span_keys(SEEDS)
    assert state.spans == TOTAL, f"{state.spans - TOTAL} duplicates"
    assert "supervisor: drain: the collector holds nothing after" in log
    assert dropped_items(log) == 0


@pytest.mark.parametrize("role", ROLES)
def test_past_the_drain_timeout_the_loss_is_counted_and_logged(
    role: str, binaries: dict[str, Path], processes: ProcessRunner, backend: Backend,
    tmp_path: Path,
) -> None:  # fmt: skip
    # GIVEN the role's collector with an in-memory queue, backend down, 1000 spans held,
    # and a drain timeout of 6 s
    run = supervise(
        processes, binaries, role, backend, tmp_path / "queue", drain_timeout="6s",
        persistent=False,
    )  # fmt: skip
    send(run.collector, role)
    accepted_and_held(run.collector, role)

    # WHEN it is stopped and the backend never returns
    run.supervisor.popen.send_signal(signal.SIGTERM)
    status = run.supervisor.popen.wait(timeout=90)

    # THEN the supervisor says what was still held at the deadline and exits 1, and the
    # collector logs every span it dropped
    log = run.supervisor.log()
    assert status == 1, log[-3000:]
    assert (
        "supervisor: drain: timeout: the collector still holds otelcol_exporter_queue_size{"
        'data_type="traces",exporter="otlp_http/sink"}'
    ) in log
    assert "after --drain-timeout 6s: stopping it" in log
    assert dropped_items(log) == TOTAL


@pytest.mark.parametrize("role", ROLES)
def test_a_sigkilled_collector_restarted_in_place_delivers_its_persistent_queue(
    role: str, binaries: dict[str, Path], processes: ProcessRunner, backend: Backend,
    tmp_path: Path,
) -> None:  # fmt: skip
    # GIVEN the role's collector with a persistent queue, backend down, 1000 spans queued
    # (the sampler's decided)
    queue = tmp_path / "queue"
    run = supervise(processes, binaries, role, backend, queue, drain_timeout="60s", persistent=True)
    send(run.collector, role)
    accepted_and_held(run.collector, role)
    # (the batch processor counts a batch once the exporter's queue has it on disk)
    wait_until(
        lambda: run.collector.metric("otelcol_processor_batch_batch_send_size_sum") == TOTAL
        and run.collector.metric("otelcol_exporter_queue_size") > 0,
        timeout=30, interval=0.1, what="every span in the exporter's queue",
    )  # fmt: skip

    # WHEN the collector process gets SIGKILL (an out-of-memory kill)
    (first,) = descendants(run.supervisor.pid)
    os.kill(first, signal.SIGKILL)

    # THEN the supervisor restarts it in place, and once the backend is up every span
    # arrives exactly once
    wait_until(
        lambda: [pid for pid in descendants(run.supervisor.pid) if pid != first] != [],
        timeout=30, what="the collector restarted",
    )  # fmt: skip
    wait_healthy(run.collector, timeout=60)
    sink = backend.up()
    sink.wait_for(lambda s: len(s.span_ids) >= TOTAL, timeout=60, what=f"{TOTAL} spans")
    state = sink.settle(quiet_seconds=1.5, timeout=10)
    assert state.span_ids == span_keys(SEEDS)
    assert state.spans == TOTAL
    assert "exited unexpectedly (killed by SIGKILL)" in run.supervisor.log()


def test_without_the_supervisor_sigterm_drops_the_queue_at_once(
    collector_binary: Path, processes: ProcessRunner, backend: Backend, tmp_path: Path
) -> None:
    # GIVEN the sidecar's collector alone, backend down, 1000 spans held in memory
    ports = Ports.allocate()
    rendered = role_config(
        "sidecar", ports, sink=backend.endpoint, persistent=False, queue=tmp_path / "queue"
    )
    collector = start_collector(processes, collector_binary, rendered, ports, name="collector")
    send(collector, "sidecar")
    accepted_and_held(collector, "sidecar")

    # WHEN it gets SIGTERM itself
    status = processes.stop(collector.process, timeout=30)

    # THEN it exits at once and drops every span (what the supervisor is there to prevent)
    assert status == 0
    assert dropped_items(collector.process.log()) == TOTAL
