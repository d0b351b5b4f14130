"""TLS between agent and gateway on loopback, with a real certificate chain made here.

A root CA signs an intermediate CA, which signs the gateway's certificate for ``otel-gateway``
(the Service Connect alias); the gateway presents the leaf and the intermediate, agents trust
the root. Gateway and agents run the rendered presets with ``gateway_tls`` and read the PEM
text from the variables the constructs fill from Secrets Manager. Agents dial 127.0.0.1, so
their configuration names the server (``server_name_override: otel-gateway``), as it does for
a client of the internal NLB: the NLB passes TCP through and the client verifies the gateway.

Proves: an agent trusting the CA delivers every span through TLS with the bearer token; an
agent trusting another CA fails the handshake (unknown authority), one expecting another name
fails it too (name mismatch), and a plaintext agent is refused; none of theirs reaches the
sink. Direct clients: HTTP to the TLS port is answered 400, OTLP/HTTPS and OTLP/gRPC over
TLS with the token are accepted, a client not trusting the CA cannot complete a handshake.
"""

from __future__ import annotations

import datetime
import http.client
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from otel_fargate.config import CollectorConfigOptions, OtlpExporter, RenderedConfig, render
from otel_fargate.config.core.layers import deep_merge
from otel_fargate.config.options.tls import GatewayTlsOptions

from tests.e2e.harness import (
    GATEWAY_TOKEN,
    Collector,
    OtlpSink,
    Ports,
    ProcessRunner,
    collector_env,
    for_local_build,
    loopback_overrides,
    run_telemetrygen,
    start_collector,
    wait_until,
)
from tests.e2e.test_agent_gateway import one_span_request

pytestmark = pytest.mark.e2e

SERVER_NAME = "otel-gateway"
#: The refused agents give up at once instead of retrying for a minute.
NO_RETRY = {"exporters": {"otlp_grpc/gateway": {"retry_on_failure": {"enabled": False}}}}


# -- a certificate chain ----------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()


def _issue(
    common_name: str, *, issuer: Issued | None, ca: bool, dns_names: tuple[str, ...] = ()
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer is not None else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=ca, crl_sign=ca, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    if dns_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in dns_names]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    signer = issuer.key if issuer is not None else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


@dataclass(frozen=True)
class Pki:
    root: Issued
    #: the gateway's chain: its certificate, then the intermediate CA's
    chain_pem: str
    key_pem: str
    #: a CA the gateway's certificate does not chain to
    other_root: Issued


@pytest.fixture(scope="module")
def pki() -> Pki:
    root = _issue("otel-fargate e2e root CA", issuer=None, ca=True)
    intermediate = _issue("otel-fargate e2e intermediate CA", issuer=root, ca=True)
    leaf = _issue(SERVER_NAME, issuer=intermediate, ca=False, dns_names=(SERVER_NAME,))
    other = _issue("some other CA", issuer=None, ca=True)
    return Pki(
        root=root,
        chain_pem=leaf.cert_pem + intermediate.cert_pem,
        key_pem=leaf.key_pem,
        other_root=other,
    )


# -- collectors -------------------------------------------------------------------------------


def _rendered(
    ports: Ports, *, extra: Mapping[str, Any] | None = None, **options: Any
) -> RenderedConfig:
    return render(
        CollectorConfigOptions(
            health_check_endpoint=f"127.0.0.1:{ports.health}",
            self_telemetry_namespace=None,
            environment_name="e2e",
            overrides=deep_merge(loopback_overrides(ports), extra or {}),
            **for_local_build(str(options["preset"]), options),
        )
    )


def _gateway(processes: ProcessRunner, binary: Path, sink: OtlpSink, pki: Pki) -> Collector:
    ports = Ports.allocate()
    rendered = _rendered(
        ports,
        preset="gateway",
        service_name="otel-gateway",
        exporters=(OtlpExporter(name="sink", protocol="http", endpoint=sink.endpoint),),
        gateway_tls=GatewayTlsOptions(),
    )
    assert set(rendered.required_env) >= {"OTEL_GATEWAY_TLS_CERT", "OTEL_GATEWAY_TLS_KEY"}
    env = collector_env(
        rendered, OTEL_GATEWAY_TLS_CERT=pki.chain_pem, OTEL_GATEWAY_TLS_KEY=pki.key_pem
    )
    # started means healthy: the health endpoint stays plain HTTP (the NLB's health check)
    return start_collector(processes, binary, rendered, ports, name="gateway", env=env)


def _agent(
    processes: ProcessRunner,
    binary: Path,
    gateway: Collector,
    *,
    name: str,
    tls: GatewayTlsOptions | None,
    ca_pem: str | None = None,
    retry: bool = True,
) -> Collector:
    ports = Ports.allocate()
    rendered = _rendered(
        ports,
        preset="agent",
        service_name="e2e-app",
        gateway_endpoint=gateway.grpc_endpoint,
        gateway_tls=tls,
        extra=None if retry else NO_RETRY,
    )
    extra = {"OTEL_GATEWAY_TLS_CA": ca_pem} if ca_pem is not None else {}
    env = collector_env(rendered, **extra)
    return start_collector(processes, binary, rendered, ports, name=name, env=env)


def _handshake(port: int, cadata: str) -> x509.Certificate:
    """A TLS handshake with the gateway as ``otel-gateway``; the certificate it presented."""
    context = ssl.create_default_context(cadata=cadata)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=SERVER_NAME) as wrapped,
    ):
        der = wrapped.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


