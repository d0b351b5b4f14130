"""No hop sends what the next one refuses: every request a rendered exporter sends between the
library's collectors is bounded in bytes below what every rendered receiver accepts, and the
receivers' limits follow the container's memory.

gRPC refuses a message larger than its limit (4 MiB by default, after decompression) and the
sender drops the batch as a permanent error; a batch bounded only by item count (8,192 spans)
crosses it with spans of a few KB.
"""

from __future__ import annotations

from typing import Any

import pytest
from otel_fargate.config import CollectorConfigOptions, DebugExporter, OtlpExporter, render
from otel_fargate.config.core.sizing import MIB, size_for
from otel_fargate.config.sampling.policies import KeepErrors
from otel_fargate.config.sampling.tier import TailSampling, TraceRouting
from otel_fargate.names import GRPC_DEFAULT_MAX_RECV_MIB, MAX_EXPORT_BATCH_BYTES

from tests.library.golden_cases import CASES

SIZES = (256, 384, 512, 896, 1024, 1920, 3968, 7936)


def _rendered(preset: str, memory_mib: int) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if preset == "gateway":
        extra["trace_routing"] = TraceRouting(hostname="otel-sampler.shop.internal")
    if preset == "sampler":
        extra["sampling"] = TailSampling(policies=(KeepErrors(),), expected_new_traces_per_second=50)
    exporters = () if preset == "agent" else (DebugExporter(),)
    options = CollectorConfigOptions(
        preset=preset, exporters=exporters, memory_mib=memory_mib, **extra  # type: ignore[arg-type]
    )
    return render(options).config


def _receive_limits(config: dict[str, Any]) -> dict[str, int]:
    protocols = config["receivers"]["otlp"]["protocols"]
    limits = {"grpc": protocols["grpc"]["max_recv_msg_size_mib"] * MIB}
    if "http" in protocols:
        limits["http"] = protocols["http"]["max_request_body_size"]
    return limits


def _batch(exporter: dict[str, Any]) -> dict[str, Any]:
    batch: dict[str, Any] = exporter["sending_queue"]["batch"]
    return batch


@pytest.mark.parametrize(("sender", "exporter_id", "receiver"), [
    ("agent", "otlp_grpc/gateway", "gateway"),
    ("gateway", "load_balancing", "sampler"),
])
@pytest.mark.parametrize("memory_mib", SIZES)
def test_what_a_hop_sends_fits_what_the_next_hop_accepts(
    sender: str, exporter_id: str, receiver: str, memory_mib: int
) -> None:
    # GIVEN the sending collector as rendered, and the receiving one at any size
    batch = _batch(_rendered(sender, 512)["exporters"][exporter_id])
    limits = _receive_limits(_rendered(receiver, memory_mib))
    # THEN the sender splits every request by serialized bytes, without waiting for more data
    assert batch == {"sizer": "bytes", "min_size": 0, "max_size": MAX_EXPORT_BATCH_BYTES, "flush_timeout": "200ms"}
    # AND the largest request is below the receiver's gRPC limit, whatever its memory
    assert batch["max_size"] < limits["grpc"]
    assert batch["max_size"] < GRPC_DEFAULT_MAX_RECV_MIB * MIB


@pytest.mark.parametrize("memory_mib", SIZES)
@pytest.mark.parametrize("preset", ["sidecar", "agent", "gateway", "sampler"])
def test_receive_limits_follow_the_container_memory(preset: str, memory_mib: int) -> None:
    sizing = size_for(memory_mib=memory_mib, cpu_units=256)
    limits = _receive_limits(_rendered(preset, memory_mib))
    # a quarter of the spike headroom, never below gRPC's default
    expected = max(GRPC_DEFAULT_MAX_RECV_MIB, sizing.spike_limit_mib // 4) * MIB
    assert set(limits.values()) == {expected}
    # one request, decoded, fits the memory limiter's spike headroom with room to spare
    assert expected <= max(GRPC_DEFAULT_MAX_RECV_MIB * MIB, sizing.spike_limit_mib * MIB // 4)


@pytest.mark.parametrize(("memory_mib", "mib"), [(256, 8), (512, 20), (896, 37), (1920, 83)])
def test_receive_limit_figures(memory_mib: int, mib: int) -> None:
    assert size_for(memory_mib=memory_mib, cpu_units=256).receive_limit_mib == mib


def test_a_typed_otlp_exporter_bounds_its_requests_too() -> None:
    exporter = OtlpExporter(endpoint="api.honeycomb.io:443").render()
    assert _batch(exporter)["max_size"] == MAX_EXPORT_BATCH_BYTES


def test_a_disabled_queue_has_no_batch() -> None:
    from otel_fargate.config import SendingQueue

    exporter = OtlpExporter(endpoint="api.honeycomb.io:443", queue=SendingQueue(enabled=False)).render()
    assert "batch" not in exporter["sending_queue"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_golden_config_bounds_its_collector_hops(case: str) -> None:
    # GIVEN every golden configuration
    options = CASES[case]
    config = render(options).config
    # THEN its OTLP receivers are sized, and its exporters to other collectors (and typed OTLP
    # exporters) split by bytes
    assert min(_receive_limits(config).values()) >= GRPC_DEFAULT_MAX_RECV_MIB * MIB
    bounded = {"otlp_grpc/gateway", "load_balancing"}
    bounded |= {e.component_id for e in options.exporters if isinstance(e, OtlpExporter)}
    for eid in bounded & set(config["exporters"]):
        assert _batch(config["exporters"][eid])["max_size"] == MAX_EXPORT_BATCH_BYTES, eid
