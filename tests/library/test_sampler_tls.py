"""TLS on the gateway → sampler hop: with ``tls=GatewayTls(...)`` the samplers serve the
gateway's certificate and the routing gateway verifies them; without it the hop is plaintext,
open to the gateway's security group only.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Template
from otel_fargate import CollectorGateway, SamplingTier, XRayExporter
from otel_fargate.config import CollectorConfigOptions, ConfigError, OtlpExporter, render
from otel_fargate.config.options.tls import GatewayTlsOptions
from otel_fargate.config.sampling import TailSampling, TraceRouting
from otel_fargate.gateway.construct import GatewayTls

from tests.conftest import collector_config_text, collector_containers
from tests.library.test_gateway_edge import (
    CA_PEM,
    group_id,
    ingress_of,
    new_cluster,
    new_stack,
    sg_ref,
    tls_secrets,
)


def tier_template(*, ca_inline: bool, tls: bool = True) -> Template:
    stack = new_stack(f"SamplerTls{ca_inline}{tls}")
    secrets = tls_secrets(stack)
    CollectorGateway(
        stack, "Gateway", cluster=new_cluster(stack), exporters=[XRayExporter()],
        environment_name="prod", sampling=SamplingTier(),
        tls=GatewayTls(
            certificate=secrets["cert"], private_key=secrets["key"],
            ca=CA_PEM if ca_inline else secrets["ca"], min_version="1.3",
        ) if tls else None,
    )  # fmt: skip
    return Template.from_stack(stack)


def by_role(template: Template) -> dict[str, dict[str, Any]]:
    """The gateway's and the sampler's collector container definitions."""
    found = {}
    for container in collector_containers(template.to_json()):
        config = yaml.safe_load(collector_config_text(container))
        found["sampler" if "tail_sampling" in config["processors"] else "gateway"] = container
    return found


def config_of(container: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(collector_config_text(container))
    return loaded


def secret_names(container: dict[str, Any]) -> set[str]:
    return {secret["Name"] for secret in container.get("Secrets", [])}


@pytest.fixture(scope="module")
def with_ca_secret() -> Template:
    return tier_template(ca_inline=False)


def test_the_samplers_serve_the_gateways_certificate(with_ca_secret: Template) -> None:
    # GIVEN a gateway with TLS and a sampling tier
    sampler = by_role(with_ca_secret)["sampler"]
    # THEN the samplers' OTLP/gRPC receiver serves the chain and key the gateway serves, at
    # the gateway's minimum version, read from the same secrets
    grpc = config_of(sampler)["receivers"]["otlp"]["protocols"]["grpc"]
    assert grpc["tls"] == {
        "cert_pem": "${env:OTEL_GATEWAY_TLS_CERT}",
        "key_pem": "${env:OTEL_GATEWAY_TLS_KEY}",
        "min_version": "1.3",
    }
    assert {"OTEL_GATEWAY_TLS_CERT", "OTEL_GATEWAY_TLS_KEY"} <= secret_names(sampler)
    # AND they read no CA (they verify nobody)
    assert "OTEL_GATEWAY_TLS_CA" not in secret_names(sampler)


def test_the_routing_gateway_verifies_the_samplers(with_ca_secret: Template) -> None:
    # GIVEN the same tier, the CA given as a secret
    gateway = by_role(with_ca_secret)["gateway"]
    otlp = config_of(gateway)["exporters"]["load_balancing"]["protocol"]["otlp"]
    # THEN the per-sampler clients verify the certificate against the CA and the name it
    # carries (they dial IP addresses, so the name is an override), never insecurely
    assert otlp["tls"] == {
        "ca_pem": "${env:OTEL_GATEWAY_TLS_CA}",
        "server_name_override": "otel-gateway",
        "min_version": "1.3",
    }
    # AND the gateway's container reads the CA secret beside its chain and key
    assert {"OTEL_GATEWAY_TLS_CA", "OTEL_GATEWAY_TLS_CERT", "OTEL_GATEWAY_TLS_KEY"} <= (
        secret_names(gateway)
    )


def test_an_inline_ca_is_written_into_the_routing_exporter() -> None:
    gateway = by_role(tier_template(ca_inline=True))["gateway"]
    otlp = config_of(gateway)["exporters"]["load_balancing"]["protocol"]["otlp"]
    assert otlp["tls"]["ca_pem"] == CA_PEM
    assert "OTEL_GATEWAY_TLS_CA" not in secret_names(gateway)


def test_without_tls_the_hop_is_plaintext_from_the_gateways_group_only() -> None:
    # GIVEN a tier without TLS
    template = tier_template(ca_inline=False, tls=False)
    found = by_role(template)
    # THEN the hop is plaintext (what the README states) ...
    otlp = config_of(found["gateway"])["exporters"]["load_balancing"]["protocol"]["otlp"]
    assert otlp["tls"] == {"insecure": True}
    assert "tls" not in config_of(found["sampler"])["receivers"]["otlp"]["protocols"]["grpc"]
    # AND the samplers admit 4317 from the gateway's security group and nothing else
    samplers = group_id(template, "otel-gateway-sampler: OTLP/gRPC from the routing gateway")
    gateway = group_id(template, "otel-gateway collector gateway")
    assert ingress_of(template, samplers) == [(4317, sg_ref(gateway))]


def routing_options(**extra: Any) -> CollectorConfigOptions:
    return CollectorConfigOptions(
        preset="gateway", exporters=(OtlpExporter(name="b", endpoint="b:4317", signals=("logs",)),),
        trace_routing=TraceRouting(hostname="otel-sampler.x.internal"),
        gateway_tls=GatewayTlsOptions(ca_pem=CA_PEM), **extra,
    )  # fmt: skip


def test_an_override_may_not_make_the_routing_exporter_plaintext() -> None:
    insecure = {"exporters": {"load_balancing": {"protocol": {"otlp": {"tls": {"insecure": True}}}}}}
    with pytest.raises(
        ConfigError,
        match=r"^overrides: exporters\.load_balancing\.protocol\.otlp\.tls: the gateway has "
        r"tls=GatewayTls\(\.\.\.\), so it must verify the samplers with the CA",
    ):
        render(routing_options(overrides=insecure))


def test_an_override_may_not_take_tls_off_the_samplers_receiver() -> None:
    plain = {"receivers": {"otlp": {"protocols": {"grpc": {"tls": None}}}}}
    options = CollectorConfigOptions(
        preset="sampler", exporters=(OtlpExporter(name="b", endpoint="b:4317"),),
        sampling=TailSampling(), gateway_tls=GatewayTlsOptions(), overrides=plain,
    )  # fmt: skip
    with pytest.raises(
        ConfigError,
        match=r"^overrides: receivers\.otlp\.protocols\.grpc\.tls: the gateway has "
        r"tls=GatewayTls\(\.\.\.\), so every OTLP receiver of the sampler must serve TLS",
    ):
        render(options)


def test_a_sampler_serves_grpc_only_with_tls() -> None:
    options = CollectorConfigOptions(
        preset="sampler", exporters=(OtlpExporter(name="b", endpoint="b:4317"),),
        sampling=TailSampling(), gateway_tls=GatewayTlsOptions(),
    )  # fmt: skip
    rendered = render(options)
    assert set(rendered.config["receivers"]["otlp"]["protocols"]) == {"grpc"}
