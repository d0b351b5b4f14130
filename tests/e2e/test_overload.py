"""Overload: a collector sized for its container, its backend down, clients sending on.

The sidecar preset rendered for ``memory_mib`` (the smallest size the library accepts, and
512 MiB) exports to a sink that answers 503, so nothing leaves and the exporter keeps
retrying. One gRPC client sends 100-span requests (about 110 KB each) as fast as the
collector answers, far beyond what it can get rid of. The memory limiter must refuse the
excess with retryable errors, and the process must never be resident in more memory than the
container it was sized for (the ECS hard limit that would kill it).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2
from otel_fargate.config import MIN_MEMORY_MIB

from tests.e2e.harness import (
    Collector,
    OtlpSink,
    Ports,
    ProcessRunner,
    healthy,
    peak_rss_mib,
    sidecar_config,
    start_collector,
    wait_until,
)

pytestmark = pytest.mark.e2e

#: Container sizes the RSS test covers: the smallest the library accepts, and a common one.
SIZES = (MIN_MEMORY_MIB, 512)
#: gRPC status codes an OTLP client retries (OTLP specification, "Failures").
RETRYABLE = frozenset(
    {"CANCELLED", "DEADLINE_EXCEEDED", "ABORTED", "OUT_OF_RANGE", "UNAVAILABLE", "DATA_LOSS"}
)
LOAD_SECONDS = 6


def load_request(
    seed: int, spans: int = 100, payload_bytes: int = 1024
) -> trace_service_pb2.ExportTraceServiceRequest:
    """One request of ``spans`` spans, each with a ``payload_bytes`` string attribute."""
    payload = common_pb2.AnyValue(string_value="x" * payload_bytes)
    return trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[
            trace_pb2.ResourceSpans(
                scope_spans=[
                    trace_pb2.ScopeSpans(
                        spans=[
                            trace_pb2.Span(
                                trace_id=seed.to_bytes(8, "big") + index.to_bytes(8, "big"),
                                span_id=(index + 1).to_bytes(8, "big"),
                                name="load",
                                attributes=[common_pb2.KeyValue(key="payload", value=payload)],
                            )
                            for index in range(spans)
                        ]
                    )
                ]
            )
        ]
    )


@dataclass
class Overload:
    memory_mib: int
    collector: Collector
    sink: OtlpSink
    codes: Counter[str]
    peak_rss_mib: float


@pytest.fixture()
def overload(
    request: pytest.FixtureRequest,
    collector_binary: Path,
    processes: ProcessRunner,
    sink: OtlpSink,
) -> Iterator[Overload]:
    """A collector sized for ``request.param`` MiB after LOAD_SECONDS of overload.

    The sink still answers 503 when the test starts.
    """
    memory_mib = int(request.param)
    ports = Ports.allocate()
    sink.status = 503
    rendered = sidecar_config(ports, sink=sink.endpoint, memory_mib=memory_mib)
    collector = start_collector(
        processes, collector_binary, rendered, ports, name=f"collector-{memory_mib}"
    )
    codes: Counter[str] = Counter()
    request_body = load_request(1)
    deadline = time.monotonic() + LOAD_SECONDS
    with grpc.insecure_channel(collector.grpc_endpoint) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        while time.monotonic() < deadline:
            try:
                stub.Export(request_body, timeout=5)
                codes["OK"] += 1
            except grpc.RpcError as error:
                codes[error.code().name] += 1
    yield Overload(
        memory_mib=memory_mib,
        collector=collector,
        sink=sink,
        codes=codes,
        peak_rss_mib=peak_rss_mib(collector.process.pid),
    )


@pytest.mark.parametrize("overload", [MIN_MEMORY_MIB], indirect=True, ids=lambda m: f"{m}MiB")
def test_overload_is_refused_with_retryable_errors_and_the_collector_survives(
    overload: Overload,
) -> None:
    collector = overload.collector
    # THEN the memory limiter refused part of the load with UNAVAILABLE, and every error the
    # client saw is one the OTLP specification tells clients to retry
    assert overload.codes["OK"] > 0
    assert overload.codes["UNAVAILABLE"] > 0, overload.codes
    assert set(overload.codes) <= {"OK", *RETRYABLE}, overload.codes
    assert "Memory usage is above soft limit. Refusing data." in collector.process.log()
    assert collector.metric("otelcol_receiver_refused_spans") > 0
    # AND the limiter refused before the exporter's queue (sized in bytes up to the limiter's
    # hard limit) filled: nothing the client was told had arrived was dropped at the queue
    assert collector.metric("otelcol_exporter_enqueue_failed_spans") == 0
    # AND the collector is still running and healthy
    assert collector.process.alive()
    assert healthy(f"http://127.0.0.1:{collector.ports.health}/")
    # AND once the backend is back, the backlog drains and new data is accepted again
    overload.sink.status = 200
    with grpc.insecure_channel(collector.grpc_endpoint) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)

        def accepted() -> bool:
            try:
                stub.Export(load_request(2, spans=1), timeout=5)
            except grpc.RpcError:
                return False
            return True

        wait_until(accepted, timeout=60, interval=1, what="data accepted after recovery")
    assert overload.sink.state.spans > 0


@pytest.mark.parametrize("overload", SIZES, indirect=True, ids=lambda m: f"{m}MiB")
def test_overload_rss_stays_below_the_container_memory(overload: Overload) -> None:
    # THEN the memory limiter was what held the load back (not a crash or a stalled client)
    assert overload.codes["UNAVAILABLE"] > 0, overload.codes
    assert overload.collector.process.alive()
    # AND the process never used more memory than the container it was sized for
    assert overload.peak_rss_mib < overload.memory_mib, (
        f"peak RSS {overload.peak_rss_mib:.0f} MiB in a {overload.memory_mib} MiB container"
    )
