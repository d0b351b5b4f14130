"""TLS on the agent → gateway hop, as the configuration renders it (off by default).

With :class:`GatewayTlsOptions` the gateway's OTLP receivers (gRPC and HTTP) serve TLS with
the certificate chain and private key read from the environment (``cert_pem:
${env:OTEL_GATEWAY_TLS_CERT}``, ``key_pem: ${env:OTEL_GATEWAY_TLS_KEY}``; the constructs
deliver both as ECS secrets), and the agent's exporter verifies the gateway against the CA
(``ca_pem``: the PEM text given, or ``${env:OTEL_GATEWAY_TLS_CA}``) and the name the
certificate carries (``server_name``, by default the Service Connect alias ``otel-gateway``,
which is also the host agents dial, so no ``server_name_override`` is rendered then). The
bearer token still travels as the ``authorization`` header, now inside TLS.

The gateway → sampler hop of a scale tier uses the same certificate: the samplers' OTLP/gRPC
receiver serves it, and the routing gateway's ``load_balancing`` exporter verifies it with
the CA and ``server_name`` (as ``server_name_override``: it dials the samplers' addresses).
One certificate rather than one per tier: the samplers are dialled by IP address, so no
per-task name could be verified anyway, and there is no second certificate to issue, store
and renew; both tiers are one trust domain and read the key from the same secret.

Costs: a handshake per connection (the gateway's receivers close gRPC connections after
``max_connection_age``, so every agent handshakes again that often) and encryption of every
byte on both ends; the certificate and key are read when a task starts, so a new certificate
takes a redeploy of the gateway (and a new CA one of the agents).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from otel_fargate.checks import check_choice, fail
from otel_fargate.config.core.secrets import env_ref
from otel_fargate.errors import ConfigError, OtelFargateError
from otel_fargate.names import (
    GATEWAY_ALIAS,
    GATEWAY_TLS_CA_ENV,
    GATEWAY_TLS_CERT_ENV,
    GATEWAY_TLS_KEY_ENV,
)

TlsVersion = Literal["1.2", "1.3"]

#: The TLS versions a gateway may require at least.
TLS_VERSIONS: tuple[TlsVersion, ...] = ("1.2", "1.3")

_DNS_NAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s+[A-Za-z0-9+/=\s]+?-----END \1-----")


def check_ca_pem(
    value: object, *, setting: str, error: type[OtelFargateError] = ConfigError
) -> str:
    """``value`` if it is PEM text of one or more CA certificates and nothing else.

    A private key is refused without echoing it: whatever is given here is readable by every
    agent (and sits in the task definition).
    """
    if not isinstance(value, str):
        raise fail(setting, "must be PEM text of the CA certificate(s)", value, error=error)
    if "PRIVATE KEY" in value:
        raise error(
            f"{setting}: holds a private key; give the CA certificate(s) only (every agent "
            f"reads this), got PEM text with a PRIVATE KEY block"
        )
    blocks = _PEM_BLOCK.findall(value)
    if not blocks or any(kind != "CERTIFICATE" for kind in blocks):
        shown = value if len(value) <= 60 else value[:57] + "..."
        raise fail(
            setting,
            "must be PEM text of one or more certificates (-----BEGIN CERTIFICATE----- ...)",
            shown,
            error=error,
        )
    return value


def check_server_name(
    value: object, *, setting: str, error: type[OtelFargateError] = ConfigError
) -> str:
    """``value`` if it is a DNS name a certificate can carry (no port, no wildcard)."""
    if not isinstance(value, str) or not _DNS_NAME.fullmatch(value):
        raise fail(
            setting,
            "must be the DNS name the gateway's certificate carries (letters, digits, hyphens "
            "and dots; no port)",
            value,
            error=error,
        )
    return value


@dataclass(frozen=True, kw_only=True)
class GatewayTlsOptions:
    """TLS between agents and the gateway.

    Attributes:
        server_name: the DNS name in the gateway certificate's subject alternative names that
            agents verify; default: ``otel-gateway`` (the Service Connect alias agents dial).
        ca_pem: agent and routing gateway: the CA certificate(s) as PEM text, rendered into
            the configuration of what verifies the certificate; default: ``None``, read from
            ``${env:OTEL_GATEWAY_TLS_CA}``.
        min_version: gateway and sampler: the oldest TLS version the receivers accept,
            ``"1.2"`` or ``"1.3"``; default: ``"1.2"``.
    """

    server_name: str = GATEWAY_ALIAS
    ca_pem: str | None = None
    min_version: TlsVersion = "1.2"

    def __post_init__(self) -> None:
        check_server_name(self.server_name, setting="gateway_tls.server_name")
        if self.ca_pem is not None:
            check_ca_pem(self.ca_pem, setting="gateway_tls.ca_pem")
        check_choice("gateway_tls.min_version", self.min_version, TLS_VERSIONS, error=ConfigError)


def check_gateway_tls(value: object, *, preset: str) -> None:
    """``gateway_tls`` fits ``preset``: a GatewayTlsOptions for an agent, a gateway or a
    sampler (which serves the gateway's certificate to the routing gateway) only.
    """
    if value is None:
        return
    if not isinstance(value, GatewayTlsOptions):
        raise fail("gateway_tls", "must be a GatewayTlsOptions or None", value, error=ConfigError)
    if preset not in ("agent", "gateway", "sampler"):
        raise fail(
            "gateway_tls",
            f"only the agent, gateway and sampler presets speak to each other (preset {preset!r})",
            value,
            error=ConfigError,
        )


def receiver_tls(tls: GatewayTlsOptions) -> dict[str, Any]:
    """The ``tls`` block of the gateway's OTLP receivers."""
    return {
        "cert_pem": env_ref(GATEWAY_TLS_CERT_ENV),
        "key_pem": env_ref(GATEWAY_TLS_KEY_ENV),
        "min_version": tls.min_version,
    }


def routing_tls(tls: GatewayTlsOptions | None) -> dict[str, Any]:
    """The ``tls`` block of the routing gateway's exporter to the samplers.

    Without TLS: plaintext. With it: the CA and the name the certificate carries, always as
    ``server_name_override``, since the exporter dials the samplers' IP addresses.
    """
    if tls is None:
        return {"insecure": True}
    return {
        "ca_pem": tls.ca_pem if tls.ca_pem is not None else env_ref(GATEWAY_TLS_CA_ENV),
        "server_name_override": tls.server_name,
        "min_version": tls.min_version,
    }


def exporter_tls(tls: GatewayTlsOptions | None, endpoint: str) -> dict[str, Any]:
    """The ``tls`` block of the agent's exporter to the gateway at ``endpoint`` (host:port).

    Without TLS: plaintext. With it: the CA, and ``server_name_override`` only when the host
    dialled is not the name the certificate carries (gRPC verifies the dialled host).
    """
    if tls is None:
        return {"insecure": True}
    block: dict[str, Any] = {
        "ca_pem": tls.ca_pem if tls.ca_pem is not None else env_ref(GATEWAY_TLS_CA_ENV)
    }
    host = endpoint.rsplit(":", 1)[0]
    if host.lower() != tls.server_name.lower():
        block["server_name_override"] = tls.server_name
    return block
