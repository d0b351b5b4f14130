"""Representative option sets whose rendered YAML is committed under ``golden/``.

Regenerate after an intended change: ``UPDATE_GOLDEN=1 .venv/bin/python -m pytest
tests/library/test_config_golden.py``; review the diff like code.
"""

from __future__ import annotations

from otel_fargate.config import (
    AwsOtlpExporter,
    CloudWatchEmfExporter,
    CloudWatchLogsExporter,
    CollectorConfigOptions,
    DebugExporter,
    OAuth2ClientCredentials,
    OtlpExporter,
    RetryOnFailure,
    SecretRef,
    SendingQueue,
    XRayDaemonReceiver,
    XRayExporter,
)
from otel_fargate.config.options.tls import GatewayTlsOptions
from otel_fargate.config.sampling import (
    AllOf,
    KeepAttribute,
    KeepErrors,
    KeepSlow,
    Probabilistic,
    RateLimit,
    TailSampling,
    TraceRouting,
)

HONEYCOMB = OtlpExporter(
    name="honeycomb",
    endpoint="api.honeycomb.io:443",
    headers={
        "x-honeycomb-team": SecretRef(
            env_name="HONEYCOMB_API_KEY", secret_id="otel-fargate/dev/honeycomb-api-key"
        )
    },
)

CASES: dict[str, CollectorConfigOptions] = {
    "sidecar-xray-emf-cwlogs": CollectorConfigOptions(
        preset="sidecar",
        exporters=(
            XRayExporter(),
            CloudWatchEmfExporter(
                namespace="Checkout", log_group_name="/otel/dev/metrics", retention_days=30
            ),
            CloudWatchLogsExporter(log_group_name="/otel/dev/logs", retention_days=14),
        ),
        environment_name="dev",
        service_name="checkout",
    ),
    "sidecar-otlp-honeycomb": CollectorConfigOptions(
        preset="sidecar",
        exporters=(HONEYCOMB,),
        memory_mib=256,
        environment_name="dev",
        service_name="checkout",
    ),
    "agent": CollectorConfigOptions(
        preset="agent",
        environment_name="prod",
        service_name="checkout",
    ),
    "gateway-xray-emf": CollectorConfigOptions(
        preset="gateway",
        exporters=(
            XRayExporter(region="eu-west-1"),
            CloudWatchEmfExporter(
                namespace="Apps", log_group_name="/otel/prod/metrics", retention_days=90
            ),
        ),
        memory_mib=2048,
        cpu_units=1024,
        environment_name="prod",
        service_name="otel-gateway",
    ),
    "gateway-oauth2-otlp": CollectorConfigOptions(
        preset="gateway",
        exporters=(
            OtlpExporter(
                name="vendor",
                endpoint="https://otlp.vendor.example/",
                protocol="http",
                auth=OAuth2ClientCredentials(
                    client_id=SecretRef(
                        env_name="VENDOR_CLIENT_ID",
                        secret_id="vendor/oauth",
                        json_field="client_id",
                    ),
                    client_secret=SecretRef(
                        env_name="VENDOR_CLIENT_SECRET",
                        secret_id="vendor/oauth",
                        json_field="client_secret",
                    ),
                    token_url="https://auth.vendor.example/oauth2/token",
                    scopes=("telemetry.write",),
                ),
                queue=SendingQueue(num_consumers=8, queue_size=1024 * 1024 * 1024),
                retry=RetryOnFailure(max_elapsed_seconds=45),
            ),
        ),
        memory_mib=4096,
        cpu_units=2048,
        environment_name="prod",
        service_name="otel-gateway",
    ),
    "sidecar-aws-otlp-sigv4": CollectorConfigOptions(
        preset="sidecar",
        exporters=(
            AwsOtlpExporter(signal="traces", region="us-east-1"),
            AwsOtlpExporter(
                signal="logs",
                region="us-east-1",
                log_group_name="/otel/dev/app-logs",
                log_stream_name="checkout",
            ),
        ),
        environment_name="dev",
        service_name="checkout",
    ),
    "sidecar-overrides": CollectorConfigOptions(
        preset="sidecar",
        exporters=(DebugExporter(verbosity="detailed", signals=("traces", "logs")),),
        processors={
            "attributes/redact": {
                "actions": [{"key": "user.email", "action": "delete"}],
            },
        },
        overrides="""
processors:
  batch:
    timeout: 1s
service:
  pipelines:
    logs:
      processors: [memory_limiter, batch]
  telemetry:
    logs:
      level: warn
""",
        environment_name="dev",
        service_name="checkout",
    ),
    "gateway-nlb-local-telemetry": CollectorConfigOptions(
        preset="gateway",
        exporters=(XRayExporter(),),
        health_check_endpoint="0.0.0.0:13133",
        self_telemetry_namespace=None,
        pprof=True,
        zpages=True,
        max_connection_age="5m",
        stop_timeout_seconds=90,
        environment_name="staging",
        service_name="otel-gateway",
    ),
    "gateway-tls": CollectorConfigOptions(
        preset="gateway",
        exporters=(XRayExporter(),),
        gateway_tls=GatewayTlsOptions(min_version="1.3"),
        environment_name="prod",
        service_name="otel-gateway",
    ),
    "agent-xray-daemon": CollectorConfigOptions(
        preset="agent",
        receivers=(XRayDaemonReceiver(proxy_endpoint="127.0.0.1:2001"),),
        environment_name="prod",
        service_name="checkout",
    ),
    "agent-tls-via-nlb": CollectorConfigOptions(
        preset="agent",
        gateway_endpoint="otel-nlb.internal:4317",
        gateway_tls=GatewayTlsOptions(),
        environment_name="prod",
        service_name="checkout",
    ),
    "gateway-routing": CollectorConfigOptions(
        preset="gateway",
        exporters=(XRayExporter(), HONEYCOMB),
        trace_routing=TraceRouting(hostname="otel-sampler.otel-fargate-prod.internal"),
        memory_mib=896,
        persistent_queues=True,
        environment_name="prod",
        service_name="otel-gateway",
    ),
    "sampler": CollectorConfigOptions(
        preset="sampler",
        exporters=(XRayExporter(), HONEYCOMB),
        sampling=TailSampling(
            policies=(
                KeepErrors(),
                KeepSlow(threshold_ms=2000),
                KeepAttribute(key="tenant", values=("gold",)),
                AllOf(
                    name="checkout-sampled",
                    policies=(
                        KeepAttribute(key="service.name", values=("checkout",)),
                        Probabilistic(percent=50),
                    ),
                ),
                RateLimit(spans_per_second=2000),
                Probabilistic(percent=5),
            ),
            expected_new_traces_per_second=200,
        ),
        memory_mib=1920,
        persistent_queues=True,
        environment_name="prod",
        service_name="otel-sampler",
    ),
}
