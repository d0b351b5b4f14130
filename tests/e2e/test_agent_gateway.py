"""Agent → gateway on loopback with the bearer token, the health probe against both.

The gateway and the agent run the rendered gateway and agent presets (receivers, health_check
and own metrics moved to free loopback ports; the gateway exports over OTLP/HTTP to a counting
sink). The probe is the real binary of healthcheck/.
"""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.trace.v1 import trace_pb2

from tests.e2e.harness import (
    GATEWAY_TOKEN,
    OtlpSink,
    Ports,
    ProcessRunner,
    agent_config,
    collector_env,
    gateway_config,
    run_telemetrygen,
    start_collector,
    wait_until,
)

pytestmark = pytest.mark.e2e


def probe(binary: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), "--url", url, "--timeout", "2s"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )


def one_span_request() -> trace_service_pb2.ExportTraceServiceRequest:
    span = trace_pb2.Span(
        trace_id=bytes(range(1, 17)),
        span_id=bytes(range(1, 9)),
        name="direct",
        kind=trace_pb2.Span.SPAN_KIND_INTERNAL,
    )
    scope = trace_pb2.ScopeSpans(spans=[span])
    return trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(scope_spans=[scope])]
    )


def test_probe_follows_the_collector_lifecycle(
    collector_binary: Path, probe_binary: Path, processes: ProcessRunner, sink: OtlpSink
) -> None:
    # GIVEN a gateway configuration and its health URL, nothing running yet
    ports = Ports.allocate()
    rendered = gateway_config(ports, sink=sink.endpoint)
    url = f"http://127.0.0.1:{ports.health}/"
    assert rendered.health_check_url == url

    # THEN before start the probe says unreachable (3) with the error: prefix
    before = probe(probe_binary, url)
    assert (before.returncode, before.stderr[:6]) == (3, "error:"), before.stderr

    # WHEN the collector starts THEN the probe reports healthy (0) within a bounded time
    gateway = start_collector(
        processes, collector_binary, rendered, ports, name="gateway", wait=False
    )
    results: list[int] = []

    def probe_healthy() -> bool:
        assert gateway.process.alive(), gateway.process.log()[-3000:]
        results.append(probe(probe_binary, url).returncode)
        return results[-1] == 0

    wait_until(probe_healthy, timeout=30, interval=0.1, what="probe exit 0")
    assert set(results) <= {0, 3, 4}, results
    assert probe(probe_binary, url).stdout.startswith("healthy:")

    # WHEN the collector is stopped THEN the probe says unreachable again
    assert processes.stop(gateway.process, timeout=30) == 0
    after = probe(probe_binary, url)
    assert after.returncode == 3, after.stderr


def test_agent_forwards_to_gateway_with_the_token_and_a_wrong_token_is_refused(
    collector_binary: Path,
    telemetrygen_binary: Path,
    processes: ProcessRunner,
    sink: OtlpSink,
) -> None:
    # GIVEN a gateway requiring the token, an agent with the right token, one with a wrong one
    gateway_ports, good_ports, bad_ports = Ports.allocate(), Ports.allocate(), Ports.allocate()
    gateway = start_collector(
        processes,
        collector_binary,
        gateway_config(gateway_ports, sink=sink.endpoint),
        gateway_ports,
        name="gateway",
    )
    good_config = agent_config(good_ports, gateway=gateway.grpc_endpoint)
    good = start_collector(processes, collector_binary, good_config, good_ports, name="agent")
    bad_config = agent_config(bad_ports, gateway=gateway.grpc_endpoint)
    bad = start_collector(
        processes,
        collector_binary,
        bad_config,
        bad_ports,
        name="agent-wrong-token",
        env=collector_env(bad_config, OTEL_GATEWAY_TOKEN="not-the-token"),
    )

    # WHEN 50 traces (100 spans) go through the agent with the wrong token
    sent = run_telemetrygen(telemetrygen_binary, "traces", endpoint=bad.grpc_endpoint, count=50)
    assert sent.returncode == 0, sent.stderr[-2000:]
    # THEN the agent accepted them, but its export to the gateway fails as unauthenticated
    wait_until(
        lambda: bad.metric("otelcol_exporter_send_failed_spans") >= 100,
        timeout=20,
        what="the wrong-token agent's exports fail",
    )
    assert "Unauthenticated" in bad.process.log()
    assert bad.metric("otelcol_exporter_sent_spans") == 0

    # WHEN 50 traces go through the agent with the right token
    sent = run_telemetrygen(telemetrygen_binary, "traces", endpoint=good.grpc_endpoint, count=50)
    assert sent.returncode == 0, sent.stderr[-2000:]
    # THEN exactly those 100 spans reach the sink, and nothing of the wrong-token agent's
    state = sink.wait_for(lambda s: s.spans >= 100, timeout=20, what="100 spans")
    time.sleep(1.0)
    assert (state.spans, len(state.span_ids)) == (100, 100)

    # AND a direct OTLP/HTTP request with a wrong or no token gets 401, the right one 200
    body = one_span_request().SerializeToString()
    for header, expected in (
        ("Bearer not-the-token", 401),
        (None, 401),
        (f"Bearer {GATEWAY_TOKEN}", 200),
    ):
        request = urllib.request.Request(
            f"{gateway.http_endpoint}/v1/traces",
            data=body,
            headers={"Content-Type": "application/x-protobuf"}
            | ({"Authorization": header} if header else {}),
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status = int(answer.status)
        except urllib.error.HTTPError as error:
            status = error.code
        assert status == expected, header

    # AND a direct OTLP/gRPC request with a wrong token gets UNAUTHENTICATED
    with grpc.insecure_channel(gateway.grpc_endpoint) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.Export(
                one_span_request(),
                metadata=(("authorization", "Bearer not-the-token"),),
                timeout=10,
            )
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        stub.Export(
            one_span_request(), metadata=(("authorization", f"Bearer {GATEWAY_TOKEN}"),), timeout=10
        )
    sink.wait_for(lambda s: s.spans >= 102, timeout=20, what="the two direct spans")
    assert sink.state.span_names["direct"] == 2