class _LoopbackHttps(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1, verifying the certificate for ``otel-gateway``."""

    def connect(self) -> None:
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=SERVER_NAME)


def _post(connection: http.client.HTTPConnection, token: str) -> tuple[int, bytes]:
    body = one_span_request().SerializeToString()
    headers = {"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {token}"}
    try:
        connection.request("POST", "/v1/traces", body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


# -- the test ---------------------------------------------------------------------------------


def test_agents_reach_a_tls_gateway_only_when_they_verify_it(
    collector_binary: Path,
    telemetrygen_binary: Path,
    processes: ProcessRunner,
    sink: OtlpSink,
    pki: Pki,
) -> None:
    # GIVEN a gateway serving TLS with the chain, and four agents: one trusting the root CA,
    # one trusting another CA, one expecting another server name, one without TLS
    gateway = _gateway(processes, collector_binary, sink, pki)
    root = pki.root.cert_pem
    good = _agent(
        processes, collector_binary, gateway, name="agent-tls", tls=GatewayTlsOptions(),
        ca_pem=root,
    )
    refused = {
        "handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority": _agent(
            processes, collector_binary, gateway, name="agent-other-ca",
            tls=GatewayTlsOptions(), ca_pem=pki.other_root.cert_pem, retry=False,
        ),
        "handshake failed: tls: failed to verify certificate: x509: certificate is valid for otel-gateway, not otel-gateway-2": _agent(
            processes, collector_binary, gateway, name="agent-other-name",
            tls=GatewayTlsOptions(server_name="otel-gateway-2"), ca_pem=root, retry=False,
        ),
        # a TLS server closes a connection that does not start with a TLS handshake (the
        # client reads EOF or a reset)
        "code = Unavailable desc = connection error: desc = \\\"error reading server preface: ": _agent(
            processes, collector_binary, gateway, name="agent-plaintext", tls=None, retry=False,
        ),
    }

    # THEN the gateway presents the leaf for otel-gateway, which chains to the root only
    presented = _handshake(gateway.ports.grpc, root)
    names = presented.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert names.value.get_values_for_type(x509.DNSName) == [SERVER_NAME]
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
        _handshake(gateway.ports.grpc, pki.other_root.cert_pem)

    # WHEN 50 traces (100 spans) go into each refused agent
    for agent in refused.values():
        sent = run_telemetrygen(telemetrygen_binary, "traces", endpoint=agent.grpc_endpoint, count=50)
        assert sent.returncode == 0, sent.stderr[-2000:]
    # THEN each agent's export to the gateway fails, for the reason expected, and sends nothing
    for reason, agent in refused.items():
        wait_until(
            lambda agent=agent: agent.metric("otelcol_exporter_send_failed_spans") >= 100,
            timeout=20,
            what=f"{agent.process.name}'s exports fail",
        )
        assert agent.metric("otelcol_exporter_sent_spans") == 0
        assert reason in agent.process.log(), agent.process.log()[-3000:]

    # WHEN 50 traces go through the agent that verifies the gateway
    sent = run_telemetrygen(telemetrygen_binary, "traces", endpoint=good.grpc_endpoint, count=50)
    assert sent.returncode == 0, sent.stderr[-2000:]
    # THEN exactly its 100 spans reach the sink, nothing of the refused agents'
    state = sink.wait_for(lambda s: s.spans >= 100, timeout=20, what="100 spans")
    time.sleep(1.0)
    assert (state.spans, len(state.span_ids)) == (100, 100)
    assert good.metric("otelcol_exporter_sent_spans") == 100

    # AND plain HTTP to the TLS port is answered 400 by the TLS server, nothing accepted
    status, body = _post(http.client.HTTPConnection("127.0.0.1", gateway.ports.http, timeout=5), GATEWAY_TOKEN)
    assert status == 400 and b"HTTP request to an HTTPS server" in body
    # AND OTLP/HTTPS with the CA and the token is accepted, with a wrong token it is not
    context = ssl.create_default_context(cadata=root)
    https = _LoopbackHttps(SERVER_NAME, gateway.ports.http, timeout=5, context=context)
    assert _post(https, GATEWAY_TOKEN)[0] == 200
    https = _LoopbackHttps(SERVER_NAME, gateway.ports.http, timeout=5, context=context)
    assert _post(https, "not-the-token")[0] == 401
    # AND OTLP/gRPC over TLS with the token is accepted; a plaintext channel is refused
    credentials = grpc.ssl_channel_credentials(root_certificates=root.encode())
    options = [("grpc.ssl_target_name_override", SERVER_NAME)]
    token = (("authorization", f"Bearer {GATEWAY_TOKEN}"),)
    with grpc.secure_channel(gateway.grpc_endpoint, credentials, options=options) as channel:
        trace_service_pb2_grpc.TraceServiceStub(channel).Export(
            one_span_request(), metadata=token, timeout=10
        )
    with grpc.insecure_channel(gateway.grpc_endpoint) as channel:
        with pytest.raises(grpc.RpcError) as plaintext:
            trace_service_pb2_grpc.TraceServiceStub(channel).Export(
                one_span_request(), metadata=token, timeout=5
            )
        assert plaintext.value.code() == grpc.StatusCode.UNAVAILABLE
    state = sink.wait_for(lambda s: s.spans >= 102, timeout=20, what="the two direct spans")
    assert state.span_names["direct"] == 2
