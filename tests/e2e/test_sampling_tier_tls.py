"""TLS on the gateway → sampler hop with real collectors: routers and samplers on separate
hosts (network namespaces, see ``tests/e2e/tier.py``), rendered with the gateway's TLS.

The samplers serve the gateway's certificate chain (a leaf for ``otel-gateway`` signed by an
intermediate CA) from the variables the constructs fill from Secrets Manager; the router
verifies them with the root CA and ``otel-gateway`` as the name, dialling their addresses.
telemetrygen reaches the router as ``otel-gateway`` (a hosts file in its namespace, as Service
Connect's alias) over TLS with the bearer token.

Proves: every span crosses the TLS hop to one sampler per trace, nothing fails; a router
trusting another CA delivers nothing to the samplers and logs the unknown authority.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from otel_fargate.config.options.tls import GatewayTlsOptions
from otel_fargate.config.sampling import Probabilistic

from tests.e2e.harness import (
    GATEWAY_TOKEN,
    Ports,
    ProcessRunner,
    collector_env,
    run_telemetrygen,
    start_collector,
    wait_until,
)
from tests.e2e.test_gateway_tls import SERVER_NAME, Issued, _issue
from tests.e2e.tier import Tier, TierNetwork, router_config, tier_network

pytestmark = pytest.mark.e2e

SPANS = 10
TRACES = 100
WORKERS = 2


@pytest.fixture()
def network() -> Iterator[TierNetwork]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2's ip to create network namespaces")
    with tier_network(routers=2, samplers=2) as created:
        yield created


def chain() -> tuple[Issued, str, str]:
    """A root CA, and a chain (leaf for ``otel-gateway``, then the intermediate) with its key."""
    root = _issue("e2e tier root CA", issuer=None, ca=True)
    intermediate = _issue("e2e tier intermediate CA", issuer=root, ca=True)
    leaf = _issue(SERVER_NAME, issuer=intermediate, ca=False, dns_names=(SERVER_NAME,))
    return root, leaf.cert_pem + intermediate.cert_pem, leaf.key_pem


def send(tier: Tier, binary: Path, router: int, ca_file: Path, service: str) -> None:
    """telemetrygen in the samplers' namespace, to ``otel-gateway`` (router ``router``) over
    TLS with the token: TRACES traces of SPANS spans per worker.
    """
    port = tier.routers[router - 1].ports.grpc
    result = run_telemetrygen(
        binary, "traces", endpoint=f"{SERVER_NAME}:{port}", count=TRACES, workers=WORKERS,
        rate=100, headers={"authorization": f"Bearer {GATEWAY_TOKEN}"},
        extra=["--child-spans", str(SPANS - 1), "--service", service],
        prefix=["ip", "netns", "exec", tier.network.samplers_ns], timeout=180, ca_file=ca_file,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]


def start_router(tier: Tier, index: int, env: dict[str, str]) -> None:
    """Router ``index`` with the gateway's TLS, its variables ``env``."""
    ports = Ports.allocate()
    rendered = router_config(ports, index=index, tls=GatewayTlsOptions())
    tier.routers.append(
        start_collector(
            tier.runner,
            tier.binary,
            rendered,
            ports,
            name=f"router-{index}",
            netns=tier.network.router_ns[index - 1],
            env=collector_env(rendered, **env),
        )
    )


def test_the_samplers_serve_tls_that_the_router_verifies(
    collector_binary: Path,
    telemetrygen_binary: Path,
    processes: ProcessRunner,
    network: TierNetwork,
    tmp_path: Path,
) -> None:
    # GIVEN the gateway's certificate chain and key, served by two samplers and one router
    root, chain_pem, key_pem = chain()
    env = {
        "OTEL_GATEWAY_TLS_CERT": chain_pem,
        "OTEL_GATEWAY_TLS_KEY": key_pem,
        "OTEL_GATEWAY_TLS_CA": root.cert_pem,
    }
    tier = Tier(
        network=network, runner=processes, binary=collector_binary,
        policies=(Probabilistic(percent=100),), tls=GatewayTlsOptions(), tls_env=env,
    )  # fmt: skip
    # the generator reaches the routers by the certificate's name (Service Connect's alias)
    hosts_dir = Path("/etc/netns") / network.samplers_ns
    hosts_dir.mkdir(parents=True, exist_ok=True)
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(root.cert_pem)
    try:
        for index in (1, 2):
            tier.start_sampler(index)
        network.publish([1, 2])
        start_router(tier, 1, env)
        tier.wait_backends(2)
        router = tier.routers[0]
        for sampler in tier.samplers.values():
            assert "tls" in sampler.rendered.config["receivers"]["otlp"]["protocols"]["grpc"]
        lb = router.rendered.config["exporters"]["load_balancing"]["protocol"]["otlp"]
        assert lb["tls"]["server_name_override"] == SERVER_NAME and "insecure" not in lb["tls"]
        (hosts_dir / "hosts").write_text(f"127.0.0.1 localhost\n10.78.1.2 {SERVER_NAME}\n")

        # WHEN telemetrygen sends traces through the router
        send(tier, telemetrygen_binary, 1, ca_file, "tls")

        # THEN every span crossed the TLS hop, each trace whole at one sampler
        total = TRACES * WORKERS * SPANS
        wait_until(
            lambda: sum(s.state.spans for s in tier.sinks.values()) >= total,
            timeout=120, what=f"{total} spans at the samplers' sinks",
        )  # fmt: skip
        assert router.metric("otelcol_exporter_sent_spans") == total
        assert router.metric("otelcol_exporter_send_failed_spans") == 0
        where = tier.where()
        assert len(where) == TRACES * WORKERS
        assert all(
            len(s) == 1 and sum(next(iter(s.values())).values()) == SPANS for s in where.values()
        )
        assert all(sink.state.spans > 0 for sink in tier.sinks.values())

        # AND a router trusting another CA sends the samplers nothing and says why
        other = _issue("another CA", issuer=None, ca=True)
        start_router(tier, 2, {**env, "OTEL_GATEWAY_TLS_CA": other.cert_pem})
        distrust = tier.routers[1]
        (hosts_dir / "hosts").write_text(f"127.0.0.1 localhost\n10.78.2.2 {SERVER_NAME}\n")
        before = sum(s.metric("otelcol_receiver_accepted_spans") for s in tier.samplers.values())
        wait_until(
            lambda: distrust.metric("otelcol_loadbalancer_num_backends") == 2,
            timeout=30, what="the distrusting router sees both samplers",
        )  # fmt: skip
        send(tier, telemetrygen_binary, 2, ca_file, "distrusted")
        wait_until(
            lambda: "certificate signed by unknown authority" in distrust.process.log(),
            timeout=60, what="the router logs the samplers' unknown authority",
        )  # fmt: skip
        after = sum(s.metric("otelcol_receiver_accepted_spans") for s in tier.samplers.values())
        assert after == before
        assert distrust.metric("otelcol_exporter_sent_spans") == 0
    finally:
        shutil.rmtree(hosts_dir, ignore_errors=True)
        tier.close()
