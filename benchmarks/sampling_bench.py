#!/usr/bin/env python3
"""Figures of the scale tier (routers and tail samplers) with the real collector.

Usage: ``.venv/bin/python benchmarks/sampling_bench.py [--traces N] [--in-flight N]`` (as root:
the tier runs in network namespaces, see ``tests/e2e/tier.py``).

1. Throughput (spans/s) through the tier, two routing gateways and three samplers keeping
   every trace (``Probabilistic(percent=100)``, ``decision_wait`` 1 s, the shortest allowed,
   ``num_traces`` 20,000 so none is dropped undecided: the default assumes 500 new traces/s a
   sampler), against one plain gateway (``gateway_config``) exporting to a sink that answers
   without decoding; same run, same binary, same load. The samplers' sinks are the tier
   harness's, which decode what they receive. Load: telemetrygen, eight workers in all, each
   ``--traces`` traces of 10 spans (a root and nine children) at ``--rate`` in batches of 512
   (at no rate limit telemetrygen's SDK drops what its export queue cannot hold); the tier's
   routers get one telemetrygen of four workers each, the plain gateway one of eight.
   Throughput is the spans the samplers (or the gateway) exported
   (``otelcol_exporter_sent_spans``) divided by the time from the start of the load until the
   last of them was exported, so the tier's figure includes one ``decision_wait``; also
   printed: how many spans the front (routers or gateway) accepted
   (``otelcol_receiver_accepted_spans``) and how fast, spans accepted but never exported, and
   the collectors' CPU seconds per million spans (user + system, from /proc). Generators,
   sinks and collectors share the machine's cores.
2. Memory of traces in flight in one sampler: ``decision_wait`` 60 s so nothing is decided
   during the measurement, ``num_traces`` twice ``--in-flight``; telemetrygen sends
   ``--in-flight`` traces of 10 spans straight to the sampler; once
   ``otelcol_processor_tail_sampling_sampling_traces_on_memory`` stops growing, the growth of
   ``otelcol_process_runtime_heap_alloc_bytes`` (Go heap, garbage not yet collected included)
   and of the resident set is divided by the traces held, next to the 16 KiB a trace the
   library sizes ``num_traces`` with (``TRACE_BYTES``).

Prints figures only; exits 0 whatever they are, non-zero only when it cannot measure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
for entry in (str(REPO_ROOT), str(REPO_ROOT / "constructs")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from otel_fargate.config.sampling.tier import TRACE_BYTES, Probabilistic  # noqa: E402

from tests.e2e.harness import (  # noqa: E402
    GATEWAY_TOKEN,
    Collector,
    OtlpSink,
    Ports,
    ProcessRunner,
    descendants,
    gateway_config,
    run_telemetrygen,
    start_collector,
    wait_until,
)
from tests.e2e.tier import SAMPLER_PORT, Tier, sampler_address, tier_network  # noqa: E402
from tools.collector import build_collector, build_telemetrygen  # noqa: E402

#: Spans per telemetrygen trace (a root and nine children).
SPANS = 10
ROUTERS = 2
SAMPLERS = 3
#: telemetrygen workers in all; a worker at no rate limit overruns its SDK's export queue and
#: drops spans, so each is limited to --rate and batches of BATCH spans
WORKERS = 8
BATCH = 512
MIB = 1024 * 1024
#: how long the collectors may take to export what they accepted once the load stopped
DRAIN_TIMEOUT = 180
#: exporting is over when it stops for this long short of what was accepted (spans lost)
STALL_SECONDS = 5
#: num_traces of each sampler in the throughput run: room for the load's traces of two seconds
SAMPLER_TRACES = 20000
AUTH = {"authorization": f"Bearer {GATEWAY_TOKEN}"}


def cpu_seconds(collectors: Sequence[Collector]) -> float:
    """User and system CPU time of the collectors' processes (and their children) so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for collector in collectors:
        pid = collector.process.pid
        for each in (pid, *descendants(pid)):
            try:
                stat = Path(f"/proc/{each}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def generate(
    binary: Path,
    endpoint: str,
    *,
    traces: int,
    workers: int,
    rate: float,
    prefix: Sequence[str] = (),
) -> None:
    result = run_telemetrygen(
        binary, "traces", endpoint=endpoint, count=traces, workers=workers, rate=rate,
        headers=AUTH, extra=["--child-spans", str(SPANS - 1), "--batch-size", str(BATCH)],
        timeout=600, prefix=prefix,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"telemetrygen failed: {result.stderr[-2000:]}")


def in_parallel(jobs: Sequence[Callable[[], None]]) -> None:
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as error:  # handed to the caller
            errors.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def total(collectors: Sequence[Collector], name: str) -> float:
    return sum(collector.metric(name) for collector in collectors)


