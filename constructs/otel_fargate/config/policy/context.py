"""What the rules on a final configuration need to know about the collector that runs it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from otel_fargate.names import GATEWAY_TOKEN_ENV, GATEWAY_TOKEN_PREVIOUS_ENV

#: The variables the library's own ECS secrets provide (the gateway's bearer tokens).
LIBRARY_SECRETS = frozenset({GATEWAY_TOKEN_ENV, GATEWAY_TOKEN_PREVIOUS_ENV})


@dataclass(frozen=True, kw_only=True)
class GuardContext:
    """The role, the layer and the opt-outs the rules apply with.

    Attributes:
        preset: the role (``sidecar``, ``agent``, ``gateway`` or ``sampler``; an embedded
            collector renders the sidecar or agent preset).
        layer: the layer's name, prefixed to every refusal.
        environment: the container's plain environment variables (they expand endpoints).
        secret_names: the variables ECS secrets provide; the library's own always count.
        allow_open_listeners: the opt-out of the loopback rule.
        allow_unauthenticated_gateway: the opt-out of the gateway authenticator rule.
        gateway_tls_min_version: with TLS on the agent → gateway hop, its oldest version.
        gateway_endpoint: the agent's gateway address (``host:port``).
    """

    preset: str
    layer: str
    environment: Mapping[str, str] = field(default_factory=dict)
    secret_names: frozenset[str] = frozenset()
    allow_open_listeners: bool = False
    allow_unauthenticated_gateway: bool = False
    gateway_tls_min_version: str | None = None
    gateway_endpoint: str | None = None

    @property
    def secrets(self) -> frozenset[str]:
        """Every variable an ECS secret provides."""
        return self.secret_names | LIBRARY_SECRETS

    @property
    def loopback_only(self) -> bool:
        """Whether every listener must stay on loopback (not a gateway's or sampler's data)."""
        return self.preset not in ("gateway", "sampler")
