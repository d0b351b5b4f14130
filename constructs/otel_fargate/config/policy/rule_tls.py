"""Rule: TLS the library sets is neither lowered nor bypassed.

Every TLS block of the configuration keeps ``min_version`` at 1.2 or above (the oldest the
library offers). With TLS on the agent → gateway hop: the gateway's OTLP receivers serve TLS
with their certificate and key, at or above ``gateway_tls.min_version``; every exporter of an
agent that dials the gateway's address verifies it with the CA (no ``insecure``, no
``insecure_skip_verify``) and sends the token, so a second copy of the gateway exporter under
another name cannot carry telemetry or the token in the clear. In a scale tier the samplers'
receiver serves the same certificate, and every ``load_balancing`` exporter of the routing
gateway verifies it with the CA.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_fargate.config.core.values import component_type, mappings
from otel_fargate.config.policy.context import GuardContext
from otel_fargate.config.policy.hosts import split_host
from otel_fargate.config.policy.walker import walk
from otel_fargate.errors import ConfigError
from otel_fargate.names import GATEWAY_TOKEN_ENV

#: The oldest TLS version the library offers anywhere.
MIN_TLS_VERSION = "1.2"


def _version(text: object) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in str(text).split("."))
    except ValueError:
        return (0,)


def _tls_holds(tls: object, *keys: tuple[str, str]) -> bool:
    """``tls`` is a mapping with one key of every pair, and verifies peers."""
    if not isinstance(tls, Mapping) or tls.get("insecure") or tls.get("insecure_skip_verify"):
        return False
    return all(tls.get(inline) or tls.get(file) for inline, file in keys)


def check_min_versions(config: Mapping[str, Any], ctx: GuardContext) -> None:
    """No TLS block asks for a version below the library's (or the gateway's) minimum."""
    for site in walk(config):
        if site.kind != "tls" or not isinstance(site.value, Mapping):
            continue
        given = site.value.get("min_version")
        floor = MIN_TLS_VERSION
        serves = ctx.preset in ("gateway", "sampler") and site.server
        if serves and ctx.gateway_tls_min_version is not None:
            floor = ctx.gateway_tls_min_version
        if given is not None and _version(given) < _version(floor):
            raise ConfigError(
                f"{ctx.layer}: {site.path}.min_version: must be {floor} or above (older TLS "
                f"versions are broken); the library offers no opt-out, got {given!r}"
            )


def _check_gateway_receivers(config: Mapping[str, Any], ctx: GuardContext) -> None:
    for rid, settings in mappings(config.get("receivers")):
        if component_type(rid) != "otlp" or rid == "otlp/self":
            continue
        for proto, proto_settings in mappings(settings.get("protocols")):
            tls = proto_settings.get("tls")
            if not _tls_holds(tls, ("cert_pem", "cert_file"), ("key_pem", "key_file")):
                raise ConfigError(
                    f"{ctx.layer}: receivers.{rid}.protocols.{proto}.tls: the gateway has "
                    f"tls=GatewayTls(...), so every OTLP receiver of the {ctx.preset} must "
                    f"serve TLS with its certificate and key; a layer removed it (no "
                    f"opt-out), got {tls!r}"
                )


def _check_routing_exporters(config: Mapping[str, Any], ctx: GuardContext) -> None:
    for eid, settings in mappings(config.get("exporters")):
        if component_type(eid) not in ("load_balancing", "loadbalancing"):
            continue
        protocol = settings.get("protocol")
        otlp = protocol.get("otlp") if isinstance(protocol, Mapping) else None
        tls = otlp.get("tls") if isinstance(otlp, Mapping) else None
        if not _tls_holds(tls, ("ca_pem", "ca_file")):
            raise ConfigError(
                f"{ctx.layer}: exporters.{eid}.protocol.otlp.tls: the gateway has "
                f"tls=GatewayTls(...), so it must verify the samplers with the CA (ca_pem, no "
                f"insecure or insecure_skip_verify); a layer removed that (no opt-out), got "
                f"{tls!r}"
            )


def _sends_token(settings: Mapping[str, Any]) -> bool:
    headers = settings.get("headers")
    auth = settings.get("auth")
    if isinstance(auth, Mapping) and auth.get("authenticator"):
        return True
    return isinstance(headers, Mapping) and any(
        GATEWAY_TOKEN_ENV in str(value) for value in headers.values()
    )


def _check_agent_exporters(config: Mapping[str, Any], ctx: GuardContext) -> None:
    gateway = split_host(ctx.gateway_endpoint or "").lower()
    for eid, settings in mappings(config.get("exporters")):
        endpoint = settings.get("endpoint")
        if not isinstance(endpoint, str) or split_host(endpoint).lower() != gateway:
            continue
        tls = settings.get("tls")
        if not _tls_holds(tls, ("ca_pem", "ca_file")) or not _sends_token(settings):
            raise ConfigError(
                f"{ctx.layer}: exporters.{eid}: dials the gateway ({endpoint!r}), which serves "
                f"TLS, so it must verify it with the CA (ca_pem, no insecure or "
                f"insecure_skip_verify) and send the token like otlp_grpc/gateway; a layer "
                f"removed that (no opt-out), got tls={tls!r}"
            )


def check_tls(config: Mapping[str, Any], ctx: GuardContext) -> None:
    """Raise ConfigError when a layer lowered or bypassed TLS (see the module docstring)."""
    check_min_versions(config, ctx)
    if ctx.gateway_tls_min_version is None:
        return
    if ctx.preset in ("gateway", "sampler"):
        _check_gateway_receivers(config, ctx)
    if ctx.preset == "gateway":
        _check_routing_exporters(config, ctx)
    if ctx.preset == "agent" and ctx.gateway_endpoint is not None:
        _check_agent_exporters(config, ctx)