class Run:
    """One throughput measurement: spans accepted at the front, timings, CPU."""

    def __init__(self, label: str, sent: int) -> None:
        self.label = label
        self.sent = sent
        self.accepted = 0.0
        self.exported = 0.0
        self.ingest_seconds = 0.0
        self.seconds = 0.0
        self.cpu = 0.0
        #: CPU seconds of the front (routers) and of the back (samplers) apart, when they differ
        self.cpu_front = 0.0
        self.cpu_back = 0.0

    def per_million(self, seconds: float) -> float:
        """``seconds`` of CPU per million spans accepted."""
        return seconds / self.accepted * 1e6

    def figures(self) -> str:
        lost = self.accepted - self.exported
        return (
            f"{self.label}: {self.exported / self.seconds:,.0f} spans/s end to end "
            f"({self.accepted:,.0f} of {self.sent:,} spans accepted in "
            f"{self.ingest_seconds:.2f} s = {self.accepted / self.ingest_seconds:,.0f} spans/s, "
            f"{self.exported:,.0f} exported after {self.seconds:.2f} s"
            + (f", {lost:,.0f} accepted spans never exported" if lost > 0 else "")
            + f"; {self.cpu / self.accepted * 1e6:.1f} collector CPU-s per million spans)"
        )


def measure(
    run: Run,
    front: Sequence[Collector],
    back: Sequence[Collector],
    load: Sequence[Callable[[], None]],
) -> Run:
    """Run ``load``; wait until ``back`` exported what ``front`` accepted."""
    behind = [c for c in back if c not in front]
    front_before, back_before = cpu_seconds(front), cpu_seconds(behind)
    started = time.monotonic()
    in_parallel(load)
    run.ingest_seconds = time.monotonic() - started
    run.accepted = total(front, "otelcol_receiver_accepted_spans")
    deadline = started + DRAIN_TIMEOUT
    last_change = time.monotonic()
    while run.exported < run.accepted:
        now = total(back, "otelcol_exporter_sent_spans")
        if now != run.exported:
            run.exported, last_change = now, time.monotonic()
        elif time.monotonic() - last_change > STALL_SECONDS:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{run.label}: still exporting after {DRAIN_TIMEOUT} s")
        time.sleep(0.05)
    run.seconds = last_change - started
    run.cpu_front = cpu_seconds(front) - front_before
    run.cpu_back = cpu_seconds(behind) - back_before
    run.cpu = run.cpu_front + run.cpu_back
    return run


def plain_gateway(
    runner: ProcessRunner, collector: Path, generator: Path, *, traces: int, rate: float
) -> Run:
    sink = OtlpSink(decode=False)
    try:
        ports = Ports.allocate()
        gateway = start_collector(
            runner, collector, gateway_config(ports, sink=sink.endpoint), ports, name="gateway"
        )
        run = measure(
            Run("plain gateway", WORKERS * traces * SPANS),
            [gateway],
            [gateway],
            [
                lambda: generate(
                    generator, gateway.grpc_endpoint, traces=traces, workers=WORKERS, rate=rate
                )
            ],
        )
        runner.stop(gateway.process)
        return run
    finally:
        sink.close()


def tier_throughput(
    runner: ProcessRunner, collector: Path, generator: Path, *, traces: int, rate: float
) -> Run:
    with tier_network(routers=ROUTERS, samplers=SAMPLERS) as network:
        tier = Tier(
            network=network,
            runner=runner,
            binary=collector,
            policies=(Probabilistic(percent=100),),
            decision_wait="1s",
        )
        try:
            for index in range(1, SAMPLERS + 1):
                tier.start_sampler(index, num_traces=SAMPLER_TRACES)
            network.publish(range(1, SAMPLERS + 1))
            tier.start_routers()
            tier.wait_backends(SAMPLERS)
            prefix = ["ip", "netns", "exec", network.samplers_ns]
            load = [
                lambda router=router: generate(
                    generator,
                    tier.router_endpoint(router),
                    traces=traces,
                    workers=WORKERS // ROUTERS,
                    rate=rate,
                    prefix=prefix,
                )
                for router in range(1, ROUTERS + 1)
            ]
            samplers = list(tier.samplers.values())
            run = measure(
                Run(f"tier ({ROUTERS} routers, {SAMPLERS} samplers)", WORKERS * traces * SPANS),
                tier.routers,
                samplers,
                load,
            )
            kept = total(samplers, "otelcol_receiver_accepted_spans")
            if kept != run.accepted:
                print(f"note: samplers accepted {kept:,.0f} spans, routers {run.accepted:,.0f}")
            early = total(
                samplers, "otelcol_processor_tail_sampling_sampling_trace_dropped_too_early"
            )
            if early:
                print(f"note: samplers dropped {early:,.0f} traces undecided (num_traces full)")
            for process in [*tier.routers, *samplers]:
                runner.stop(process.process)
            return run
        finally:
            tier.close()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmRSS")


