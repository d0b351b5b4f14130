"""otel-fargate: run the OpenTelemetry Collector on Amazon ECS Fargate with the AWS CDK.

Public names:

* :class:`CollectorSidecar`: the collector inside an application's task (sidecar or agent).
* :class:`CollectorGateway`: a separate, autoscaled collector service behind Service Connect.
* :class:`CollectorImage`: the bundled, slim or registry collector image.
* :class:`CollectorMonitoring`: dashboard and alarms from the collector's own metrics.
* The configuration options and exporters of :mod:`otel_fargate.config`.
"""

from .config import (
    AwsOtlpExporter,
    CloudWatchEmfExporter,
    CloudWatchLogsExporter,
    CollectorConfigOptions,
    DebugExporter,
    OAuth2ClientCredentials,
    OtlpExporter,
    RenderedConfig,
    SecretRef,
    XRayExporter,
    exporters_from_spec,
    render,
)
from .container import HealthCheckTiming
from .errors import ConfigError, EnvironmentConfigError, OtelFargateError
from .gateway import CollectorGateway
from .image import CollectorImage
from .monitoring import CollectorMonitoring
from .sidecar import CollectorSidecar
from .versions import COLLECTOR_VERSION

__all__ = [
    "COLLECTOR_VERSION",
    "AwsOtlpExporter",
    "CloudWatchEmfExporter",
    "CloudWatchLogsExporter",
    "CollectorConfigOptions",
    "CollectorGateway",
    "CollectorImage",
    "CollectorMonitoring",
    "CollectorSidecar",
    "ConfigError",
    "DebugExporter",
    "EnvironmentConfigError",
    "HealthCheckTiming",
    "OAuth2ClientCredentials",
    "OtelFargateError",
    "OtlpExporter",
    "RenderedConfig",
    "SecretRef",
    "XRayExporter",
    "exporters_from_spec",
    "render",
]
