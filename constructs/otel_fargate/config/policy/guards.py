"""The security rules, run on the final configuration of every role after every layer.

Presets, ``processors=``, ``receivers=``, overrides and a replacement all end in one
configuration; any of them could open a listener, write a credential, fetch configuration from
elsewhere or lower TLS. :func:`check_guards` walks that configuration once per rule, each rule
reading the field model (``config/model/fields.py``) rather than a list of special cases:

- :mod:`.rule_listeners`: loopback listeners, the gateway's authenticator
  (opt-outs ``allow_open_listeners``, ``allow_unauthenticated_gateway``);
- :mod:`.rule_credentials`: credentials only from ECS secrets, secrets only in credentials;
- :mod:`.rule_providers`: the ``env`` provider only, no CDK token text;
- :mod:`.rule_tls`: TLS neither lowered nor bypassed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_fargate.config.policy.context import GuardContext
from otel_fargate.config.policy.rule_credentials import check_credentials
from otel_fargate.config.policy.rule_listeners import check_listeners
from otel_fargate.config.policy.rule_providers import check_providers
from otel_fargate.config.policy.rule_tls import check_tls

__all__ = ["GuardContext", "check_gateway_tls_kept", "check_guards"]


def check_guards(config: Mapping[str, Any], ctx: GuardContext) -> None:
    """Raise ConfigError, prefixed with ``ctx.layer``, for the first rule ``config`` breaks."""
    check_providers(config, ctx)
    check_credentials(config, ctx)
    check_listeners(config, ctx)
    check_tls(config, ctx)


def check_gateway_tls_kept(
    config: Mapping[str, Any],
    *,
    preset: str,
    layer: str,
    min_version: str,
    gateway_endpoint: str | None = None,
) -> None:
    """With TLS on the agent → gateway hop, the final configuration still uses it."""
    check_tls(
        config,
        GuardContext(
            preset=preset,
            layer=layer,
            gateway_tls_min_version=min_version,
            gateway_endpoint=gateway_endpoint,
        ),
    )
