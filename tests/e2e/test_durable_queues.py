"""Persistent sending queues: what a collector accepted survives its SIGKILL and a restart.

Both tests run the same scenario on the rendered sidecar config, once with
``persistent_queues=True`` (``file_storage/queue`` in a directory of the test) and once with
``persistent_queues=False`` (the queue in memory), so the first one's assertion means something:

1. The backend is down: the sink's loopback port is fixed in the config, nothing listens on it
   (connection refused, a retryable error).
2. 5000 spans are sent over OTLP/gRPC (20 requests of 250 spans, known trace and span ids);
   the client is told each request succeeded. The batch processor is set to 500-span batches,
   so they become 10 exporter requests: the exporter's 4 consumers hold 4 of them in flight
   (retrying) and 6 wait in the queue; both states go through the crash.
3. Once the collector's own metrics show every span accepted by the receiver and handed by the
   batch processor to the exporter's queue (the batch processor counts a batch after the
   exporter took it, which for a persistent queue is after the write to storage), the
   collector's process group gets SIGKILL, as from an out-of-memory kill: no shutdown, no drain.
4. A new collector process starts with the same config and queue directory (the container
   restarted in the same task), then the sink comes up, then 500 more spans are sent to the new
   process, to show it delivers whatever happened to the first 5000.

Persistent: the sink receives the 5000 spans of the killed process and the 500 new ones, each
exactly once. No duplicate can arise: the sink was down until after the kill, so no request of
the killed process reached it, and none can have been delivered with its acknowledgement lost.
In memory: the sink receives only the 500 new ones; the 5000 are lost.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from tests.e2e.harness import (
    Collector,
    OtlpSink,
    Ports,
    ProcessRunner,
    free_port,
    kill_process_group,
    queued_sidecar_config,
    start_collector,
    wait_until,
)
from tests.e2e.test_overload import load_request

pytestmark = pytest.mark.e2e

SPANS_PER_REQUEST = 250
#: seeds (the first 8 bytes of the trace ids) of the requests sent before and after the kill
BEFORE_KILL = range(1, 21)
AFTER_RESTART = range(101, 103)
BATCH = 500
#: ``num_consumers`` of the rendered exporter queue: requests held in flight while retrying
CONSUMERS = 4


def span_keys(seeds: range) -> set[bytes]:
    """trace id + span id of every span of :func:`load_request` for ``seeds``."""
    return {
        seed.to_bytes(8, "big") + index.to_bytes(8, "big") + (index + 1).to_bytes(8, "big")
        for seed in seeds
        for index in range(SPANS_PER_REQUEST)
    }


def send(collector: Collector, seeds: range) -> None:
    """One request per seed over OTLP/gRPC; each must be answered with success."""
    with grpc.insecure_channel(collector.grpc_endpoint) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        for seed in seeds:
            stub.Export(
                load_request(seed, spans=SPANS_PER_REQUEST, payload_bytes=64), timeout=5
            )


@dataclass
class Backend:
    """The sink on a port fixed in advance: down until :meth:`up`."""

    port: int
    sink: OtlpSink | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> OtlpSink:
        assert self.sink is None
        self.sink = OtlpSink(port=self.port)
        return self.sink


@pytest.fixture()
def backend() -> Iterator[Backend]:
    down = Backend(port=free_port())
    try:
        yield down
    finally:
        if down.sink is not None:
            down.sink.close()


@dataclass
class Outcome:
    sink: OtlpSink
    first: Collector
    second: Collector
    first_status: int
    #: the second process's exporter queue (bytes) before the backend came up
    backlog_at_restart: float


def crash_and_restart(
    binary: Path, processes: ProcessRunner, backend: Backend, queue: Path, *, persistent: bool
) -> Outcome:
    ports = Ports.allocate()
    rendered = queued_sidecar_config(
        ports,
        sink=backend.endpoint,
        persistent_queues=persistent,
        queue_directory=queue,
        extra={"processors": {"batch": {"send_batch_size": BATCH, "send_batch_max_size": BATCH}}},
    )
    assert ("file_storage/queue" in rendered.yaml) is persistent
    first = start_collector(processes, binary, rendered, ports, name="collector")

    # backend down: 5000 spans accepted and handed to the exporter's queue
    send(first, BEFORE_KILL)
    total = len(BEFORE_KILL) * SPANS_PER_REQUEST
    wait_until(
        lambda: first.metric("otelcol_receiver_accepted_spans") == total
        and first.metric("otelcol_processor_batch_batch_send_size_sum") == total
        and first.metric("otelcol_exporter_in_flight_requests") == CONSUMERS,
        timeout=15,
        interval=0.1,
        what=f"{total} spans accepted and queued, {CONSUMERS} requests in flight",
    )
    assert first.metric("otelcol_exporter_queue_size") > 0
    assert first.metric("otelcol_exporter_enqueue_failed_spans") == 0
    assert "connect: connection refused" in first.process.log()

    # SIGKILL, a new process on the same config and queue directory, then the backend up
    first_status = kill_process_group(first.process)
    second = start_collector(processes, binary, rendered, ports, name="collector")
    backlog = second.metric("otelcol_exporter_queue_size")
    sink = backend.up()
    send(second, AFTER_RESTART)
    return Outcome(sink, first, second, first_status, backlog)


def test_a_persistent_queue_delivers_every_span_accepted_before_a_sigkill(
    collector_binary: Path, processes: ProcessRunner, backend: Backend, tmp_path: Path
) -> None:
    # GIVEN a collector with persistent queues, backend down, that accepted and queued 5000
    # spans; WHEN it is SIGKILLed, a new process starts on the same queue directory and the
    # backend comes up
    queue = tmp_path / "queue"
    outcome = crash_and_restart(
        collector_binary, processes, backend, queue, persistent=True
    )
    assert outcome.first_status == -signal.SIGKILL
    # THEN the new process found the backlog on disk before it could send anything
    assert outcome.backlog_at_restart > 0
    assert {path.name for path in queue.iterdir()} >= {"exporter_otlp_http_sink_traces"}

    # AND every span of the killed process arrives, once, with those sent after the restart
    expected = span_keys(BEFORE_KILL) | span_keys(AFTER_RESTART)
    outcome.sink.wait_for(
        lambda s: len(s.span_ids) >= len(expected), timeout=30, what=f"{len(expected)} spans"
    )
    state = outcome.sink.settle(quiet_seconds=1.5, timeout=10)
    assert state.span_ids == expected
    assert state.spans == len(expected), f"{state.spans - len(expected)} duplicates"
    # AND they came from the disk: the new process received only the 500 new spans
    second = outcome.second
    assert second.metric("otelcol_receiver_accepted_spans") == len(span_keys(AFTER_RESTART))
    wait_until(
        lambda: second.metric("otelcol_exporter_queue_size") == 0,
        timeout=10,
        what="the queue drained",
    )
    assert second.metric("otelcol_exporter_send_failed_spans") == 0


def test_an_in_memory_queue_loses_what_it_held_at_a_sigkill(
    collector_binary: Path, processes: ProcessRunner, backend: Backend, tmp_path: Path
) -> None:
    # GIVEN the same collector with its queue in memory; WHEN the same scenario runs
    queue = tmp_path / "queue"
    outcome = crash_and_restart(
        collector_binary, processes, backend, queue, persistent=False
    )
    assert outcome.first_status == -signal.SIGKILL
    # THEN the new process starts with an empty queue and nothing on disk
    assert outcome.backlog_at_restart == 0
    assert not queue.exists()
    # AND only the spans sent after the restart arrive: the 5000 are lost
    expected = span_keys(AFTER_RESTART)
    outcome.sink.wait_for(
        lambda s: len(s.span_ids) >= len(expected), timeout=30, what=f"{len(expected)} spans"
    )
    state = outcome.sink.settle(quiet_seconds=1.5, timeout=10)
    assert state.span_ids == expected
    assert state.spans == len(expected)
    assert not state.span_ids & span_keys(BEFORE_KILL)
