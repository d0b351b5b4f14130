"""Agent and gateway in two network namespaces joined by a veth pair; the link is cut.

Both namespaces and the veth pair between them are created by the test (10.200.0.1/30 and
10.200.0.2/30 exist only inside them) and deleted afterwards; the host's own network is never
touched. The agent and telemetrygen run in namespace A, the gateway and its sink in B.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.harness import (
    Ports,
    ProcessRunner,
    agent_config,
    gateway_config,
    run_telemetrygen,
    sink_in_netns,
    start_collector,
)

pytestmark = pytest.mark.e2e

AGENT_ADDRESS, GATEWAY_ADDRESS = "10.200.0.1", "10.200.0.2"


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=30)


@dataclass(frozen=True)
class Partitionable:
    agent_ns: str
    gateway_ns: str
    agent_link: str

    def cut(self) -> None:
        ip("-n", self.agent_ns, "link", "set", self.agent_link, "down")

    def restore(self) -> None:
        ip("-n", self.agent_ns, "link", "set", self.agent_link, "up")


@pytest.fixture()
def namespaces() -> Iterator[Partitionable]:
    """Two fresh namespaces joined by a veth pair, removed afterwards."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2's ip to create network namespaces")
    suffix = f"{os.getpid() % 100000}"
    agent_ns, gateway_ns = f"e2e-agent-{suffix}", f"e2e-gateway-{suffix}"
    agent_link, gateway_link = f"e2ea{suffix}", f"e2eg{suffix}"
    ip("netns", "add", agent_ns)
    try:
        ip("netns", "add", gateway_ns)
        try:
            ip(
                "link", "add", agent_link, "netns", agent_ns, "type", "veth",
                "peer", "name", gateway_link, "netns", gateway_ns,
            )  # fmt: skip
            for ns, link, address in (
                (agent_ns, agent_link, AGENT_ADDRESS),
                (gateway_ns, gateway_link, GATEWAY_ADDRESS),
            ):
                ip("-n", ns, "addr", "add", f"{address}/30", "dev", link)
                ip("-n", ns, "link", "set", link, "up")
                ip("-n", ns, "link", "set", "lo", "up")
            yield Partitionable(agent_ns=agent_ns, gateway_ns=gateway_ns, agent_link=agent_link)
        finally:
            subprocess.run(["ip", "netns", "del", gateway_ns], check=False, timeout=30)
    finally:
        subprocess.run(["ip", "netns", "del", agent_ns], check=False, timeout=30)


def test_nothing_within_queue_capacity_is_lost_while_the_link_is_down(
    collector_binary: Path,
    telemetrygen_binary: Path,
    processes: ProcessRunner,
    namespaces: Partitionable,
) -> None:
    # GIVEN the gateway (and its sink) in one namespace, the agent in the other
    sink = sink_in_netns(namespaces.gateway_ns)
    try:
        gateway_ports, agent_ports = Ports.allocate(), Ports.allocate()
        gateway = start_collector(
            processes,
            collector_binary,
            gateway_config(gateway_ports, sink=sink.endpoint, host=GATEWAY_ADDRESS),
            gateway_ports,
            name="gateway",
            netns=namespaces.gateway_ns,
        )
        agent = start_collector(
            processes,
            collector_binary,
            agent_config(agent_ports, gateway=f"{GATEWAY_ADDRESS}:{gateway_ports.grpc}"),
            agent_ports,
            name="agent",
            netns=namespaces.agent_ns,
        )
        in_agent_ns = ["ip", "netns", "exec", namespaces.agent_ns]
        first = run_telemetrygen(
            telemetrygen_binary,
            "traces",
            endpoint=agent.grpc_endpoint,
            count=50,
            prefix=in_agent_ns,
        )
        assert first.returncode == 0, first.stderr[-2000:]
        sink.wait_for(lambda s: len(s.span_ids) >= 100, timeout=20, what="100 spans over the link")

        # WHEN the link is cut, 2000 spans are sent, and the link comes back 5 s later
        namespaces.cut()
        sent = run_telemetrygen(
            telemetrygen_binary,
            "traces",
            endpoint=agent.grpc_endpoint,
            count=500,
            workers=2,
            rate=1000,
            prefix=in_agent_ns,
        )
        assert sent.returncode == 0, sent.stderr[-2000:]
        time.sleep(5)
        assert len(sink.state.span_ids) == 100
        namespaces.restore()

        # THEN all 2100 spans arrive, and the agent dropped nothing
        state = sink.wait_for(
            lambda s: len(s.span_ids) >= 2100, timeout=60, what="2100 unique spans after the cut"
        )
        assert len(state.span_ids) == 2100
        assert agent.metric("otelcol_receiver_accepted_spans") == 2100
        assert agent.metric("otelcol_exporter_enqueue_failed_spans") == 0
        assert agent.metric("otelcol_exporter_send_failed_spans") == 0
        assert processes.stop(agent.process, sig=signal.SIGTERM, timeout=30) == 0
        assert processes.stop(gateway.process, sig=signal.SIGTERM, timeout=30) == 0
    finally:
        sink.close()
