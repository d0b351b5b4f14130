"""The scale tier with real collectors: two routing gateways and three samplers on separate hosts.

Spans of one trace reach both routers (a request crossing two services whose agents use
different gateway tasks); the routers must send every span of a trace to one sampler, which
decides the whole trace. Samplers export to their own sinks, so a trace found in two sinks
was split. See ``tests/e2e/tier.py`` for the network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from otel_fargate.config.sampling.tier import KeepErrors, KeepSlow, Probabilistic

from tests.e2e.harness import (
    GATEWAY_TOKEN,
    REPO_ROOT,
    ProcessRunner,
    json_lines,
    peak_rss_mib,
    run_telemetrygen,
    wait_until,
)
from tests.e2e.tier import Tier, TierNetwork, tier_network

pytestmark = pytest.mark.e2e

SPLIT_APP = REPO_ROOT / "tests" / "e2e" / "apps" / "split_trace_app.py"
POLICIES = (KeepErrors(), KeepSlow(threshold_ms=1000), Probabilistic(percent=20))
#: Spans per telemetrygen trace (a root and nine children).
SPANS = 10


@pytest.fixture()
def network() -> Iterator[TierNetwork]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2's ip to create network namespaces")
    with tier_network(routers=2, samplers=4) as created:
        yield created


def start_tier(
    network: TierNetwork, processes: ProcessRunner, binary: Path, policies: Any, samplers: int
) -> Tier:
    tier = Tier(network=network, runner=processes, binary=binary, policies=policies)
    for index in range(1, samplers + 1):
        tier.start_sampler(index)
    network.publish(range(1, samplers + 1))
    tier.start_routers()
    tier.wait_backends(samplers)
    return tier


def telemetrygen(tier: Tier, binary: Path, router: int, count: int, *extra: str) -> None:
    # at a bounded rate: telemetrygen's SDK drops spans its export queue cannot hold
    result = run_telemetrygen(
        binary, "traces", endpoint=tier.router_endpoint(router), count=count, workers=2, rate=100,
        headers={"authorization": f"Bearer {GATEWAY_TOKEN}"},
        extra=["--child-spans", str(SPANS - 1), *extra],
        prefix=["ip", "netns", "exec", tier.network.samplers_ns],
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]


def split_app(tier: Tier, traces: int, *args: str) -> subprocess.Popen[str]:
    """Start the two-service generator in the samplers' namespace (it reaches both routers)."""
    return subprocess.Popen(
        [
            "ip", "netns", "exec", tier.network.samplers_ns, sys.executable, str(SPLIT_APP),
            tier.router_endpoint(1), tier.router_endpoint(2), GATEWAY_TOKEN, str(traces), *args,
        ],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )  # fmt: skip


def finished(process: subprocess.Popen[str], timeout: float = 180) -> list[dict[str, Any]]:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return [line for line in json_lines(out) if "trace_id" in line]


def settle(tier: Tier, *, quiet: float) -> None:
    """Wait until no sink has received anything for ``quiet`` seconds."""
    last: list[int] = []

    def still() -> bool:
        now = [sink.state.spans for sink in tier.sinks.values()]
        if now == last:
            return True
        last[:] = now
        return False

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(quiet)
        if still():
            return
    raise TimeoutError("the sinks did not settle")


def test_no_trace_is_split_and_the_policies_keep_what_they_promise(
    collector_binary: Path,
    telemetrygen_binary: Path,
    processes: ProcessRunner,
    network: TierNetwork,
) -> None:
    # GIVEN two routers and three samplers keeping errors, traces over 1 s and 20 % of the rest
    tier = start_tier(network, processes, collector_binary, POLICIES, samplers=3)
    try:
        # WHEN telemetrygen sends plain, failing and slow traces through both routers, and the
        # SDK app sends traces whose root and children go through different routers
        app = split_app(tier, 300, "--error-every", "10", "--threads", "4")
        telemetrygen(tier, telemetrygen_binary, 1, 300, "--service", "plain")
        telemetrygen(tier, telemetrygen_binary, 2, 30, "--service", "failing", "--status-code", "Error")
        telemetrygen(tier, telemetrygen_binary, 1, 15, "--service", "slow", "--span-duration", "1500ms")
        sdk_traces = finished(app)
        settle(tier, quiet=4)
        where = tier.where()
        # THEN no trace reached two samplers
        split = [tid.hex() for tid, samplers in where.items() if len(samplers) > 1]
        assert split == [], f"{len(split)} of {len(where)} traces split: {split[:5]}"
        # AND every sampler decided some traces (the routers spread them)
        assert all(sink.state.spans > 0 for sink in tier.sinks.values())
        kept = {tid: next(iter(samplers.values())) for tid, samplers in where.items()}
        by_service: dict[str, list[int]] = {}
        for services in kept.values():
            for service, spans in services.items():
                by_service.setdefault(service, []).append(spans)
        # AND every failing and every slow trace is kept, whole (2 workers each)
        assert by_service.get("failing") == [SPANS] * 60
        assert by_service.get("slow") == [SPANS] * 30
        # AND every SDK trace with an error is kept whole: its root through router 1 and its
        # four children through router 2, all at one sampler
        errors = [t["trace_id"] for t in sdk_traces if t["error"]]
        assert len(errors) == 30
        for trace_id in errors:
            assert kept[bytes.fromhex(trace_id)] == {"frontend": 1, "backend": 4}
        # AND about 20 % of the plain traces are kept, each whole (600 traces: 3 sigma ~ 4.9 %)
        plain = by_service.get("plain", [])
        assert set(plain) == {SPANS}
        share = len(plain) / 600
        sdk_plain = [t for t in sdk_traces if not t["error"]]
        sdk_kept = [t for t in sdk_plain if bytes.fromhex(t["trace_id"]) in kept]
        print(f"plain traces kept: {len(plain)}/600 = {share:.3f}; SDK {len(sdk_kept)}/{len(sdk_plain)}")
        assert 0.15 <= share <= 0.25
        assert all(kept[bytes.fromhex(t["trace_id"])] == {"frontend": 1, "backend": 4} for t in sdk_kept)
        assert 0.12 <= len(sdk_kept) / len(sdk_plain) <= 0.28
        # AND nothing was lost between the routers and the samplers
        sent = sum(r.metric("otelcol_exporter_sent_spans") for r in tier.routers)
        accepted = sum(s.metric("otelcol_receiver_accepted_spans") for s in tier.samplers.values())
        assert sent == accepted == 600 * SPANS + 60 * SPANS + 30 * SPANS + 300 * 5
        assert sum(r.metric("otelcol_exporter_send_failed_spans") for r in tier.routers) == 0
    finally:
        tier.close()


