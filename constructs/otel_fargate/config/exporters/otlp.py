"""Exporters to any OTLP backend, with optional OAuth 2.0 client credentials."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from otel_fargate.checks import check_choice
from otel_fargate.config.core.secrets import SecretRef
from otel_fargate.config.core.values import SIGNALS, FrozenMap, Signal, check_signals, non_empty
from otel_fargate.config.exporters.base import (
    Exporter,
    RetryOnFailure,
    SendingQueue,
    check_queue_and_retry,
    helper_settings,
    render_headers,
)
from otel_fargate.errors import ConfigError
from otel_fargate.names import MAX_EXPORT_BATCH_BYTES

_HEADER_PATTERN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_GRPC_ENDPOINT = re.compile(r"(https?://)?(\[[0-9A-Fa-f:]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}")
_COMPRESSIONS = ("gzip", "zstd", "snappy", "none")

#: Header names that carry credentials: their value must be a SecretRef, never a literal that
#: would stand in the template (and in the task definition) for anyone to read.
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api-key",
        "apikey",
        "x-api-key",
        "x-auth-token",
        "x-honeycomb-team",
        "dd-api-key",
        "x-sf-token",
        "lightstep-access-token",
        "x-insert-key",
        "x-license-key",
        "signoz-access-token",
    }
)


@dataclass(frozen=True, kw_only=True)
class OAuth2ClientCredentials:
    """OAuth 2.0 client-credentials authentication (the ``oauth2client`` extension).

    Attributes:
        client_id: the client id, literal or a SecretRef.
        client_secret: the client secret; always a SecretRef.
        token_url: the token endpoint (``https://...``).
        scopes: scopes requested; default: none.
        endpoint_params: extra form parameters sent to the token endpoint (e.g. ``audience``);
            default: none.
    """

    client_id: str | SecretRef
    client_secret: SecretRef
    token_url: str
    scopes: tuple[str, ...] = ()
    endpoint_params: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.endpoint_params, Mapping):
            object.__setattr__(self, "endpoint_params", FrozenMap(self.endpoint_params))
        if isinstance(self.scopes, list):
            object.__setattr__(self, "scopes", tuple(self.scopes))

    def check(self, setting: str) -> None:
        """Raise ConfigError when a value is missing or malformed."""
        if not isinstance(self.endpoint_params, Mapping):
            raise ConfigError(
                f"{setting}.endpoint_params: must be a mapping, got {self.endpoint_params!r}"
            )
        if not isinstance(self.client_id, SecretRef):
            non_empty(self.client_id, setting=f"{setting}.client_id")
        if not isinstance(self.client_secret, SecretRef):
            raise ConfigError(
                f"{setting}.client_secret: must be a SecretRef (never a literal), "
                f"got {type(self.client_secret).__name__}"
            )
        url = non_empty(self.token_url, setting=f"{setting}.token_url")
        if not url.startswith("https://"):
            raise ConfigError(f"{setting}.token_url: must be an https:// URL, got {url!r}")
        for scope in self.scopes:
            non_empty(scope, setting=f"{setting}.scopes")
        for key, value in self.endpoint_params.items():
            non_empty(key, setting=f"{setting}.endpoint_params")
            non_empty(value, setting=f"{setting}.endpoint_params.{key}")

    def render(self) -> dict[str, Any]:
        """The ``oauth2client`` extension block."""
        client_id = (
            self.client_id.reference if isinstance(self.client_id, SecretRef) else self.client_id
        )
        out: dict[str, Any] = {
            "client_id": client_id,
            "client_secret": self.client_secret.reference,
            "token_url": self.token_url,
        }
        if self.scopes:
            out["scopes"] = list(self.scopes)
        if self.endpoint_params:
            out["endpoint_params"] = dict(self.endpoint_params)
        return out

    def secret_refs(self) -> tuple[SecretRef, ...]:
        """The secrets this authenticator reads."""
        refs = [self.client_secret]
        if isinstance(self.client_id, SecretRef):
            refs.insert(0, self.client_id)
        return tuple(refs)


@dataclass(frozen=True, kw_only=True)
class OtlpExporter(Exporter):
    """Any OTLP backend, over gRPC (``otlp_grpc``) or HTTP (``otlp_http``).

    Example (Honeycomb)::

        OtlpExporter(
            name="honeycomb",
            endpoint="api.honeycomb.io:443",
            headers={"x-honeycomb-team": SecretRef(
                env_name="HONEYCOMB_API_KEY", secret_id="honeycomb/api-key")},
        )

    Attributes:
        endpoint: ``host:port`` for gRPC, a ``https://`` base URL for HTTP (required).
        name: component name, making the id ``otlp_grpc/<name>`` (``otlp_http/<name>``); default:
            plain ``otlp_grpc`` (``otlp_http``).
        protocol: ``"grpc"`` (default) or ``"http"``.
        headers: request headers; a SecretRef value renders as ``${env:NAME}``, never the
            secret; default: none.
        auth: OAuth 2.0 client credentials; default: no authenticator.
        insecure: plaintext gRPC (no TLS); default: TLS.
        compression: ``gzip``, ``zstd``, ``snappy`` or ``none``; default: the exporter's
            default (gzip).
        signals: signals sent to this backend; default: traces, metrics and logs.
        queue: default: ``SendingQueue()``.
        retry: default: ``RetryOnFailure()``.
        timeout_seconds: per send attempt; default: 10 s.
    """

    component_type: ClassVar[str] = "otlp_grpc"

    endpoint: str
    name: str | None = None
    protocol: Literal["grpc", "http"] = "grpc"
    headers: Mapping[str, str | SecretRef] = field(default_factory=dict)
    auth: OAuth2ClientCredentials | None = None
    insecure: bool = False
    compression: Literal["gzip", "zstd", "snappy", "none"] | None = None
    signals: tuple[Signal, ...] = SIGNALS
    queue: SendingQueue = field(default_factory=SendingQueue)
    retry: RetryOnFailure = field(default_factory=RetryOnFailure)
    timeout_seconds: float = 10

    def __post_init__(self) -> None:
        check_choice("exporters.otlp.protocol", self.protocol, ("grpc", "http"), error=ConfigError)
        self.check_name()
        self._check_endpoint()
        if not isinstance(self.headers, Mapping):
            raise ConfigError(f"{self.setting}.headers: must be a mapping, got {self.headers!r}")
        object.__setattr__(self, "headers", FrozenMap(self.headers))
        for key, value in self.headers.items():
            if not isinstance(key, str) or not _HEADER_PATTERN.fullmatch(key):
                raise ConfigError(f"{self.setting}.headers: invalid header name {key!r}")
            if isinstance(value, SecretRef):
                continue
            non_empty(value, setting=f"{self.setting}.headers.{key}")
            if key.lower() in CREDENTIAL_HEADERS:
                raise ConfigError(
                    f"{self.setting}.headers.{key}: carries a credential, so its value must be "
                    f"a SecretRef (a literal would stand in the template), got a literal"
                )
        if self.auth is not None:
            if not isinstance(self.auth, OAuth2ClientCredentials):
                raise ConfigError(
                    f"{self.setting}.auth: must be OAuth2ClientCredentials, got {self.auth!r}"
                )
            self.auth.check(f"{self.setting}.auth")
        if self.compression is not None:
            check_choice(
                f"{self.setting}.compression", self.compression, _COMPRESSIONS, error=ConfigError
            )
        check_signals(self.signals, setting=f"{self.setting}.signals")
        check_queue_and_retry(self.queue, self.retry, self.timeout_seconds, self.setting)

    def _check_endpoint(self) -> None:
        endpoint = non_empty(self.endpoint, setting=f"{self.setting}.endpoint")
        if self.protocol == "http":
            if not endpoint.startswith(("https://", "http://")):
                raise ConfigError(
                    f"{self.setting}.endpoint: an HTTP endpoint must be a URL (https://...), "
                    f"got {endpoint!r}"
                )
            if self.insecure:
                raise ConfigError(
                    f"{self.setting}.insecure: applies to gRPC only; use an http:// endpoint, "
                    f"got insecure={self.insecure!r}"
                )
        elif not _GRPC_ENDPOINT.fullmatch(endpoint):
            raise ConfigError(
                f"{self.setting}.endpoint: a gRPC endpoint is host:port (api.example.com:443), "
                f"got {endpoint!r}"
            )

    def type_name(self) -> str:
        """The collector component type of this instance."""
        return "otlp_grpc" if self.protocol == "grpc" else "otlp_http"

    @property
    def auth_extension_id(self) -> str:
        """The id of the ``oauth2client`` extension this exporter uses."""
        return "oauth2client" if self.name is None else f"oauth2client/{self.name}"

    def render(self) -> dict[str, Any]:
        """The exporter's YAML block."""
        out: dict[str, Any] = {"endpoint": self.endpoint}
        if self.protocol == "grpc" and self.insecure:
            out["tls"] = {"insecure": True}
        if self.headers:
            out["headers"] = render_headers(self.headers)
        if self.auth is not None:
            out["auth"] = {"authenticator": self.auth_extension_id}
        if self.compression is not None:
            out["compression"] = self.compression
        out.update(
            helper_settings(
                self.queue,
                self.retry,
                self.timeout_seconds,
                max_batch_bytes=MAX_EXPORT_BATCH_BYTES,
            )
        )
        return out

    def extensions(self) -> dict[str, dict[str, Any]]:
        """Extensions this exporter needs, by component id."""
        if self.auth is None:
            return {}
        return {self.auth_extension_id: self.auth.render()}

    def secret_refs(self) -> tuple[SecretRef, ...]:
        """Every secret this exporter reads from the environment."""
        refs = [value for value in self.headers.values() if isinstance(value, SecretRef)]
        if self.auth is not None:
            refs.extend(self.auth.secret_refs())
        return tuple(refs)
