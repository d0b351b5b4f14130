"""The TLS fragment of the gateway and sampler presets, from the options of
:mod:`otel_fargate.config.options.tls`.
"""

from __future__ import annotations

from typing import Any

from otel_fargate.config.options.collector import CollectorConfigOptions
from otel_fargate.config.options.tls import receiver_tls


def gateway_tls(options: CollectorConfigOptions) -> dict[str, Any]:
    """Fragment: TLS on the OTLP receivers of a gateway (gRPC and HTTP) or of a sampler (its
    gRPC only), when ``gateway_tls`` is set.
    """
    tls = options.gateway_tls
    if options.preset not in ("gateway", "sampler") or tls is None:
        return {}
    served = ("grpc", "http") if options.preset == "gateway" else ("grpc",)
    protocols = {proto: {"tls": receiver_tls(tls)} for proto in served}
    return {"receivers": {"otlp": {"protocols": protocols}}}
