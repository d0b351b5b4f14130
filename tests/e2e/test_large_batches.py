"""Large items through every hop: app → agent → routing gateway → sampler, nothing dropped.

gRPC refuses a message larger than the receiver's limit (4 MiB by default, after
decompression), and the sender drops the whole batch as a permanent error. A batch bounded by
item count alone (8,192) crosses that limit as soon as spans are a few KB. Here the agent and
the gateway batch for 10 s (a valid override), so 8,192 spans of 3 KB leave the agent as one
batch of about 25 MiB, and the gateway's batch of them too: each sending queue must split them
below what the next hop accepts (``sending_queue.batch.max_size``, 3 MiB), and the receivers
take what the container's memory allows (``max_recv_msg_size_mib``). Logs of 64 KB bodies take
the agent → gateway hop, in requests of 100 records (6.4 MiB) from the app.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from otel_fargate.config.sampling import Probabilistic

from tests.e2e.harness import (
    Collector,
    OtlpSink,
    Ports,
    ProcessRunner,
    agent_config,
    run_telemetrygen,
    sink_in_netns,
    start_collector,
)
from tests.e2e.tier import Tier, TierNetwork, tier_network

pytestmark = pytest.mark.e2e

SPANS = 8192
SPAN_PAYLOAD = 3 * 1024
LOGS = 256
LOG_BODY = 64 * 1024
#: Batch for long enough that every span (every log record) of a run leaves in one batch.
WHOLE_RUN_BATCHES = {"processors": {"batch": {"timeout": "10s"}}}


@pytest.fixture()
def network() -> Iterator[TierNetwork]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2's ip to create network namespaces")
    with tier_network(routers=1, samplers=1) as created:
        yield created


@pytest.fixture()
def hops(
    network: TierNetwork, processes: ProcessRunner, collector_binary: Path
) -> Iterator[tuple[Tier, Collector, OtlpSink]]:
    """A sampler keeping every trace, a routing gateway whose logs go to a sink, and an agent
    forwarding to the gateway; the agent and the generators run in the samplers' namespace.
    """
    tier = Tier(
        network=network, runner=processes, binary=collector_binary,
        policies=(Probabilistic(percent=100),),
    )  # fmt: skip
    logs_sink = sink_in_netns(network.router_ns[0])
    try:
        # the gateway hands the sampler all 4,096 traces at once: room for every one of them
        tier.start_sampler(1, num_traces=SPANS)
        network.publish([1])
        tier.start_routers(logs_sinks=[logs_sink.endpoint], extra=WHOLE_RUN_BATCHES)
        tier.wait_backends(1, timeout=60)
        ports = Ports.allocate()
        rendered = agent_config(ports, gateway=tier.router_endpoint(1), extra=WHOLE_RUN_BATCHES)
        agent = start_collector(
            processes, collector_binary, rendered, ports, name="agent", netns=network.samplers_ns
        )
        yield tier, agent, logs_sink
    finally:
        logs_sink.close()
        tier.close()


def _generate(tier: Tier, agent: Collector, binary: Path, kind: str, count: int, *extra: str) -> None:
    result = run_telemetrygen(
        binary, kind, endpoint=agent.grpc_endpoint, count=count, rate=1000 if kind == "traces" else 100,
        extra=list(extra), prefix=["ip", "netns", "exec", tier.network.samplers_ns], timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]


def _failures(collector: Collector) -> dict[str, float]:
    names = [
        f"otelcol_{stage}_{signal}"
        for stage in ("exporter_send_failed", "exporter_enqueue_failed", "receiver_refused")
        for signal in ("spans", "log_records")
    ]
    return {name: collector.metric(name) for name in names if collector.metric(name)}


def test_large_spans_and_log_bodies_cross_every_hop_without_a_drop(
    hops: tuple[Tier, Collector, OtlpSink], telemetrygen_binary: Path
) -> None:
    tier, agent, logs_sink = hops
    router, sampler = tier.routers[0], tier.samplers[1]
    # GIVEN the agent, the routing gateway and the sampler as rendered, with byte bounds
    grpc = router.rendered.config["receivers"]["otlp"]["protocols"]["grpc"]
    assert grpc["max_recv_msg_size_mib"] == 43  # a 1024 MiB collector
    assert agent.rendered.config["exporters"]["otlp_grpc/gateway"]["sending_queue"]["batch"]["max_size"] == 3 * 1024 * 1024
    # WHEN an app sends 8,192 spans of 3 KB each, and 256 log records of 64 KB each
    payload = "x" * SPAN_PAYLOAD
    _generate(tier, agent, telemetrygen_binary, "traces", SPANS // 2, "--child-spans", "1",
              "--telemetry-attributes", f'payload="{payload}"')  # fmt: skip
    _generate(tier, agent, telemetrygen_binary, "logs", LOGS, "--body", "y" * LOG_BODY)
    # THEN every span reaches the sampler's backend, and every record the gateway's, once
    spans = tier.sinks[1].wait_for(
        lambda state: len(state.span_ids) >= SPANS, timeout=180, what=f"{SPANS} spans"
    )
    logs = logs_sink.wait_for(
        lambda state: state.log_records >= LOGS, timeout=180, what=f"{LOGS} log records"
    )
    assert (spans.spans, len(spans.span_ids)) == (SPANS, SPANS)
    assert logs.log_records == LOGS
    assert set(logs.log_bodies) == {"y" * LOG_BODY}
    # AND no hop refused, failed or dropped anything
    for collector in (agent, router, sampler):
        assert _failures(collector) == {}, collector.process.name
        assert "Permanent error" not in collector.process.log(), collector.process.name
    assert router.metric("otelcol_receiver_accepted_spans") == SPANS
    assert router.metric("otelcol_receiver_accepted_log_records") == LOGS
