"""TLS on the agent → gateway hop: where the certificate, its key and the CA come from.

Off by default. On, the gateway's OTLP receivers (4317 and 4318) serve TLS with a certificate
chain and private key read from Secrets Manager when a task starts, and every agent verifies
the gateway with the CA and the name the certificate carries before it sends the bearer token.

What it costs: a TLS handshake per connection and encryption of every byte on both ends (CPU
on the gateway and in every agent); a certificate to issue, store and renew; and rotation by
redeploy: the collectors read the PEM text when a task starts, so a new certificate needs the
gateway redeployed (a new CA the agents first). Service Connect passes the encrypted bytes
through as TCP, balancing per connection instead of per request.

With a sampling tier the gateway → sampler hop uses the same certificate: the samplers serve
it (they read the chain and key like the gateway), and the routing gateway verifies them with
the CA and ``server_name`` (see :mod:`otel_fargate.config.options.tls` for why one
certificate). A new certificate then needs the samplers redeployed with the gateway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_secretsmanager as secretsmanager

from otel_fargate.checks import check_choice, fail
from otel_fargate.config import RenderedConfig
from otel_fargate.config.options.tls import (
    TLS_VERSIONS,
    GatewayTlsOptions,
    TlsVersion,
    check_ca_pem,
    check_server_name,
)
from otel_fargate.config.policy.guards import check_gateway_tls_kept
from otel_fargate.errors import OtelFargateError
from otel_fargate.names import (
    GATEWAY_ALIAS,
    GATEWAY_TLS_CA_ENV,
    GATEWAY_TLS_CERT_ENV,
    GATEWAY_TLS_KEY_ENV,
)

#: Where a PEM value comes from: a whole Secrets Manager secret, or any ECS secret (a JSON
#: field of a secret, an SSM SecureString parameter).
SecretSource = secretsmanager.ISecret | ecs.Secret


@dataclass(frozen=True, kw_only=True)
class GatewayTls:
    """TLS between agents and the gateway (``CollectorGateway(tls=GatewayTls(...))``).

    Attributes:
        certificate: the gateway's certificate chain as PEM text (the leaf first, then any
            intermediates); its subject alternative names must include ``server_name``.
            A Secrets Manager secret (its whole string) or an ``ecs.Secret``.
        private_key: the certificate's private key as PEM text, read by the gateway only.
            May be the same secret as ``certificate`` when it holds both blocks.
        ca: the CA certificate(s) agents verify the gateway with: a secret as above, or the
            PEM text itself (a CA certificate is public: it is written into the agents'
            configuration). Never the secret holding the private key.
        server_name: the DNS name the certificate carries and agents verify; default:
            ``otel-gateway``, the Service Connect alias agents dial.
        min_version: the oldest TLS version the gateway accepts, ``"1.2"`` or ``"1.3"``;
            default: ``"1.2"``.
    """

    certificate: SecretSource
    private_key: SecretSource
    ca: SecretSource | str
    server_name: str = GATEWAY_ALIAS
    min_version: TlsVersion = "1.2"

    def __post_init__(self) -> None:
        _check_source("tls.certificate", self.certificate)
        _check_source("tls.private_key", self.private_key)
        if isinstance(self.ca, str):
            check_ca_pem(self.ca, setting="tls.ca", error=OtelFargateError)
        else:
            _check_source("tls.ca", self.ca)
            if _same_secret(self.ca, self.private_key):
                raise fail(
                    "tls.ca",
                    "must not be the secret holding the private key (every agent reads the CA)",
                    _describe(self.ca),
                )
        check_server_name(self.server_name, setting="tls.server_name", error=OtelFargateError)
        check_choice("tls.min_version", self.min_version, TLS_VERSIONS)

    def gateway_options(self) -> GatewayTlsOptions:
        """What the gateway's configuration renders: the receivers' TLS and, for a routing
        gateway, how it verifies the samplers (the CA: inline PEM or the variable).
        """
        ca_pem = self.ca if isinstance(self.ca, str) else None
        return GatewayTlsOptions(
            server_name=self.server_name, min_version=self.min_version, ca_pem=ca_pem
        )

    def sampler_options(self) -> GatewayTlsOptions:
        """What a sampler's configuration renders: its receiver serves the gateway's
        certificate.
        """
        return GatewayTlsOptions(server_name=self.server_name, min_version=self.min_version)

    def agent_options(self) -> GatewayTlsOptions:
        """What an agent's configuration renders: the CA (inline PEM or the variable) and name."""
        ca_pem = self.ca if isinstance(self.ca, str) else None
        return GatewayTlsOptions(server_name=self.server_name, ca_pem=ca_pem)

    def gateway_secrets(self, *, routing: bool = False) -> dict[str, ecs.Secret]:
        """The certificate chain and key as ECS secrets of the gateway's (or the samplers')
        collector; ``routing``: also the CA a routing gateway verifies the samplers with,
        unless it is given as PEM text.
        """
        served = {
            GATEWAY_TLS_CERT_ENV: _ecs_secret(self.certificate),
            GATEWAY_TLS_KEY_ENV: _ecs_secret(self.private_key),
        }
        return {**served, **(self.agent_secrets() if routing else {})}

    def agent_secrets(self) -> dict[str, ecs.Secret]:
        """The CA as an ECS secret of every agent, unless it is given as PEM text."""
        return {} if isinstance(self.ca, str) else {GATEWAY_TLS_CA_ENV: _ecs_secret(self.ca)}


def check_tls_argument(tls: object) -> GatewayTls | None:
    """``tls`` if it is a GatewayTls or None."""
    if tls is not None and not isinstance(tls, GatewayTls):
        raise fail("tls", "must be a GatewayTls or None", tls)
    return tls


def check_tls_kept(tls: GatewayTls | None, rendered: RenderedConfig) -> None:
    """With ``tls``, the final configuration (after overrides or a replacement) still uses it:
    a gateway's or sampler's receivers serve it, a routing gateway verifies the samplers.
    """
    if tls is not None:
        exporter = rendered.config.get("exporters", {}).get("otlp_grpc/gateway")
        endpoint = exporter.get("endpoint") if isinstance(exporter, dict) else None
        check_gateway_tls_kept(
            rendered.config,
            preset=rendered.preset,
            layer="config",
            min_version=tls.min_version,
            gateway_endpoint=endpoint if isinstance(endpoint, str) else None,
        )


def _is_secret(value: Any) -> bool:
    return hasattr(value, "secret_arn") and hasattr(value, "grant_read")


def _check_source(setting: str, value: object) -> None:
    if not isinstance(value, ecs.Secret) and not _is_secret(value):
        raise fail(
            setting,
            "must be a Secrets Manager secret (secretsmanager.ISecret) or an ecs.Secret holding "
            "PEM text",
            value,
        )


def _ecs_secret(value: SecretSource) -> ecs.Secret:
    if isinstance(value, ecs.Secret):
        return value
    return ecs.Secret.from_secrets_manager(value)


def _arn(value: SecretSource) -> str:
    return value.arn if isinstance(value, ecs.Secret) else value.secret_arn


def _same_secret(one: SecretSource, other: SecretSource) -> bool:
    """The same secret (or the same field of one: an ECS secret's ARN names its field).

    Equal token strings are one token, so a secret and an ECS secret made from it match.
    """
    return one is other or _arn(one) == _arn(other)


def _describe(value: SecretSource) -> str:
    return value.node.path if not isinstance(value, ecs.Secret) else _arn(value)