def test_discovery_under_change_splits_only_traces_in_flight(
    collector_binary: Path,
    processes: ProcessRunner,
    network: TierNetwork,
) -> None:
    # GIVEN three samplers that keep everything, and a fourth started but not yet registered
    tier = start_tier(network, processes, collector_binary, (Probabilistic(percent=100),), 3)
    try:
        tier.start_sampler(4)
        # WHEN traces of 1.2 s (five spans, two routers) flow while a sampler registers and,
        # later, one deregisters and is stopped after its last decisions (as ECS scales in)
        app = split_app(tier, 480, "--gap", "0.3", "--threads", "8")
        windows: list[tuple[float, float]] = []
        time.sleep(6)
        began = time.time()
        network.publish([1, 2, 3, 4])
        tier.wait_backends(4)
        windows.append((began, time.time()))
        time.sleep(6)
        began = time.time()
        network.publish([2, 3, 4])
        tier.wait_backends(3)
        windows.append((began, time.time()))
        time.sleep(3)  # longer than decision_wait: sampler 1 has decided what it holds
        processes.stop(tier.samplers[1].process)
        traces = finished(app, timeout=300)
        settle(tier, quiet=4)
        where = tier.where()
        # THEN every trace arrived whole (its five spans, from one or more samplers)
        assert len(traces) == 480
        for line in traces:
            samplers = where.get(bytes.fromhex(line["trace_id"]), {})
            total = sum(sum(services.values()) for services in samplers.values())
            assert total == 5, f"trace {line['trace_id']}: {total} of 5 spans"
        # AND only traces in flight while the routers switched were split
        split = {t["trace_id"] for t in traces if len(where[bytes.fromhex(t["trace_id"])]) > 1}
        in_flight = {
            t["trace_id"]
            for t in traces
            if any(t["start"] <= end and t["end"] >= start for start, end in windows)
        }
        print(
            f"switch windows {[round(end - start, 1) for start, end in windows]} s; "
            f"split {len(split)} of {len(traces)} traces; in flight while switching "
            f"{len(in_flight)}"
        )
        assert split <= in_flight
        assert len(split) < len(in_flight)
    finally:
        tier.close()



def test_an_overloaded_sampler_refuses_with_retryable_errors_and_stays_in_its_memory(
    collector_binary: Path,
    telemetrygen_binary: Path,
    processes: ProcessRunner,
    network: TierNetwork,
) -> None:
    # GIVEN one 256 MiB sampler holding traces for 4 s (keeping none), behind one router
    tier = Tier(
        network=network, runner=processes, binary=collector_binary,
        policies=(KeepErrors(),), decision_wait="4s",
    )  # fmt: skip
    try:
        sampler = tier.start_sampler(1, memory_mib=256)
        network.publish([1])
        tier.start_routers()
        tier.wait_backends(1)
        router = tier.routers[0]
        # WHEN clients send spans of 8 KiB each, up to 150 MiB a second, for 15 s
        payload = "x" * 8192
        load = subprocess.Popen(
            [
                "ip", "netns", "exec", network.samplers_ns, str(telemetrygen_binary), "traces",
                "--otlp-endpoint", tier.router_endpoint(1), "--otlp-insecure",
                "--otlp-header", f'authorization="Bearer {GATEWAY_TOKEN}"',
                "--workers", "4", "--rate", "500", "--traces", "100000", "--child-spans", "9",
                "--telemetry-attributes", f'payload="{payload}"',
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(15)
        finally:
            load.kill()
            load.wait(timeout=10)
        # THEN the sampler's memory limiter refused data, and the sampler stayed below its
        # container, alive and healthy
        refused = sampler.metric("otelcol_receiver_refused_spans")
        peak = peak_rss_mib(sampler.process.pid)
        print(f"sampler peak RSS {peak:.0f} of 256 MiB; refused {refused:.0f} spans")
        assert refused > 0
        assert peak < 256
        assert sampler.process.alive()
        # AND the refusals were retryable: the router kept what it accepted and delivered it
        # once the sampler had decided and freed its memory; nothing failed for good
        accepted = router.metric("otelcol_receiver_accepted_spans")
        wait_until(
            lambda: router.metric("otelcol_exporter_sent_spans")
            + router.metric("otelcol_exporter_send_failed_spans")
            >= accepted,
            timeout=120, interval=1, what="the router has sent or given up on what it accepted",
        )  # fmt: skip
        assert router.metric("otelcol_exporter_send_failed_spans") == 0
        assert router.metric("otelcol_exporter_sent_spans") == accepted
    finally:
        tier.close()
