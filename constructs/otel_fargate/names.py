"""Every name, port and limit otel-fargate uses, in one place.

The configuration renderer, the constructs, the monitoring and the operations tools all read
these; nothing else spells them out. Pure Python: importing this module starts no CDK runtime.
"""

from __future__ import annotations

from typing import Final

#: Name of the collector container in every task definition.
COLLECTOR_CONTAINER_NAME: Final = "otel-collector"

#: OTLP over gRPC, where every preset receives.
OTLP_GRPC_PORT: Final = 4317
#: OTLP over HTTP, where every preset receives.
OTLP_HTTP_PORT: Final = 4318
#: The internal receiver the collector pushes its own metrics to (loopback only).
SELF_OTLP_PORT: Final = 4319
#: The Prometheus pull endpoint of the collector's own metrics (loopback only).
SELF_METRICS_PORT: Final = 8888
#: The health_check extension.
HEALTH_PORT: Final = 13133
#: Where the health_check extension listens by default (inside the container only).
DEFAULT_HEALTH_CHECK_ENDPOINT: Final = f"127.0.0.1:{HEALTH_PORT}"
#: The pprof extension, when switched on.
PPROF_ENDPOINT: Final = "127.0.0.1:1777"
#: The zpages extension, when switched on.
ZPAGES_ENDPOINT: Final = "127.0.0.1:55679"
#: Where the persistent sending queues live: a task-scoped volume, so a collector container
#: restarted in the same task resumes sending what it held (the bundled images create it for
#: the collector's user).
QUEUE_DIRECTORY: Final = "/var/lib/otelcol/queue"
#: The file_storage extension that holds them.
QUEUE_STORAGE_ID: Final = "file_storage/queue"
#: The X-Ray daemon's port: segments over UDP, the sampling proxy over TCP
#: (``XRayDaemonReceiver``, loopback only).
XRAY_DAEMON_PORT: Final = 2000
#: The variable the X-Ray SDKs read the daemon address from (``host:port``, or
#: ``tcp:host:port udp:host:port`` when the two differ).
XRAY_DAEMON_ADDRESS_ENV: Final = "AWS_XRAY_DAEMON_ADDRESS"
#: The collector's Fluent Forward receiver, where the FireLens log router forwards the app
#: containers' stdout (loopback only); not 24224, FireLens's own forward input.
FLUENT_FORWARD_PORT: Final = 8006
#: The FireLens log router of ``stdout_logs``: its container name, its image (AWS for Fluent
#: Bit, a pinned release) and the memory it reserves in the task.
LOG_ROUTER_CONTAINER_NAME: Final = "log-router"
LOG_ROUTER_IMAGE: Final = "public.ecr.aws/aws-observability/aws-for-fluent-bit:3.2.1"
LOG_ROUTER_MEMORY_MIB: Final = 64
#: The log router's disk buffer (``docker/log-router/buffer.conf``, built into the router's
#: image by ``docker/log-router.Dockerfile``): the file FireLens includes, the loopback port
#: of its filesystem-buffered forward input (app containers' FireLens outputs forward there;
#: not 24224, FireLens's own), the tag prefix that input adds (so its records are not routed
#: to those outputs again), the directory of the buffer (a task volume) and the variables the
#: file reads.
LOG_ROUTER_CONFIG_FILE: Final = "/fluent-bit/etc/otel-fargate/buffer.conf"
LOG_BUFFER_PORT: Final = 24225
LOG_BUFFER_TAG_PREFIX: Final = "buffered."
LOG_BUFFER_DIRECTORY: Final = "/var/lib/fluent-bit/buffer"
LOG_FORWARD_PORT_ENV: Final = "OTEL_FARGATE_LOG_FORWARD_PORT"
LOG_RETRY_LIMIT_ENV: Final = "OTEL_FARGATE_LOG_RETRY_LIMIT"
LOG_BUFFER_BYTES_ENV: Final = "OTEL_FARGATE_LOG_BUFFER_BYTES"
#: Path of the probe inside the bundled images.
BUNDLED_PROBE_PATH: Final = "/healthcheck"

#: Environment variable carrying the rendered collector configuration.
CONFIG_ENV: Final = "OTEL_FARGATE_CONFIG"
#: Environment variable holding the bearer token shared by agents and the gateway.
GATEWAY_TOKEN_ENV: Final = "OTEL_GATEWAY_TOKEN"
#: Environment variable holding the gateway's second accepted token (gateway only): the
#: token before the last rotation, or during a rotation the next one.
GATEWAY_TOKEN_PREVIOUS_ENV: Final = "OTEL_GATEWAY_TOKEN_PREVIOUS"
#: Environment variables of TLS on the agent → gateway hop (``CollectorGateway(tls=...)``):
#: the gateway's certificate chain and private key (PEM, the gateway only) and the CA that
#: agents verify the gateway with (PEM).
GATEWAY_TLS_CERT_ENV: Final = "OTEL_GATEWAY_TLS_CERT"
GATEWAY_TLS_KEY_ENV: Final = "OTEL_GATEWAY_TLS_KEY"
GATEWAY_TLS_CA_ENV: Final = "OTEL_GATEWAY_TLS_CA"
#: Environment variables the constructs set themselves; a user secret may not take them.
RESERVED_ENV_NAMES: Final = frozenset(
    {
        "GOMEMLIMIT",
        "GOMAXPROCS",
        CONFIG_ENV,
        GATEWAY_TOKEN_ENV,
        GATEWAY_TOKEN_PREVIOUS_ENV,
        GATEWAY_TLS_CERT_ENV,
        GATEWAY_TLS_KEY_ENV,
        GATEWAY_TLS_CA_ENV,
    }
)

