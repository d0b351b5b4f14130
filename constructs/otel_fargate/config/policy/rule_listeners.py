"""Rule: listeners stay on loopback, and a gateway's data listeners authenticate.

A sidecar's, agent's or embedded collector's listeners bind loopback, where only the task
reaches them; a gateway's or sampler's data listeners may face the network (the sampler's
security group admits the routing gateway only), and a gateway's require its authenticator.
Everything else they open (zpages, pprof, a Prometheus exporter, remotetap, an API server, the
own-metrics reader) stays on loopback. Opt-outs: ``allow_open_listeners`` and
``allow_unauthenticated_gateway``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_fargate.config.policy.context import GuardContext
from otel_fargate.config.policy.hosts import is_loopback, is_wildcard, listen_host
from otel_fargate.config.policy.walker import Site, walk
from otel_fargate.errors import ConfigError
from otel_fargate.names import GATEWAY_AUTH_ID

_OPEN = "Pass allow_open_listeners=True to accept that"


def _refuse_open(site: Site, host: str, ctx: GuardContext) -> ConfigError:
    return ConfigError(
        f"{ctx.layer}: {site.path}: must listen on loopback (127.0.0.1), where only the task "
        f"reaches it; {host!r} opens it to the network. {_OPEN}, got {site.value!r}"
    )


def _check_gateway_auth(site: Site, ctx: GuardContext) -> None:
    listener = site.listener
    assert listener is not None  # listener sites carry their model entry
    if ctx.allow_unauthenticated_gateway:
        return
    where = site.path.rsplit(".", 1)[0]
    if listener.auth is None:
        raise ConfigError(
            f"{ctx.layer}: {site.path}: {site.ctype} takes telemetry on the gateway's network "
            f"with no authenticator hook, so anyone who reaches the gateway may send; bind it "
            f"to 127.0.0.1 or pass allow_unauthenticated_gateway=True, got {site.value!r}"
        )
    block: Mapping[str, Any] = site.block if site.block is not None else {}
    auth = block.get(listener.auth.rsplit(".", 1)[-1])
    authenticator = auth.get("authenticator") if isinstance(auth, Mapping) else None
    if authenticator != GATEWAY_AUTH_ID:
        raise ConfigError(
            f"{ctx.layer}: {where}.auth: the gateway must authenticate its clients with "
            f"{GATEWAY_AUTH_ID!r} (the bearer token); without it, or with another "
            f"authenticator, anyone who reaches the gateway may send telemetry. Pass "
            f"allow_unauthenticated_gateway=True to accept that, got {auth!r}"
        )


def _check_listener(site: Site, ctx: GuardContext) -> None:
    if site.ctype == "health_check" or site.value is None:
        return  # validation pins the health check; an absent endpoint is the loopback default
    host = listen_host(site.value, ctx.environment)
    data = site.section == "receivers" and site.listener is not None and site.listener.data
    if host.host is None:
        if not ctx.allow_open_listeners:
            raise ConfigError(
                f"{ctx.layer}: {site.path}: the host it listens on cannot be known at synth "
                f"({host.why}); write 127.0.0.1:<port>, or give the variable through "
                f"environment=. {_OPEN}, got {site.value!r}"
            )
        return
    if is_loopback(host.host):
        return
    if data and not ctx.loopback_only:
        if ctx.preset == "gateway":
            _check_gateway_auth(site, ctx)
        return
    if not ctx.allow_open_listeners:
        raise _refuse_open(site, host.host, ctx)


def check_listeners(config: Mapping[str, Any], ctx: GuardContext) -> None:
    """Raise ConfigError for the first listener of ``config`` the role may not open."""
    for site in walk(config):
        if site.kind == "listener":
            _check_listener(site, ctx)
        elif site.kind == "maybe_listener":
            host = listen_host(site.value, ctx.environment)
            if host.host is None or not is_wildcard(host.host):
                continue  # a dial target, or not known to listen beyond loopback
            if site.section == "receivers" and not ctx.loopback_only:
                if ctx.preset == "gateway":
                    _check_gateway_auth(site, ctx)
            elif not ctx.allow_open_listeners:
                raise _refuse_open(site, host.host, ctx)
