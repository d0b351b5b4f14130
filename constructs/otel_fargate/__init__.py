"""otel-fargate: run the OpenTelemetry Collector on Amazon ECS Fargate with the AWS CDK.

Public names:

* :class:`CollectorSidecar`: the collector inside an application's task (sidecar or agent).
* :class:`CollectorGateway`: a separate, autoscaled collector service behind Service Connect.
* :class:`EmbeddedCollector`: the collector inside the app's own container (embedded mode).
* :class:`PrometheusScraper`, :func:`scrape_target`: one task that scrapes the cluster's
  containers marked as Prometheus targets.
* :class:`CollectorImage`: the bundled, slim or registry collector image.
* :class:`CollectorMonitoring`: dashboard and alarms from the collector's own metrics.
* :class:`CollectorOptions`: the options the sidecar and the gateway share.
* :class:`AutoInstrumentation`, :class:`InstrumentApp`: zero-code instrumentation of app
  containers, one at a time or app-wide.
* The configuration options, exporters and receivers of :mod:`otel_fargate.config`.

Names are loaded when first used, so ``import otel_fargate.config`` (pure Python: rendering
and validation) never starts the CDK's Node.js runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from otel_fargate import _moved
from otel_fargate.errors import ConfigError, EnvironmentConfigError, OtelFargateError
from otel_fargate.versions import COLLECTOR_VERSION, __version__

_moved.install()

if TYPE_CHECKING:
    from otel_fargate.apps.instrumentation import AutoInstrumentation
    from otel_fargate.config import (
        AmpExporter,
        AwsOtlpExporter,
        CloudWatchEmfExporter,
        CloudWatchLogsExporter,
        CollectorConfigOptions,
        ContainerMetrics,
        DebugExporter,
        EcsScrapeReceiver,
        FluentForwardReceiver,
        OAuth2ClientCredentials,
        OtlpExporter,
        RenderedConfig,
        SecretRef,
        XRayDaemonReceiver,
        XRayExporter,
        exporters_from_spec,
    )
    from otel_fargate.config.sampling import (
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
    from otel_fargate.embedded.construct import EmbeddedCollector
    from otel_fargate.gateway.construct import CollectorGateway
    from otel_fargate.gateway.tls import GatewayTls
    from otel_fargate.logs.options import StdoutLogs
    from otel_fargate.monitoring import CollectorMonitoring
    from otel_fargate.sampling.construct import CollectorSamplers, SamplingTier
    from otel_fargate.scraper.construct import PrometheusScraper
    from otel_fargate.scraper.targets import scrape_target
    from otel_fargate.sidecar.aspect import INSTRUMENT_LABEL, InstrumentApp, request_instrumentation
    from otel_fargate.sidecar.construct import CollectorSidecar
    from otel_fargate.task.fargate import log_retention
    from otel_fargate.task.health import HealthCheckTiming
    from otel_fargate.task.image import CollectorImage
    from otel_fargate.task.options import CollectorOptions

#: Where each lazily loaded public name lives.
_HOMES: dict[str, str] = {
    "AmpExporter": "config",
    "AwsOtlpExporter": "config",
    "CloudWatchEmfExporter": "config",
    "CloudWatchLogsExporter": "config",
    "CollectorConfigOptions": "config",
    "ContainerMetrics": "config",
    "DebugExporter": "config",
    "EcsScrapeReceiver": "config",
    "FluentForwardReceiver": "config",
    "OAuth2ClientCredentials": "config",
    "OtlpExporter": "config",
    "RenderedConfig": "config",
    "SecretRef": "config",
    "XRayDaemonReceiver": "config",
    "XRayExporter": "config",
    "exporters_from_spec": "config",
    "render": "config",
    "CollectorOptions": "task.options",
    "CollectorGateway": "gateway.construct",
    "GatewayTls": "gateway.tls",
    "StdoutLogs": "logs.options",
    "CollectorImage": "task.image",
    "CollectorMonitoring": "monitoring",
    "CollectorSidecar": "sidecar.construct",
    "EmbeddedCollector": "embedded.construct",
    "HealthCheckTiming": "task.health",
    "log_retention": "task.fargate",
    "AllOf": "config.sampling",
    "KeepAttribute": "config.sampling",
    "KeepErrors": "config.sampling",
    "KeepSlow": "config.sampling",
    "Probabilistic": "config.sampling",
    "RateLimit": "config.sampling",
    "RawPolicy": "config.sampling",
    "TailSampling": "config.sampling",
    "TraceRouting": "config.sampling",
    "CollectorSamplers": "sampling.construct",
    "AutoInstrumentation": "apps.instrumentation",
    "InstrumentApp": "sidecar.aspect",
    "INSTRUMENT_LABEL": "sidecar.aspect",
    "request_instrumentation": "sidecar.aspect",
    "SamplingTier": "sampling.construct",
    "PrometheusScraper": "scraper.construct",
    "scrape_target": "scraper.targets",
}

__all__ = [
    "COLLECTOR_VERSION",
    "INSTRUMENT_LABEL",
    "AllOf",
    "AmpExporter",
    "AutoInstrumentation",
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
    "ContainerMetrics",
    "DebugExporter",
    "EcsScrapeReceiver",
    "EmbeddedCollector",
    "EnvironmentConfigError",
    "FluentForwardReceiver",
    "GatewayTls",
    "HealthCheckTiming",
    "InstrumentApp",
    "KeepAttribute",
    "KeepErrors",
    "KeepSlow",
    "OAuth2ClientCredentials",
    "OtelFargateError",
    "OtlpExporter",
    "Probabilistic",
    "PrometheusScraper",
    "RateLimit",
    "RawPolicy",
    "RenderedConfig",
    "SamplingTier",
    "SecretRef",
    "StdoutLogs",
    "TailSampling",
    "TraceRouting",
    "XRayDaemonReceiver",
    "XRayExporter",
    "__version__",
    "exporters_from_spec",
    "log_retention",
    "render",
    "request_instrumentation",
    "scrape_target",
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
