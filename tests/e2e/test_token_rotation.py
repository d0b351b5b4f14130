"""Token rotation on loopback: a gateway accepting two tokens loses nothing from either agent.

During a rotation (``python -m tools.cli rotate-token``) agents started before it send the
old token and agents started after it the new one, while every gateway reads the new token
as ``OTEL_GATEWAY_TOKEN`` and the old one as ``OTEL_GATEWAY_TOKEN_PREVIOUS``. Here the real
collector runs the rendered gateway preset with both tokens, and two agents (rendered agent
preset) under load send one the old token, one the new. The contrast is the fleet split a
rotation without a second token causes: a gateway that knows only the new token refuses the
old agent's data, which is dropped (permanent error, no retry).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from tests.e2e.harness import (
    Collector,
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

#: Traces per telemetrygen worker, each a parent and one child span, at RATE traces per
#: second per worker (faster, telemetrygen's own SDK drops spans before sending when the
#: machine is busy).
TRACES = 1500
WORKERS = 2
RATE = 250
SPANS_PER_AGENT = TRACES * WORKERS * 2
#: How long delivery may take: the waits end as soon as their condition holds, and a loaded
#: machine (both CPUs busy, the sink decoding in this process) needs well over 30 s.
DELIVERY = 180


def _token() -> str:
    return secrets.token_urlsafe(36)


def _gateway(
    processes: ProcessRunner, binary: Path, sink: OtlpSink, *, current: str, previous: str
) -> Collector:
    ports = Ports.allocate()
    rendered = gateway_config(ports, sink=sink.endpoint)
    assert rendered.required_env == ("OTEL_GATEWAY_TOKEN", "OTEL_GATEWAY_TOKEN_PREVIOUS")
    env = collector_env(rendered, OTEL_GATEWAY_TOKEN=current, OTEL_GATEWAY_TOKEN_PREVIOUS=previous)
    return start_collector(processes, binary, rendered, ports, name="gateway", env=env)


def _agent(
    processes: ProcessRunner, binary: Path, gateway: Collector, *, token: str, name: str
) -> Collector:
    ports = Ports.allocate()
    rendered = agent_config(ports, gateway=gateway.grpc_endpoint)
    assert rendered.required_env == ("OTEL_GATEWAY_TOKEN",)
    env = collector_env(rendered, OTEL_GATEWAY_TOKEN=token)
    return start_collector(processes, binary, rendered, ports, name=name, env=env)


def _load(telemetrygen: Path, agents: Sequence[tuple[Collector, str]]) -> None:
    """Every agent gets TRACES traces per worker, all agents at once."""
    with ThreadPoolExecutor(max_workers=len(agents)) as pool:
        runs = [
            pool.submit(
                run_telemetrygen,
                telemetrygen,
                "traces",
                endpoint=agent.grpc_endpoint,
                count=TRACES,
                workers=WORKERS,
                rate=RATE,
                extra=["--service", service],
                timeout=DELIVERY,
            )
            for agent, service in agents
        ]
        for run in runs:
            result = run.result()
            assert result.returncode == 0, result.stderr[-2000:]


def _services(sink: OtlpSink) -> set[str]:
    return {resource.get("service.name", "") for resource in sink.state.resources}


def test_a_gateway_with_both_tokens_loses_nothing_from_old_and_new_agents(
    collector_binary: Path,
    telemetrygen_binary: Path,
    processes: ProcessRunner,
    sink: OtlpSink,
) -> None:
    # GIVEN a gateway mid-rotation: the new token current, the old one previous
    old, new = _token(), _token()
    gateway = _gateway(processes, collector_binary, sink, current=new, previous=old)
    # AND an agent started before the rotation (old token) and one started after (new token)
    before = _agent(processes, collector_binary, gateway, token=old, name="agent-old-token")
    after = _agent(processes, collector_binary, gateway, token=new, name="agent-new-token")

    # WHEN both are loaded at once
    _load(telemetrygen_binary, [(before, "old-token-app"), (after, "new-token-app")])

    # THEN every span of both reaches the sink exactly once: once the gateway counts them
    # sent (after the sink's answer), the sink holds everything it will get
    expected = 2 * SPANS_PER_AGENT
    sink.wait_for(lambda s: s.spans >= expected, timeout=DELIVERY, what=f"{expected} spans")
    wait_until(
        lambda: gateway.metric("otelcol_exporter_sent_spans") >= expected,
        timeout=DELIVERY,
        what="the gateway counts every span sent",
    )
    state = sink.state
    assert (state.spans, len(state.span_ids)) == (expected, expected)
    assert _services(sink) >= {"old-token-app", "new-token-app"}
    # AND nothing was refused or dropped on the way
    for agent in (before, after):
        assert agent.metric("otelcol_receiver_accepted_spans") == SPANS_PER_AGENT
        assert agent.metric("otelcol_exporter_sent_spans") == SPANS_PER_AGENT
        assert agent.metric("otelcol_exporter_send_failed_spans") == 0
        assert "Unauthenticated" not in agent.process.log()
    assert gateway.metric("otelcol_receiver_accepted_spans") == expected
    assert gateway.metric("otelcol_receiver_refused_spans") == 0

    # AND the gateway still refuses a token it was not given, and an empty one
    with grpc.insecure_channel(gateway.grpc_endpoint) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        for header in (f"Bearer {_token()}", "Bearer "):
            with pytest.raises(grpc.RpcError) as refused:
                stub.Export(
                    trace_service_pb2.ExportTraceServiceRequest(),
                    metadata=(("authorization", header),),
                    timeout=10,
                )
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED, header


def test_a_gateway_with_only_the_new_token_refuses_the_old_agent(
    collector_binary: Path,
    telemetrygen_binary: Path,
    processes: ProcessRunner,
    sink: OtlpSink,
) -> None:
    # GIVEN the same gateway config, but its second token is one no agent has: the gateway
    # accepts only the new token, as every gateway did before it read two
    old, new = _token(), _token()
    gateway = _gateway(processes, collector_binary, sink, current=new, previous=_token())
    before = _agent(processes, collector_binary, gateway, token=old, name="agent-old-token")
    after = _agent(processes, collector_binary, gateway, token=new, name="agent-new-token")

    # WHEN both are loaded at once
    _load(telemetrygen_binary, [(before, "old-token-app"), (after, "new-token-app")])
    for agent in (before, after):
        wait_until(
            lambda agent=agent: agent.metric("otelcol_receiver_accepted_spans") == SPANS_PER_AGENT,
            timeout=DELIVERY,
            what=f"{agent.process.name} accepts every span the generator sent",
        )

    # THEN the old agent's exports fail as unauthenticated and its spans are dropped
    wait_until(
        lambda: before.metric("otelcol_exporter_send_failed_spans") >= SPANS_PER_AGENT,
        timeout=DELIVERY,
        what="the old-token agent's exports fail",
    )
    assert before.metric("otelcol_exporter_sent_spans") == 0
    assert "Unauthenticated" in before.process.log()
    # AND only the new agent's spans reach the sink: every span the agents accepted is
    # accounted for (sent or failed), and the gateway has sent what it accepted, so nothing
    # more can arrive
    sink.wait_for(
        lambda s: s.spans >= SPANS_PER_AGENT, timeout=DELIVERY, what="the new agent's spans"
    )
    wait_until(
        lambda: gateway.metric("otelcol_exporter_sent_spans") >= SPANS_PER_AGENT,
        timeout=DELIVERY,
        what="the gateway counts the new agent's spans sent",
    )
    assert after.metric("otelcol_exporter_sent_spans") == SPANS_PER_AGENT
    assert gateway.metric("otelcol_receiver_accepted_spans") == SPANS_PER_AGENT
    state = sink.state
    assert (state.spans, len(state.span_ids)) == (SPANS_PER_AGENT, SPANS_PER_AGENT)
    assert "old-token-app" not in _services(sink)
    assert after.metric("otelcol_exporter_send_failed_spans") == 0