#: Environment variables ECS sets in every Fargate task: a configuration may read them.
ECS_PROVIDED_ENV: Final = frozenset(
    {
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "ECS_CONTAINER_METADATA_URI",
        "ECS_CONTAINER_METADATA_URI_V4",
        "ECS_AGENT_URI",
    }
)

#: Service Connect alias (DNS name) of the gateway: ``otel-gateway:4317`` / ``:4318``.
GATEWAY_ALIAS: Final = "otel-gateway"
#: The gateway address agents forward to.
DEFAULT_GATEWAY_ENDPOINT: Final = f"{GATEWAY_ALIAS}:{OTLP_GRPC_PORT}"

#: gRPC's default limit on one received message, after decompression (MiB). Every collector
#: the library renders accepts at least this much on its OTLP receivers.
GRPC_DEFAULT_MAX_RECV_MIB: Final = 4
#: The largest request an exporter between two of the library's collectors sends (the
#: agent's to the gateway, the routing gateway's to the samplers) and a typed OTLP exporter
#: sends to its backend, in bytes of serialized telemetry: the sending queue splits larger
#: batches (``sending_queue.batch.max_size``). Below ``GRPC_DEFAULT_MAX_RECV_MIB``, so no hop
#: sends what the next one refuses, whatever the item count.
MAX_EXPORT_BATCH_BYTES: Final = 3 * 1024 * 1024
#: How long a sending queue holds a batch smaller than ``min_size`` before sending it; with
#: ``min_size`` 0 (the presets batch by count before the queue) it only splits.
EXPORT_BATCH_FLUSH_TIMEOUT: Final = "200ms"

#: Fargate's upper bound for a container's stop timeout, in seconds.
MAX_STOP_TIMEOUT_SECONDS: Final = 120
#: The shortest stop timeout ECS accepts, in seconds.
MIN_STOP_TIMEOUT_SECONDS: Final = 2
#: Task memory left to the Service Connect (Envoy) proxy container that ECS adds to a task
#: using Service Connect; AWS asks for at least 64 MiB.
SERVICE_CONNECT_PROXY_MEMORY_MIB: Final = 128

#: CloudWatch namespace of the collector's own metrics.
SELF_TELEMETRY_NAMESPACE: Final = "OtelFargate/Collector"
#: Prefix of every name otel-fargate gives to account-wide resources.
NAME_PREFIX: Final = "otel-fargate"

#: Retention periods CloudWatch Logs accepts, in days.
LOG_RETENTION_DAYS: Final[tuple[int, ...]] = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

#: Component ids the presets own.
GATEWAY_AUTH_ID: Final = "bearertokenauth/gateway"
SELF_RECEIVER_ID: Final = "otlp/self"
SELF_EXPORTER_ID: Final = "awsemf/self"
SELF_PIPELINE_ID: Final = "metrics/self"
#: The pipeline of the container metrics (the ``awsecscontainermetrics`` receiver).
CONTAINER_METRICS_PIPELINE_ID: Final = "metrics/container"


def stack_name(environment: str, part: str) -> str:
    """The CloudFormation stack name of one part of an environment (``network``, ``gateway``)."""
    return f"{NAME_PREFIX}-{environment}-{part}"


def self_telemetry_log_group(environment: str, service: str | None = None) -> str:
    """The log group of a collector's own metrics: ``/otel-fargate/<env>[/<service>]/...``."""
    middle = environment if service is None else f"{environment}/{service}"
    return f"/{NAME_PREFIX}/{middle}/collector-metrics"

#: Docker labels that mark a container as a Prometheus scrape target for the scraper's
#: ``ecs_observer`` (``scrape_target()`` sets them): the port, the metrics path, the job name.
SCRAPE_PORT_LABEL: Final = "ECS_PROMETHEUS_EXPORTER_PORT"
SCRAPE_PATH_LABEL: Final = "ECS_PROMETHEUS_METRICS_PATH"
SCRAPE_JOB_LABEL: Final = "ECS_PROMETHEUS_JOB_NAME"
#: The scraper's task volume and the file-SD file ``ecs_observer`` writes on it (the root
#: file system is read-only).
SCRAPE_DIRECTORY: Final = "/var/lib/otelcol/scrape"
SCRAPE_TARGETS_FILE: Final = f"{SCRAPE_DIRECTORY}/ecs-targets.yaml"
