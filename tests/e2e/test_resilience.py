"""Losing no telemetry: a gateway restart, a full agent queue, and SIGTERM under load.

Capacity of the agent's sending queue: the rendered configs size it in bytes (``sizer:
bytes``, ``queue_size`` = the memory limiter's hard limit), so the memory limiter refuses new
data, with a retryable error, before the queue can fill. The overflow test sizes a queue in
requests instead (``sizer: requests``: batches of the batch processor, at most
``send_batch_max_size`` items each), so that it holds ``queue_size * send_batch_max_size``
items; the request being retried counts as one of them. Whatever does not fit is refused at
enqueue: it is dropped and counted in the agent's own metric
``otelcol_exporter_enqueue_failed_spans`` (and logged as "Exporting failed. Rejecting data."),
while the client already got a success from the batch processor.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import collector_containers
from tests.e2e.harness import (
    GATEWAY_TOKEN,
    OtlpSink,
    Ports,
    ProcessRunner,
    agent_config,
    gateway_config,
    run_telemetrygen,
    start_collector,
)

pytestmark = pytest.mark.e2e


def test_spans_sent_while_the_gateway_is_down_arrive_after_it_restarts(
    collector_binary: Path, telemetrygen_binary: Path, processes: ProcessRunner, sink: OtlpSink
) -> None:
    # GIVEN agent → gateway → sink, with 100 spans already delivered
    gateway_ports, agent_ports = Ports.allocate(), Ports.allocate()
    gateway_rendered = gateway_config(gateway_ports, sink=sink.endpoint)
    gateway = start_collector(
        processes, collector_binary, gateway_rendered, gateway_ports, name="gateway"
    )
    agent = start_collector(
        processes,
        collector_binary,
        agent_config(agent_ports, gateway=gateway.grpc_endpoint),
        agent_ports,
        name="agent",
    )
    first = run_telemetrygen(telemetrygen_binary, "traces", endpoint=agent.grpc_endpoint, count=50)
    assert first.returncode == 0, first.stderr[-2000:]
    sink.wait_for(lambda s: len(s.span_ids) >= 100, timeout=20, what="the first 100 spans")

    # WHEN the gateway is killed, 3000 spans are sent to the agent, and the gateway restarts
    processes.stop(gateway.process, sig=signal.SIGKILL, timeout=10)
    sent = run_telemetrygen(
        telemetrygen_binary,
        "traces",
        endpoint=agent.grpc_endpoint,
        count=500,
        workers=3,
        rate=1000,
    )
    assert sent.returncode == 0, sent.stderr[-2000:]
    time.sleep(3)
    assert len(sink.state.span_ids) == 100
    assert agent.metric("otelcol_receiver_accepted_spans") == 3100
    start_collector(processes, collector_binary, gateway_rendered, gateway_ports, name="gateway")

    # THEN every span arrives (the agent retried), none was dropped by the agent
    state = sink.wait_for(
        lambda s: len(s.span_ids) >= 3100, timeout=40, what="3100 unique spans after restart"
    )
    assert len(state.span_ids) == 3100
    assert agent.metric("otelcol_exporter_enqueue_failed_spans") == 0
    assert agent.metric("otelcol_exporter_send_failed_spans") == 0
    assert "Will retry the request after interval" in agent.process.log()


def test_what_overflows_the_agents_queue_is_dropped_and_counted(
    collector_binary: Path, telemetrygen_binary: Path, processes: ProcessRunner, sink: OtlpSink
) -> None:
    # GIVEN an agent whose queue holds 5 requests of at most 100 spans, its gateway down
    gateway_ports, agent_ports = Ports.allocate(), Ports.allocate()
    queue_size, batch = 5, 100
    agent = start_collector(
        processes,
        collector_binary,
        agent_config(
            agent_ports,
            gateway=f"127.0.0.1:{gateway_ports.grpc}",
            extra={
                "processors": {"batch": {"send_batch_size": batch, "send_batch_max_size": batch}},
                "exporters": {
                    "otlp_grpc/gateway": {
                        "sending_queue": {
                            "sizer": "requests",
                            "queue_size": queue_size,
                            "num_consumers": 1,
                        }
                    }
                },
            },
        ),
        agent_ports,
        name="agent",
    )
    # WHEN 2000 spans are sent, four times what the queue holds, and the gateway comes up
    sent = run_telemetrygen(
        telemetrygen_binary, "traces", endpoint=agent.grpc_endpoint, count=1000, rate=2000
    )
    assert sent.returncode == 0, sent.stderr[-2000:]
    time.sleep(1)
    start_collector(
        processes,
        collector_binary,
        gateway_config(gateway_ports, sink=sink.endpoint),
        gateway_ports,
        name="gateway",
    )
    state = sink.wait_for(
        lambda s: len(s.span_ids) >= queue_size * batch, timeout=40, what="the queued spans"
    )
    sink.settle(quiet_seconds=2, timeout=20)

    # THEN exactly the queue's capacity arrived, and the rest is counted as refused at enqueue
    dropped = agent.metric("otelcol_exporter_enqueue_failed_spans")
    assert len(state.span_ids) == queue_size * batch
    assert len(state.span_ids) + dropped == agent.metric("otelcol_receiver_accepted_spans") == 2000
    assert "Exporting failed. Rejecting data." in agent.process.log()


def constructs_stop_timeout(synthesized: Any) -> int:
    """The stopTimeout the constructs give the gateway's collector container (one value)."""
    timeouts = {
        int(container["StopTimeout"])
        for name, template in synthesized.templates.items()
        if name.endswith("-gateway")
        for container in collector_containers(template.to_json())
    }
    assert len(timeouts) == 1, timeouts
    return timeouts.pop()


def test_sigterm_under_load_drains_what_was_accepted_within_the_stop_timeout(
    collector_binary: Path,
    telemetrygen_binary: Path,
    processes: ProcessRunner,
    sink: OtlpSink,
    synthesized: Any,
) -> None:
    # GIVEN a gateway exporting in batches of 100 spans to a slow backend (0.2 s per request)
    stop_timeout = constructs_stop_timeout(synthesized)
    ports = Ports.allocate()
    gateway = start_collector(
        processes,
        collector_binary,
        gateway_config(
            ports,
            sink=sink.endpoint,
            extra={"processors": {"batch": {"send_batch_size": 100, "send_batch_max_size": 100}}},
        ),
        ports,
        name="gateway",
    )
    sink.delay_seconds = 0.2
    # AND 6000 spans the gateway has accepted (the client got success for all of them)
    sent = run_telemetrygen(
        telemetrygen_binary,
        "traces",
        endpoint=gateway.grpc_endpoint,
        count=1000,
        workers=3,
        rate=1000,
        headers={"authorization": f"Bearer {GATEWAY_TOKEN}"},
    )
    assert sent.returncode == 0, sent.stderr[-2000:]
    accepted = gateway.metric("otelcol_receiver_accepted_spans")
    assert accepted == 6000
    backlog = accepted - len(sink.state.span_ids)
    assert backlog > 1000, "the backend is not slow enough for the test to mean anything"

    # WHEN the platform sends SIGTERM
    started = time.monotonic()
    status = processes.stop(gateway.process, sig=signal.SIGTERM, timeout=stop_timeout)
    took = time.monotonic() - started

    # THEN the collector exits cleanly within the stop timeout, having delivered everything
    assert status == 0, gateway.process.log()[-3000:]
    assert took < stop_timeout
    assert len(sink.state.span_ids) == 6000, (backlog, took)
