"""The scale tier on one machine: routers and samplers on separate hosts, found through DNS.

Hosts are network namespaces. The samplers share one namespace (``samplers``), each bound to
its own address ``10.77.0.1N`` on port 4317, the same port on every sampler as on Fargate. Each
router has its own namespace joined to the samplers' by a veth pair (``10.78.N.2`` on the
router's side) and its own hosts file, ``/etc/netns/<router ns>/hosts``, which
``ip netns exec`` puts in place of ``/etc/hosts``: the router's ``dns`` resolver looks the
samplers' name up there, as it looks up the Cloud Map A records on ECS. Adding or removing a
line is a sampler task registering or deregistering. The files are rewritten in place (the
bind mount keeps the inode); the Go resolver notices within about five seconds.

Generators run in the samplers' namespace and reach the routers at their veth addresses.
Used by ``tests/e2e/test_sampling_tier.py`` and ``benchmarks/sampling_bench.py``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from otel_fargate.config import CollectorConfigOptions, OtlpExporter, RenderedConfig, render
from otel_fargate.config.core.layers import deep_merge
from otel_fargate.config.options.tls import GatewayTlsOptions
from otel_fargate.config.sampling import SamplingPolicy, TailSampling, TraceRouting

from tests.e2e.harness import (
    Collector,
    OtlpSink,
    Ports,
    ProcessRunner,
    collector_env,
    loopback_overrides,
    sink_in_netns,
    start_collector,
    wait_until,
)

#: The samplers' DNS name, as the Cloud Map service would publish it.
SAMPLER_NAME = "otel-sampler.e2e.internal"
SAMPLER_PORT = 4317


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=30)


def sampler_address(index: int) -> str:
    return f"10.77.0.{10 + index}"


def router_address(index: int) -> str:
    return f"10.78.{index}.2"


@dataclass
class TierNetwork:
    """The namespaces; ``hosts`` are the routers' hosts files."""

    samplers_ns: str
    router_ns: list[str]
    hosts: list[Path]

    def publish(self, samplers: Sequence[int]) -> None:
        """Make every router's hosts file list exactly ``samplers`` (in place)."""
        lines = "".join(f"{sampler_address(i)} {SAMPLER_NAME}\n" for i in samplers)
        for path in self.hosts:
            with path.open("r+") as hosts:
                hosts.seek(0)
                hosts.write("127.0.0.1 localhost\n" + lines)
                hosts.truncate()


@contextlib.contextmanager
def tier_network(routers: int = 2, samplers: int = 4) -> Iterator[TierNetwork]:
    """Fresh namespaces for ``routers`` routers and up to ``samplers`` samplers."""
    suffix = f"{os.getpid() % 100000}"
    samplers_ns = f"e2e-smp-{suffix}"
    created: list[str] = []
    hosts_dirs: list[Path] = []
    try:
        ip("netns", "add", samplers_ns)
        created.append(samplers_ns)
        ip("-n", samplers_ns, "link", "set", "lo", "up")
        for index in range(1, samplers + 1):
            ip("-n", samplers_ns, "addr", "add", f"{sampler_address(index)}/32", "dev", "lo")
        router_ns: list[str] = []
        for index in range(1, routers + 1):
            ns = f"e2e-rtr{index}-{suffix}"
            ip("netns", "add", ns)
            created.append(ns)
            router_ns.append(ns)
            near, far = f"e2er{index}{suffix}", f"e2es{index}{suffix}"
            ip(
                "link",
                "add",
                near,
                "netns",
                ns,
                "type",
                "veth",
                "peer",
                "name",
                far,
                "netns",
                samplers_ns,
            )
            ip("-n", ns, "addr", "add", f"{router_address(index)}/24", "dev", near)
            ip("-n", samplers_ns, "addr", "add", f"10.78.{index}.1/24", "dev", far)
            for namespace, link in ((ns, near), (samplers_ns, far), (ns, "lo")):
                ip("-n", namespace, "link", "set", link, "up")
            ip("-n", ns, "route", "add", "10.77.0.0/24", "via", f"10.78.{index}.1")
            directory = Path("/etc/netns") / ns
            directory.mkdir(parents=True, exist_ok=True)
            hosts_dirs.append(directory)
            (directory / "hosts").write_text("127.0.0.1 localhost\n")
        yield TierNetwork(
            samplers_ns=samplers_ns,
            router_ns=router_ns,
            hosts=[d / "hosts" for d in hosts_dirs],
        )
    finally:
        for ns in reversed(created):
            subprocess.run(["ip", "netns", "del", ns], check=False, timeout=30)
        for directory in hosts_dirs:
            shutil.rmtree(directory, ignore_errors=True)


def _telemetry(ports: Ports) -> dict[str, object]:
    return {"service": loopback_overrides(ports)["service"]}


