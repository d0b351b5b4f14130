"""Security controls the presets set up, checked again after every layer.

Overrides and replacements are deep-merged over the presets, so one line could remove a
control the preset put there on purpose: ``auth: null`` on the gateway's receivers lets
anyone in the VPC send telemetry, and a sidecar's receiver or zpages rebound to
``0.0.0.0`` listens on the task's network interface instead of loopback. These checks run on
every layer's result; the documented opt-outs (``CollectorConfigOptions.allow_open_listeners``
and ``allow_unauthenticated_gateway``) switch them off explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from otel_fargate.config.core.values import component_type
from otel_fargate.config.policy.listeners import prometheus_readers
from otel_fargate.errors import ConfigError

#: Hosts that reach only the container (or the task's loopback on awsvpc).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def _receiver_protocols(config: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    receivers = config.get("receivers")
    for rid, settings in (receivers or {}).items() if isinstance(receivers, Mapping) else ():
        if component_type(str(rid)) != "otlp" or rid == "otlp/self":
            continue
        protocols = settings.get("protocols") if isinstance(settings, Mapping) else None
        for proto, proto_settings in (protocols or {}).items():
            yield f"receivers.{rid}.protocols.{proto}", proto_settings or {}


def check_gateway_auth(config: Mapping[str, Any], *, layer: str) -> None:
    """Every OTLP receiver protocol of a gateway authenticates its clients."""
    for where, settings in _receiver_protocols(config):
        auth = settings.get("auth") if isinstance(settings, Mapping) else None
        if not isinstance(auth, Mapping) or not auth.get("authenticator"):
            raise ConfigError(
                f"{layer}: {where}.auth: the gateway must authenticate its clients (the bearer "
                f"token); without it anyone who reaches the gateway may send telemetry. Pass "
                f"allow_unauthenticated_gateway=True to accept that, got {auth!r}"
            )


def _endpoint_host(value: object) -> str | None:
    """The host of ``host:port`` or a URL; None when it is not a plain string."""
    if not isinstance(value, str) or "${" in value:
        return None
    address = value.split("://", 1)[-1].split("/", 1)[0]
    return address.rsplit(":", 1)[0] if ":" in address else address


def _sections(config: Mapping[str, Any], key: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    section = config.get(key)
    for cid, settings in section.items() if isinstance(section, Mapping) else ():
        if isinstance(settings, Mapping):
            yield str(cid), settings


def listener_hosts(config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Every (setting path, host) a component of ``config`` listens on."""
    for rid, settings in _sections(config, "receivers"):
        yield f"receivers.{rid}.endpoint", _endpoint_host(settings.get("endpoint")) or ""
        proxy = settings.get("proxy_server")
        if isinstance(proxy, Mapping):
            host = _endpoint_host(proxy.get("endpoint"))
            yield f"receivers.{rid}.proxy_server.endpoint", host or ""
        for proto, proto_settings in _sections(settings, "protocols"):
            host = _endpoint_host(proto_settings.get("endpoint"))
            yield f"receivers.{rid}.protocols.{proto}.endpoint", host or ""
    for eid, settings in _sections(config, "extensions"):
        yield f"extensions.{eid}.endpoint", _endpoint_host(settings.get("endpoint")) or ""
    for path, prometheus in prometheus_readers(config):
        if prometheus.get("host") is not None:
            yield path, str(prometheus["host"])


def check_loopback_listeners(
    config: Mapping[str, Any], *, layer: str, allowed: frozenset[str] = frozenset()
) -> None:
    """Every listener (receivers, extensions, the own-metrics endpoint) binds loopback, but
    for the setting paths in ``allowed`` (the health check a load balancer probes).
    """
    for path, host in listener_hosts(config):
        if host and path not in allowed and host not in LOOPBACK_HOSTS:
            raise ConfigError(
                f"{layer}: {path}: must listen on loopback (127.0.0.1), where only the task "
                f"reaches it; {host!r} opens it to the network. Pass allow_open_listeners=True "
                f"to accept that, got {host!r}"
            )


def check_guards(
    config: Mapping[str, Any],
    *,
    preset: str,
    layer: str,
    allow_open_listeners: bool = False,
    allow_unauthenticated_gateway: bool = False,
) -> None:
    """The controls of ``preset`` still hold in ``config`` (one layer's result).

    A gateway's OTLP receivers authenticate; everything else every preset listens on is on
    loopback. The exceptions: a gateway's or sampler's OTLP receivers (a sampler's security
    group admits the routing gateway only), and the health check, whose
    endpoint the typed ``health_check_endpoint`` option decides (validation pins the
    extension to it; a gateway behind the internal NLB uses ``0.0.0.0:13133``).
    """
    if preset == "gateway" and not allow_unauthenticated_gateway:
        check_gateway_auth(config, layer=layer)
    if allow_open_listeners:
        return
    allowed = {
        f"extensions.{eid}.endpoint"
        for eid, _settings in _sections(config, "extensions")
        if component_type(eid) == "health_check"
    }
    if preset in ("gateway", "sampler"):
        allowed |= {f"{where}.endpoint" for where, _settings in _receiver_protocols(config)}
    check_loopback_listeners(config, layer=layer, allowed=frozenset(allowed))


def _tls_holds(tls: object, *keys: tuple[str, str]) -> bool:
    """``tls`` is a mapping with one key of every pair, and verifies peers."""
    if not isinstance(tls, Mapping) or tls.get("insecure") or tls.get("insecure_skip_verify"):
        return False
    return all(tls.get(inline) or tls.get(file) for inline, file in keys)


def check_gateway_tls_kept(config: Mapping[str, Any], *, preset: str, layer: str) -> None:
    """With TLS on the agent → gateway hop, the final configuration still uses it.

    A gateway's OTLP receivers serve TLS with a certificate and key; an agent's exporter to the
    gateway (``otlp_grpc/gateway``, when the configuration has it) verifies the gateway with a
    CA. The constructs run this when ``tls`` is given, so no layer drops it silently.
    """
    if preset == "gateway":
        for where, settings in _receiver_protocols(config):
            tls = settings.get("tls") if isinstance(settings, Mapping) else None
            if not _tls_holds(tls, ("cert_pem", "cert_file"), ("key_pem", "key_file")):
                raise ConfigError(
                    f"{layer}: {where}.tls: the gateway has tls=GatewayTls(...), so every OTLP "
                    f"receiver must serve TLS with its certificate and key; a layer removed "
                    f"it, got {tls!r}"
                )
    if preset == "agent":
        exporters = config.get("exporters")
        exporter = exporters.get("otlp_grpc/gateway") if isinstance(exporters, Mapping) else None
        if isinstance(exporter, Mapping):
            tls = exporter.get("tls")
            if not _tls_holds(tls, ("ca_pem", "ca_file")):
                raise ConfigError(
                    f"{layer}: exporters.otlp_grpc/gateway.tls: the gateway serves TLS, so the "
                    f"agent must verify it with the CA (ca_pem, no insecure or "
                    f"insecure_skip_verify); a layer removed that, got {tls!r}"
                )
