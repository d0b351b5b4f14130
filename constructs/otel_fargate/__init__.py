"""otel-fargate: run the OpenTelemetry Collector on Amazon ECS Fargate with the AWS CDK.

Public names:

* :class:`CollectorSidecar`: the collector inside an application's task (sidecar or agent).
* :class:`CollectorGateway`: a separate, autoscaled collector service behind Service Connect.
* :class:`CollectorImage`: the bundled, slim or registry collector image.
* :class:`CollectorMonitoring`: dashboard and alarms from the collector's own metrics.
* :class:`CollectorOptions`: the options the sidecar and the gateway share.
* The configuration options, exporters and receivers of :mod:`otel_fargate.config`.

Names are loaded when first used, so ``import otel_fargate.config`` (pure Python: rendering
and validation) never starts the CDK's Node.js runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, EnvironmentConfigError, OtelFargateError
from .versions import COLLECTOR_VERSION

if TYPE_CHECKING:
    from .collector_options import CollectorOptions
    from .config import (
        AmpExporter,
        AwsOtlpExporter,
        CloudWatchEmfExporter,
        CloudWatchLogsExporter,
        CollectorConfigOptions,
        DebugExporter,
        FluentForwardReceiver,
        OAuth2ClientCredentials,
        OtlpExporter,
        RenderedConfig,
        SecretRef,
        XRayDaemonReceiver,
        XRayExporter,
        exporters_from_spec,
    )
    from .config.sampling import (
        AllOf,
        KeepAttribute,
        KeepErrors,
        KeepSlow,
        Probabilistic,
        RateLimit,
        RawPolicy,
        TailSampling,
        TraceRouting,
    )
    from .fargate import log_retention
    from .gateway import CollectorGateway
    from .gateway_tls import GatewayTls
    from .health import HealthCheckTiming
    from .image import CollectorImage
    from .monitoring import CollectorMonitoring
    from .samplers import CollectorSamplers, SamplingTier
    from .sidecar import CollectorSidecar

#: Where each lazily loaded public name lives.
_HOMES: dict[str, str] = {
    "AmpExporter": "config",
    "AwsOtlpExporter": "config",
    "CloudWatchEmfExporter": "config",
    "CloudWatchLogsExporter": "config",
    "CollectorConfigOptions": "config",
    "DebugExporter": "config",
    "FluentForwardReceiver": "config",
    "OAuth2ClientCredentials": "config",
    "OtlpExporter": "config",
    "RenderedConfig": "config",
    "SecretRef": "config",
    "XRayDaemonReceiver": "config",
    "XRayExporter": "config",
    "exporters_from_spec": "config",
    "render": "config",
    "CollectorOptions": "collector_options",
    "CollectorGateway": "gateway",
    "GatewayTls": "gateway_tls",
    "CollectorImage": "image",
    "CollectorMonitoring": "monitoring",
    "CollectorSidecar": "sidecar",
    "HealthCheckTiming": "health",
    "log_retention": "fargate",
    "AllOf": "config.sampling",
    "KeepAttribute": "config.sampling",
    "KeepErrors": "config.sampling",
    "KeepSlow": "config.sampling",
    "Probabilistic": "config.sampling",
    "RateLimit": "config.sampling",
    "RawPolicy": "config.sampling",
    "TailSampling": "config.sampling",
    "TraceRouting": "config.sampling",
    "CollectorSamplers": "samplers",
    "SamplingTier": "samplers",
}

__all__ = [
    "COLLECTOR_VERSION",
    "AllOf",
    "AmpExporter",
    "AwsOtlpExporter",
    "CloudWatchEmfExporter",
    "CloudWatchLogsExporter",
    "CollectorConfigOptions",
    "CollectorGateway",
    "CollectorImage",
    "CollectorMonitoring",
    "CollectorOptions",
    "CollectorSamplers",
    "CollectorSidecar",
    "ConfigError",
    "DebugExporter",
    "EnvironmentConfigError",
    "FluentForwardReceiver",
    "GatewayTls",
    "HealthCheckTiming",
    "KeepAttribute",
    "KeepErrors",
    "KeepSlow",
    "OAuth2ClientCredentials",
    "OtelFargateError",
    "OtlpExporter",
    "Probabilistic",
    "RateLimit",
    "RawPolicy",
    "RenderedConfig",
    "SamplingTier",
    "SecretRef",
    "TailSampling",
    "TraceRouting",
    "XRayDaemonReceiver",
    "XRayExporter",
    "exporters_from_spec",
    "log_retention",
    "render",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'otel_fargate' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