def sampler_config(
    ports: Ports,
    *,
    index: int,
    sink: str,
    policies: Sequence[SamplingPolicy],
    decision_wait: str = "2s",
    memory_mib: int = 1024,
    num_traces: int | None = None,
    extra: Mapping[str, Any] | None = None,
    tls: GatewayTlsOptions | None = None,
) -> RenderedConfig:
    """A sampler bound to its own address on 4317, exporting to ``sink``; ``num_traces``:
    the library's sizing when None; ``extra``: overrides merged last; ``tls``: the gateway's
    TLS, whose certificate the sampler serves.
    """
    receivers = {
        "otlp": {"protocols": {"grpc": {"endpoint": f"{sampler_address(index)}:{SAMPLER_PORT}"}}}
    }
    return render(
        CollectorConfigOptions(
            preset="sampler",
            exporters=(OtlpExporter(name="sink", protocol="http", endpoint=sink),),
            sampling=TailSampling(
                policies=tuple(policies), decision_wait=decision_wait, num_traces=num_traces
            ),
            memory_mib=memory_mib,
            health_check_endpoint=f"127.0.0.1:{ports.health}",
            self_telemetry_namespace=None,
            environment_name="e2e",
            service_name=f"sampler-{index}",
            gateway_tls=tls,
            overrides=deep_merge({"receivers": receivers, **_telemetry(ports)}, extra or {}),
        )
    )


def router_config(
    ports: Ports,
    *,
    index: int,
    memory_mib: int = 1024,
    logs_sink: str = "http://127.0.0.1:9",
    extra: Mapping[str, Any] | None = None,
    tls: GatewayTlsOptions | None = None,
) -> RenderedConfig:
    """A routing gateway on its veth address, resolving the samplers every second; its logs
    go to ``logs_sink`` (by default the discard port); ``extra``: overrides merged last;
    ``tls``: its receivers serve TLS and it verifies the samplers.
    """
    host = router_address(index)
    receivers = {
        "otlp": {
            "protocols": {
                "grpc": {"endpoint": f"{host}:{ports.grpc}"},
                "http": {"endpoint": f"{host}:{ports.http}"},
            }
        }
    }
    return render(
        CollectorConfigOptions(
            preset="gateway",
            # the gateway's metrics and logs exporter; traces go to the samplers
            exporters=(
                OtlpExporter(name="sink", protocol="http", endpoint=logs_sink, signals=("logs",)),
            ),
            trace_routing=TraceRouting(hostname=SAMPLER_NAME, interval="1s"),
            memory_mib=memory_mib,
            health_check_endpoint=f"127.0.0.1:{ports.health}",
            self_telemetry_namespace=None,
            environment_name="e2e",
            service_name=f"router-{index}",
            gateway_tls=tls,
            overrides=deep_merge({"receivers": receivers, **_telemetry(ports)}, extra or {}),
        )
    )


@dataclass
class Tier:
    """Running routers and samplers, and each sampler's sink."""

    network: TierNetwork
    runner: ProcessRunner
    binary: Path
    policies: Sequence[SamplingPolicy]
    decision_wait: str = "2s"
    #: the gateway's TLS, and the variables carrying its PEM text (certificate, key, CA)
    tls: GatewayTlsOptions | None = None
    tls_env: Mapping[str, str] = field(default_factory=dict)
    routers: list[Collector] = field(default_factory=list)
    samplers: dict[int, Collector] = field(default_factory=dict)
    sinks: dict[int, OtlpSink] = field(default_factory=dict)

    def start_sampler(
        self,
        index: int,
        *,
        memory_mib: int = 1024,
        num_traces: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Collector:
        sink = sink_in_netns(self.network.samplers_ns)
        ports = Ports.allocate()
        rendered = sampler_config(
            ports, index=index, sink=sink.endpoint, policies=self.policies,
            decision_wait=self.decision_wait, memory_mib=memory_mib, num_traces=num_traces,
            extra=extra, tls=self.tls,
        )  # fmt: skip
        collector = start_collector(
            self.runner, self.binary, rendered, ports,
            name=f"sampler-{index}", netns=self.network.samplers_ns,
            env=collector_env(rendered, **self.tls_env),
        )  # fmt: skip
        self.samplers[index], self.sinks[index] = collector, sink
        return collector

    def start_routers(
        self,
        *,
        memory_mib: int = 1024,
        logs_sinks: Sequence[str] = (),
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Start every router; router N sends its logs to ``logs_sinks[N - 1]`` when given."""
        for index, ns in enumerate(self.network.router_ns, start=1):
            ports = Ports.allocate()
            logs = {"logs_sink": logs_sinks[index - 1]} if logs_sinks else {}
            rendered = router_config(
                ports, index=index, memory_mib=memory_mib, extra=extra, tls=self.tls, **logs
            )
            self.routers.append(
                start_collector(
                    self.runner,
                    self.binary,
                    rendered,
                    ports,
                    name=f"router-{index}",
                    netns=ns,
                    env=collector_env(rendered, **self.tls_env),
                )
            )

    def router_endpoint(self, index: int) -> str:
        return f"{router_address(index)}:{self.routers[index - 1].ports.grpc}"

    def wait_backends(self, count: int, *, timeout: float = 30) -> None:
        """Wait until every router routes over ``count`` samplers."""
        wait_until(
            lambda: all(
                r.metric("otelcol_loadbalancer_num_backends") == count for r in self.routers
            ),
            timeout=timeout,
            what=f"every router sees {count} samplers",
        )

    def where(self) -> dict[bytes, dict[int, Counter[str]]]:
        """For every trace id: which samplers exported spans of it, and how many per service."""
        found: dict[bytes, dict[int, Counter[str]]] = {}
        for index, sink in self.sinks.items():
            for trace_id, services in sink.state.traces.items():
                found.setdefault(trace_id, {})[index] = services
        return found

    def close(self) -> None:
        for sink in self.sinks.values():
            sink.close()
