"""The gateway preset's TLS fragment, from the options of :mod:`otel_fargate.config.options.tls`."""

from __future__ import annotations

from typing import Any

from otel_fargate.config.options.collector import CollectorConfigOptions
from otel_fargate.config.options.tls import receiver_tls


def gateway_tls(options: CollectorConfigOptions) -> dict[str, Any]:
    """Fragment: TLS on the gateway's OTLP receivers, when ``gateway_tls`` is set."""
    tls = options.gateway_tls
    if options.preset != "gateway" or tls is None:
        return {}
    protocols = {proto: {"tls": receiver_tls(tls)} for proto in ("grpc", "http")}
    return {"receivers": {"otlp": {"protocols": protocols}}}
