#!/usr/bin/env python3
"""End-to-end figures of the real collector built from the pinned version.

Usage: ``.venv/bin/python benchmarks/e2e_bench.py [--seconds N] [--rounds N]``

1. Throughput (spans/s) through agent → gateway → sink with the rendered agent and gateway
   configs, against a minimal ``otlp → batch → otlp`` pair of the same binary, measured in the
   same run with the same environment (GOMAXPROCS, GOMEMLIMIT), rounds alternating; the
   ratio rendered/minimal has a target of ≥ 0.9. Load: two gRPC clients sending the same
   1000-span request back to back for ``--seconds`` (cheap for the client, so the collectors
   are the bottleneck); throughput is what the agent accepted divided by the time until the
   gateway had exported all of it (its own ``otelcol_exporter_sent_spans``); the sink
   answers without decoding.
2. Peak RSS (VmHWM) of a collector rendered for the smallest size accepted, 512 and 1024 MiB
   while a client overloads it and its backend answers 503, against the container memory it
   was sized for.
3. Time from process start to a 2xx from health_check for the rendered agent config.

Prints figures with PASS/MISS against the targets; exits 0 whatever the figures, non-zero only
when it cannot measure. Everything runs on 127.0.0.1 on free ports.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
for entry in (str(REPO_ROOT), str(REPO_ROOT / "constructs")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

import grpc  # noqa: E402
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc  # noqa: E402
from otel_fargate.config import MIN_MEMORY_MIB  # noqa: E402

from tests.e2e.harness import (  # noqa: E402
    Collector,
    OtlpSink,
    Ports,
    ProcessRunner,
    agent_config,
    collector_env,
    gateway_config,
    healthy,
    peak_rss_mib,
    sidecar_config,
    start_collector,
    wait_until,
)
from tests.e2e.test_overload import load_request  # noqa: E402
from tools.collector import build_collector  # noqa: E402

TARGET_RATIO = 0.9


def minimal_config(ports: Ports, *, receiver: str, exporter: dict[str, Any]) -> str:
    """otlp (gRPC) → batch → one exporter, health_check and Prometheus own metrics."""
    exporter_id = next(iter(exporter))
    return yaml.safe_dump(
        {
            "extensions": {"health_check": {"endpoint": f"127.0.0.1:{ports.health}"}},
            "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": receiver}}}},
            "processors": {"batch": {}},
            "exporters": exporter,
            "service": {
                "extensions": ["health_check"],
                "pipelines": {
                    "traces": {
                        "receivers": ["otlp"],
                        "processors": ["batch"],
                        "exporters": [exporter_id],
                    }
                },
                "telemetry": {
                    "metrics": {
                        "readers": [
                            {
                                "pull": {
                                    "exporter": {
                                        "prometheus": {"host": "127.0.0.1", "port": ports.metrics}
                                    }
                                }
                            }
                        ]
                    }
                },
            },
        }
    )


def start_pair(
    runner: ProcessRunner, binary: Path, sink: OtlpSink, *, minimal: bool
) -> tuple[Collector, Collector]:
    """Gateway and agent, rendered or minimal; both get the rendered configs' environment."""
    gateway_ports, agent_ports = Ports.allocate(), Ports.allocate()
    gateway_rendered = gateway_config(gateway_ports, sink=sink.endpoint)
    agent_rendered = agent_config(agent_ports, gateway=f"127.0.0.1:{gateway_ports.grpc}")
    gateway_env = collector_env(gateway_rendered)
    agent_env = collector_env(agent_rendered)
    if minimal:
        gateway_env["OTEL_FARGATE_CONFIG"] = minimal_config(
            gateway_ports,
            receiver=f"127.0.0.1:{gateway_ports.grpc}",
            exporter={"otlphttp": {"endpoint": sink.endpoint}},
        )
        agent_env["OTEL_FARGATE_CONFIG"] = minimal_config(
            agent_ports,
            receiver=f"127.0.0.1:{agent_ports.grpc}",
            exporter={
                "otlp": {
                    "endpoint": f"127.0.0.1:{gateway_ports.grpc}",
                    "tls": {"insecure": True},
                }
            },
        )
    name = "minimal" if minimal else "rendered"
    gateway = start_collector(
        runner, binary, gateway_rendered, gateway_ports, name=f"{name}-gateway", env=gateway_env
    )
    agent = start_collector(
        runner, binary, agent_rendered, agent_ports, name=f"{name}-agent", env=agent_env
    )
    return agent, gateway


