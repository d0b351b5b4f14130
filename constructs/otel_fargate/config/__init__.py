"""Collector configuration rendered from typed options.

Layers: preset → options → overrides (deep merge) → replacement (escape hatch). Every
layer's result is validated; :func:`render` returns the YAML plus everything the constructs
need to run it (environment, secrets, ports, health-check URL, IAM needs). Pure Python: no
AWS CDK import, so it is fast enough to run during synth and usable from a CLI.

Presets:

- ``sidecar``: OTLP on ``127.0.0.1:4317/4318``, straight to the configured exporters.
- ``agent``: OTLP on ``127.0.0.1``, everything forwarded by ``otlp_grpc/gateway`` to
  ``otel-gateway:4317``. The Service Connect hop is plaintext gRPC inside the VPC
  (``tls.insecure: true``), authenticated by the token sent as the header
  ``authorization: Bearer ${env:OTEL_GATEWAY_TOKEN}`` (the bearertokenauth *client*
  extension refuses to send credentials without TLS, so it is not used on this hop). The
  agent takes no exporters (passing any is an error): the gateway exports, so backend
  credentials and permissions live in one place.
- ``gateway``: OTLP on ``0.0.0.0:4317/4318``, bearer token required on both protocols
  (``bearertokenauth/gateway`` server, ``tokens``: ``${env:OTEL_GATEWAY_TOKEN}``, the
  current token, and ``${env:OTEL_GATEWAY_TOKEN_PREVIOUS}``, the one before the last
  rotation),
  ``keepalive.server_parameters.max_connection_age`` on gRPC so clients spread over new tasks.

Receivers beside OTLP (sidecar and agent, loopback): :class:`XRayDaemonReceiver` (the X-Ray
daemon's UDP segments and TCP sampling proxy, the ``awsxray`` receiver) and
:class:`FluentForwardReceiver` (logs FireLens forwards, the ``fluent_forward`` receiver).
:class:`ContainerMetrics` chooses the task and container metrics the sidecar and agent read from
the task metadata endpoint (the ``awsecscontainermetrics`` receiver, on by default).

Pipelines: one per signal some exporter takes, each ``memory_limiter → resource_detection
(sidecar/agent only: a gateway must not stamp its own ECS resource on apps' telemetry) →
user processors → batch``.

Secrets: exporters' :class:`SecretRef` values render as ``${env:NAME}`` and are returned in
``RenderedConfig.secrets``. The agent/gateway bearer token is the constructs' secret: the
YAML reads ``${env:OTEL_GATEWAY_TOKEN}`` (a gateway also ``${env:OTEL_GATEWAY_TOKEN_PREVIOUS}``)
and ``RenderedConfig.required_env`` lists them; in
general ``required_env`` is every referenced variable that is neither a returned secret nor
part of ``RenderedConfig.environment``.

Own telemetry: ``service.telemetry.metrics`` (level ``detailed``) has a Prometheus pull
reader on ``127.0.0.1:8888`` and, unless ``self_telemetry_namespace`` is None, a periodic
OTLP reader pushing to the internal receiver ``otlp/self`` (``127.0.0.1:4319``); the
``metrics/self`` pipeline sends those metrics through ``awsemf/self`` into CloudWatch with
the dimensions of :mod:`otel_fargate.telemetry`. The dimension values come from
``service.telemetry.resource`` (``environment``, ``service``), copied onto the metrics by
``resource_to_telemetry_conversion``. Logs are JSON.

Sizing: see :mod:`otel_fargate.config.core.sizing` (64 MiB reserved for the executable, GOMEMLIMIT
90 % of the rest, memory_limiter limit 80 % of GOMEMLIMIT checked every 100 ms, spike 25 % of
the limit, exporter queues in bytes up to the limit, GOMAXPROCS = vCPUs rounded up; at least
256 MiB).

Shutdown: every exporter's retries plus per-attempt timeout must end before
``stop_timeout_seconds`` (default 120 s, Fargate's maximum); defaults are 60 s of retries
and a 10 s timeout.
"""

from otel_fargate.config.core.layers import deep_merge
from otel_fargate.config.core.secrets import CONFIG_ENV, GATEWAY_TOKEN_ENV, SecretRef
from otel_fargate.config.core.sizing import MIN_MEMORY_MIB, Sizing, size_for
from otel_fargate.config.exporters import (
    SIGNALS,
    AmpExporter,
    AwsOtlpExporter,
    CloudWatchEmfExporter,
    CloudWatchLogsExporter,
    DebugExporter,
    Exporter,
    OAuth2ClientCredentials,
    OtlpExporter,
    RetryOnFailure,
    SendingQueue,
    Signal,
    XRayExporter,
)
from otel_fargate.config.options.collector import (
    DEFAULT_GATEWAY_ENDPOINT,
    DEFAULT_HEALTH_CHECK_ENDPOINT,
    DEFAULT_SELF_TELEMETRY_NAMESPACE,
    PRESETS,
    CollectorConfigOptions,
    Preset,
)
from otel_fargate.config.options.spec import SPEC_TYPES, exporters_from_spec
from otel_fargate.config.policy.iam import IamNeeds, LogGroupWrite
from otel_fargate.config.policy.validate import validate_config
from otel_fargate.config.receivers.container_metrics import ContainerMetrics
from otel_fargate.config.receivers.ecs_scrape import EcsScrapeReceiver
from otel_fargate.config.receivers.typed import FluentForwardReceiver, Receiver, XRayDaemonReceiver
from otel_fargate.config.rendering.presets import build_preset
from otel_fargate.config.rendering.render import RenderedConfig, describe, render
from otel_fargate.errors import ConfigError

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_GATEWAY_ENDPOINT",
    "DEFAULT_HEALTH_CHECK_ENDPOINT",
    "DEFAULT_SELF_TELEMETRY_NAMESPACE",
    "GATEWAY_TOKEN_ENV",
    "MIN_MEMORY_MIB",
    "PRESETS",
    "SIGNALS",
    "SPEC_TYPES",
    "AmpExporter",
    "AwsOtlpExporter",
    "CloudWatchEmfExporter",
    "CloudWatchLogsExporter",
    "CollectorConfigOptions",
    "ConfigError",
    "ContainerMetrics",
    "DebugExporter",
    "EcsScrapeReceiver",
    "Exporter",
    "FluentForwardReceiver",
    "IamNeeds",
    "LogGroupWrite",
    "OAuth2ClientCredentials",
    "OtlpExporter",
    "Preset",
    "Receiver",
    "RenderedConfig",
    "RetryOnFailure",
    "SecretRef",
    "SendingQueue",
    "Signal",
    "Sizing",
    "XRayDaemonReceiver",
    "XRayExporter",
    "build_preset",
    "deep_merge",
    "describe",
    "exporters_from_spec",
    "render",
    "size_for",
    "validate_config",
]