def in_flight_memory(
    runner: ProcessRunner, collector: Path, generator: Path, *, traces: int, rate: float
) -> None:
    with tier_network(routers=1, samplers=1) as network:
        tier = Tier(
            network=network,
            runner=runner,
            binary=collector,
            policies=(Probabilistic(percent=100),),
            decision_wait="60s",
        )
        try:
            sampler = tier.start_sampler(1, num_traces=2 * traces)
            on_memory = "otelcol_processor_tail_sampling_sampling_traces_on_memory"
            heap = "otelcol_process_runtime_heap_alloc_bytes"
            time.sleep(3)
            heap_before, rss_before = sampler.metric(heap), rss_mib(sampler.process.pid)
            held_before = sampler.metric(on_memory)
            started = time.monotonic()
            generate(
                generator, f"{sampler_address(1)}:{SAMPLER_PORT}", traces=traces // WORKERS,
                workers=WORKERS, rate=rate, prefix=["ip", "netns", "exec", network.samplers_ns],
            )  # fmt: skip
            last: list[float] = []

            def steady() -> bool:
                now = sampler.metric(on_memory)
                if last and now == last[-1]:
                    return True
                last.append(now)
                return False

            wait_until(steady, timeout=30, interval=2, what="traces on memory stop growing")
            held = sampler.metric(on_memory) - held_before
            heap_after, rss_after = sampler.metric(heap), rss_mib(sampler.process.pid)
            elapsed = time.monotonic() - started
            spans = sampler.metric("otelcol_receiver_accepted_spans")
            decided = time.monotonic() - started > 60
            print(
                f"sampler in flight: {held:,.0f} traces held ({spans:,.0f} spans accepted, "
                f"{traces:,} traces sent), read {elapsed:.1f} s after the load started"
                + (" -- LATE: some traces may already be decided" if decided else "")
            )
            if held <= 0:
                raise RuntimeError(f"the sampler holds no traces ({on_memory} = {held})")
            heap_mib = (heap_after - heap_before) / MIB
            rss_growth = rss_after - rss_before
            print(
                f"sampler memory per 1k traces in flight, heap: {heap_mib / held * 1000:.2f} MiB "
                f"({(heap_after - heap_before) / held / 1024:.1f} KiB a trace; heap "
                f"{heap_before / MIB:.0f} -> {heap_after / MIB:.0f} MiB)"
            )
            print(
                f"sampler memory per 1k traces in flight, RSS: {rss_growth / held * 1000:.2f} MiB "
                f"({rss_growth * 1024 / held:.1f} KiB a trace; RSS "
                f"{rss_before:.0f} -> {rss_after:.0f} MiB)"
            )
            print(
                f"library assumption (TRACE_BYTES): {TRACE_BYTES * 1000 / MIB:.2f} MiB per 1k "
                f"traces ({TRACE_BYTES // 1024} KiB a {SPANS}-span trace)"
            )
            runner.stop(sampler.process)
        finally:
            tier.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--traces", type=int, default=2000, help="traces per generator worker")
    parser.add_argument(
        "--rate", type=float, default=20000, help="telemetrygen --rate of each worker"
    )
    parser.add_argument("--in-flight", type=int, default=5000, help="traces held by the sampler")
    args = parser.parse_args()
    if os.geteuid() != 0 or shutil.which("ip") is None:
        print("needs root and iproute2's ip (network namespaces)", file=sys.stderr)
        return 2
    collector, generator = build_collector(), build_telemetrygen()
    with tempfile.TemporaryDirectory(prefix="sampling-bench-") as work:
        runner = ProcessRunner(Path(work))
        try:
            print(f"collector: {collector}")
            print(
                f"load: {WORKERS} telemetrygen workers x {args.traces:,} traces x {SPANS} spans, "
                f"--rate {args.rate:g} each, batches of {BATCH}"
            )
            plain = plain_gateway(runner, collector, generator, traces=args.traces, rate=args.rate)
            tier = tier_throughput(runner, collector, generator, traces=args.traces, rate=args.rate)
            print(plain.figures())
            print(tier.figures())
            ratio = (tier.exported / tier.seconds) / (plain.exported / plain.seconds)
            print(
                "routing + sampling tier vs one plain gateway: "
                f"{tier.exported / tier.seconds:,.0f} vs {plain.exported / plain.seconds:,.0f} "
                "spans/s end to end"
            )
            print(f"ratio tier/plain gateway (end to end): {ratio:.2f}")
            print(
                "collector CPU-seconds per million spans, tier vs one plain gateway: "
                f"{tier.per_million(tier.cpu):.1f} vs {plain.per_million(plain.cpu):.1f} "
                f"(ratio {tier.cpu / tier.accepted / (plain.cpu / plain.accepted):.2f}); "
                f"routers {tier.per_million(tier.cpu_front):.1f}, "
                f"samplers {tier.per_million(tier.cpu_back):.1f}"
            )
            in_flight_memory(runner, collector, generator, traces=args.in_flight, rate=args.rate)
        finally:
            runner.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