def send_for(endpoint: str, *, seconds: float, clients: int) -> None:
    """``clients`` gRPC clients sending 1000-span requests back to back for ``seconds``."""
    request = load_request(7, spans=1000, payload_bytes=16)
    deadline = time.monotonic() + seconds

    def client() -> None:
        with grpc.insecure_channel(endpoint) as channel:
            stub = trace_service_pb2_grpc.TraceServiceStub(channel)  # type: ignore[no-untyped-call]
            while time.monotonic() < deadline:
                try:
                    stub.Export(request, timeout=10)
                except grpc.RpcError:
                    time.sleep(0.01)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)


def throughput(runner: ProcessRunner, binary: Path, *, minimal: bool, seconds: int) -> float:
    """Spans per second through agent and gateway for ``seconds`` of load."""
    sink = OtlpSink(decode=False)
    try:
        agent, gateway = start_pair(runner, binary, sink, minimal=minimal)
        started = time.monotonic()
        send_for(agent.grpc_endpoint, seconds=seconds, clients=2)
        accepted = agent.metric("otelcol_receiver_accepted_spans")
        wait_until(
            lambda: gateway.metric("otelcol_exporter_sent_spans") >= accepted,
            timeout=60,
            interval=0.05,
            what="the gateway exported everything the agent accepted",
        )
        elapsed = time.monotonic() - started
        runner.stop(agent.process)
        runner.stop(gateway.process)
        return accepted / elapsed
    finally:
        sink.close()


def overload_peak(runner: ProcessRunner, binary: Path, memory_mib: int, seconds: float) -> float:
    sink = OtlpSink()
    sink.status = 503
    try:
        ports = Ports.allocate()
        rendered = sidecar_config(ports, sink=sink.endpoint, memory_mib=memory_mib)
        collector = start_collector(runner, binary, rendered, ports, name=f"overload-{memory_mib}")
        request = load_request(1)
        deadline = time.monotonic() + seconds
        with grpc.insecure_channel(collector.grpc_endpoint) as channel:
            stub = trace_service_pb2_grpc.TraceServiceStub(channel)  # type: ignore[no-untyped-call]
            while time.monotonic() < deadline:
                with contextlib.suppress(grpc.RpcError):
                    stub.Export(request, timeout=5)
        peak = peak_rss_mib(collector.process.pid)
        runner.stop(collector.process)
        return peak
    finally:
        sink.close()


def time_to_healthy(runner: ProcessRunner, binary: Path) -> float:
    ports = Ports.allocate()
    rendered = agent_config(ports, gateway="127.0.0.1:9")
    url = f"http://127.0.0.1:{ports.health}/"
    started = time.monotonic()
    collector = start_collector(runner, binary, rendered, ports, name="startup", wait=False)
    wait_until(lambda: healthy(url, timeout=0.2), timeout=30, interval=0.005, what="healthy")
    took = time.monotonic() - started
    runner.stop(collector.process)
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=int, default=5, help="load per throughput round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each configuration")
    args = parser.parse_args()
    binary = build_collector()
    with tempfile.TemporaryDirectory(prefix="e2e-bench-") as work:
        runner = ProcessRunner(Path(work))
        try:
            rendered: list[float] = []
            minimal: list[float] = []
            for _ in range(args.rounds):
                for is_minimal, results in ((False, rendered), (True, minimal)):
                    results.append(
                        throughput(runner, binary, minimal=is_minimal, seconds=args.seconds)
                    )
            ratio = statistics.median(rendered) / statistics.median(minimal)
            print(f"collector: {binary}")
            print(
                "agent → gateway throughput, rendered configs: "
                + ", ".join(f"{value:,.0f}" for value in rendered)
                + f" spans/s (median {statistics.median(rendered):,.0f})"
            )
            print(
                "agent → gateway throughput, minimal otlp->batch->otlp: "
                + ", ".join(f"{value:,.0f}" for value in minimal)
                + f" spans/s (median {statistics.median(minimal):,.0f})"
            )
            verdict = "PASS" if ratio >= TARGET_RATIO else "MISS"
            print(f"ratio rendered/minimal: {ratio:.2f} (target >= {TARGET_RATIO}) {verdict}")
            for memory_mib in (MIN_MEMORY_MIB, 512, 1024):
                peak = overload_peak(runner, binary, memory_mib, seconds=6)
                verdict = "PASS" if peak < memory_mib else "MISS"
                print(
                    f"peak RSS under overload, sized for {memory_mib} MiB: {peak:.0f} MiB "
                    f"({peak / memory_mib:.0%} of the container) {verdict}"
                )
            startups = [time_to_healthy(runner, binary) for _ in range(5)]
            print(
                "process start to healthy (rendered agent config): median "
                f"{statistics.median(startups) * 1000:.0f} ms, max {max(startups) * 1000:.0f} ms"
            )
        finally:
            runner.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
