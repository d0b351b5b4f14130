#!/usr/bin/env python3
"""Throughput of one collector with its sending queue on disk against one with it in memory.

Usage: ``.venv/bin/python benchmarks/queue_bench.py [--seconds N] [--rounds N]``

The rendered sidecar config (512 MiB), exporting over OTLP/HTTP to a sink on 127.0.0.1, once
with ``persistent_queues=True`` (``file_storage/queue`` in a fresh temporary directory) and
once with ``persistent_queues=False``; nothing else differs, environment included (GOMAXPROCS,
GOMEMLIMIT). Rounds alternate the two; each round runs a new collector. Load: two gRPC clients
sending the same 1000-span request back to back for ``--seconds``; a refused request (memory
limiter) is sent again 10 ms later. Throughput is the number of spans the sink received
divided by the time from the start of the load until the sink had received every span the
collector accepted (its own ``otelcol_receiver_accepted_spans``), so a queue that falls behind
pays for its backlog. The sink counts the spans of each request (protobuf parsed, not walked)
and answers 200. Also measured per round: the collector's CPU time (user + system, from
/proc) per million spans delivered and the share of one core it kept busy, which shows what
bounds the throughput: with ``GOMAXPROCS`` 1 the collector is CPU-bound either way, and the
persistent queue's extra work per span (each request serialized into ``file_storage`` and read
back before it is sent) is what its lower throughput costs.

Prints the rounds, the medians and their ratio; exits 0 whatever the figures, non-zero only
when it cannot measure. Everything runs on 127.0.0.1 on free ports.
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
for entry in (str(REPO_ROOT), str(REPO_ROOT / "constructs")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

import grpc  # noqa: E402
from opentelemetry.proto.collector.trace.v1 import (  # noqa: E402
    trace_service_pb2,
    trace_service_pb2_grpc,
)

from tests.e2e.harness import (  # noqa: E402
    Ports,
    ProcessRunner,
    queued_sidecar_config,
    start_collector,
    wait_until,
)
from tests.e2e.test_overload import load_request  # noqa: E402
from tools.collector import build_collector  # noqa: E402

CLIENTS = 2
SPANS_PER_REQUEST = 1000
#: how long the collector may take to deliver what it accepted once the load stopped
DRAIN_TIMEOUT = 120


class CountingSink:
    """OTLP/HTTP traces receiver on 127.0.0.1 that counts spans and answers 200."""

    def __init__(self) -> None:
        self.spans = 0
        self._lock = threading.Lock()
        answer = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding", "") == "gzip":
                    body = gzip.decompress(body)
                request = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
                count = sum(
                    len(scope.spans)
                    for resource in request.resource_spans
                    for scope in resource.scope_spans
                )
                with sink._lock:
                    sink.spans += count
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def send_for(endpoint: str, *, seconds: float) -> None:
    """CLIENTS gRPC clients sending 1000-span requests back to back for ``seconds``."""
    request = load_request(7, spans=SPANS_PER_REQUEST, payload_bytes=16)
    deadline = time.monotonic() + seconds

    def client() -> None:
        with grpc.insecure_channel(endpoint) as channel:
            stub = trace_service_pb2_grpc.TraceServiceStub(channel)  # type: ignore[no-untyped-call]
            while time.monotonic() < deadline:
                try:
                    stub.Export(request, timeout=10)
                except grpc.RpcError:
                    time.sleep(0.01)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(
    runner: ProcessRunner, binary: Path, work: Path, *, persistent: bool, seconds: int, index: int
) -> tuple[float, float, float]:
    """One round: spans per second delivered to the sink, the collector's CPU seconds per
    million spans, and the share of one core it kept busy.
    """
    sink = CountingSink()
    queue = work / f"queue-{index}-{'disk' if persistent else 'memory'}"
    try:
        ports = Ports.allocate()
        rendered = queued_sidecar_config(
            ports, sink=sink.endpoint, persistent_queues=persistent, queue_directory=queue
        )
        name = f"{'persistent' if persistent else 'memory'}-{index}"
        collector = start_collector(runner, binary, rendered, ports, name=name)
        started, cpu_before = time.monotonic(), cpu_seconds(collector.process.pid)
        send_for(collector.grpc_endpoint, seconds=seconds)
        accepted = collector.metric("otelcol_receiver_accepted_spans")
        wait_until(
            lambda: sink.spans >= accepted,
            timeout=DRAIN_TIMEOUT,
            interval=0.02,
            what=f"the sink received the {accepted:.0f} spans the collector accepted",
        )
        elapsed = time.monotonic() - started
        used = cpu_seconds(collector.process.pid) - cpu_before
        runner.stop(collector.process)
        return sink.spans / elapsed, used / sink.spans * 1e6, used / elapsed
    finally:
        sink.close()


def filesystem_of(path: Path) -> str:
    """The type of the file system ``path`` is on (longest mount point of /proc/self/mounts)."""
    best, kind = "", "?"
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        mount = fields[1]
        inside = str(path) == mount or str(path).startswith(mount.rstrip("/") + "/")
        if inside and len(mount) > len(best):
            best, kind = mount, fields[2]
    return kind


Round = tuple[float, float, float]


def report(memory: list[Round], disk: list[Round]) -> None:
    """Print the rounds, the medians, their ratio and what bounds them."""
    for label, rounds in (("in-memory queue", memory), ("persistent queue", disk)):
        rates = [r[0] for r in rounds]
        print(
            f"throughput, {label}: "
            + ", ".join(f"{value:,.0f}" for value in rates)
            + f" spans/s (median {statistics.median(rates):,.0f}); collector CPU "
            + ", ".join(f"{r[1]:.2f}" for r in rounds)
            + " s per million spans, "
            + ", ".join(f"{r[2]:.2f}" for r in rounds)
            + " of a core busy"
        )
    disk_rate = statistics.median(r[0] for r in disk)
    memory_rate = statistics.median(r[0] for r in memory)
    print(
        "throughput with persistent vs in-memory sending queues: "
        f"{disk_rate:,.0f} vs {memory_rate:,.0f} spans/s (medians)"
    )
    print(f"ratio persistent/in-memory: {disk_rate / memory_rate:.2f}")
    disk_cpu = statistics.median(r[1] for r in disk)
    memory_cpu = statistics.median(r[1] for r in memory)
    print(
        "collector CPU per million spans, persistent vs in-memory queue: "
        f"{disk_cpu:.2f} vs {memory_cpu:.2f} s (medians; inverse ratio "
        f"{memory_cpu / disk_cpu:.2f}: throughput follows CPU per span)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=int, default=5, help="load per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each queue")
    args = parser.parse_args()
    binary = build_collector()
    with tempfile.TemporaryDirectory(prefix="queue-bench-") as directory:
        work = Path(directory)
        runner = ProcessRunner(work / "processes")
        try:
            memory: list[Round] = []
            disk: list[Round] = []
            for index in range(args.rounds):
                for persistent, results in ((False, memory), (True, disk)):
                    results.append(
                        throughput(
                            runner,
                            binary,
                            work,
                            persistent=persistent,
                            seconds=args.seconds,
                            index=index,
                        )
                    )
        finally:
            runner.close()
        print(f"collector: {binary}")
        print(
            f"sidecar config (512 MiB), {CLIENTS} gRPC clients x {SPANS_PER_REQUEST}-span "
            f"requests for {args.seconds} s per round, OTLP/HTTP to a counting sink; "
            f"queue directory on {filesystem_of(work)}"
        )
        report(memory, disk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
