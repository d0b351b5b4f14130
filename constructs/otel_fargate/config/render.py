"""Render a collector configuration: preset → options → overrides → replacement.

Every layer's result is validated; the first problem raises ConfigError naming the layer,
the setting and the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from otel_fargate import telemetry
from otel_fargate.errors import ConfigError

from .exporters import SIGNALS, RetryOnFailure, SendingQueue, duration
from .iam import IamNeeds, iam_for
from .layers import deep_merge, load_layer
from .options import CollectorConfigOptions, Preset
from .secrets import GATEWAY_TOKEN_ENV, SecretRef, env_ref
from .sizing import Sizing
from .validate import env_references, listening_ports, validate_config
from .yamlio import dump_yaml

#: OTLP ports (gRPC, HTTP) every preset receives on.
OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
#: The internal receiver the collector pushes its own metrics to.
SELF_OTLP_PORT = 4319
#: The Prometheus pull endpoint of the collector's own metrics.
SELF_METRICS_PORT = 8888
PPROF_ENDPOINT = "127.0.0.1:1777"
ZPAGES_ENDPOINT = "127.0.0.1:55679"

#: The gateway's bearer-token authenticator (server side).
GATEWAY_AUTH_ID = "bearertokenauth/gateway"
#: The agent's exporter to the gateway.
GATEWAY_EXPORTER_ID = "otlp/gateway"
SELF_RECEIVER_ID = "otlp/self"
SELF_EXPORTER_ID = "awsemf/self"
SELF_PIPELINE_ID = "metrics/self"


@dataclass(frozen=True, kw_only=True)
class RenderedConfig:
    """A validated collector configuration and what the constructs must provide for it.

    Attributes:
        preset: the preset it was rendered from.
        yaml: the configuration text (deterministic: same options, same bytes).
        config: the configuration as a dict.
        environment: plain container environment variables (GOMEMLIMIT, GOMAXPROCS).
        secrets: ECS secrets by environment variable name: every SecretRef of the
            exporters and of ``options.secrets``.
        required_env: environment variables the configuration reads that are neither in
            ``environment`` nor in ``secrets``: the constructs supply them (the agent and
            gateway read ``OTEL_GATEWAY_TOKEN``, whose secret the constructs create).
        referenced_env: every ``${env:NAME}`` in the configuration, sorted.
        health_check_endpoint: where the health_check extension listens.
        health_check_url: the URL the container health check probes.
        ports: every port the collector listens on, by name (``otlp-grpc``, ``otlp-http``,
            ``health``, ``metrics``, ...).
        iam: permissions the exporters in use need.
        sizing: the memory and CPU numbers behind memory_limiter and the environment.
    """

    preset: Preset
    yaml: str
    config: dict[str, Any]
    environment: dict[str, str]
    secrets: dict[str, SecretRef]
    required_env: tuple[str, ...]
    referenced_env: tuple[str, ...]
    health_check_endpoint: str
    health_check_url: str
    ports: dict[str, int]
    iam: IamNeeds
    sizing: Sizing


def render(options: CollectorConfigOptions) -> RenderedConfig:
    """Render, merge and validate the configuration ``options`` describe.

    Raises:
        ConfigError: a layer is invalid; the message names the layer, setting and value.
    """
    if not isinstance(options, CollectorConfigOptions):
        raise ConfigError(f"options: must be CollectorConfigOptions, got {options!r}")

    def check(config: dict[str, Any], layer: str) -> None:
        validate_config(
            config,
            layer=layer,
            health_check_endpoint=options.health_check_endpoint,
            stop_timeout_seconds=options.stop_timeout_seconds,
        )

    if options.replacement is not None:
        config = load_layer(options.replacement, setting="replacement")
        check(config, "replacement")
    else:
        config = build_preset(options)
        check(config, "rendered config")
        if options.overrides is not None:
            config = deep_merge(config, load_layer(options.overrides, setting="overrides"))
            check(config, "overrides")

    secrets = collect_secrets(options)
    referenced = env_references(config, layer="rendered config")
    environment = options.sizing.environment
    required = tuple(name for name in referenced if name not in secrets and name not in environment)
    return RenderedConfig(
        preset=options.preset,
        yaml=dump_yaml(config),
        config=config,
        environment=environment,
        secrets={name: secrets[name] for name in sorted(secrets)},
        required_env=required,
        referenced_env=referenced,
        health_check_endpoint=options.health_check_endpoint,
        health_check_url=options.health_check_url,
        ports={name: port for name, _path, port in listening_ports(config)},
        iam=iam_for(config),
        sizing=options.sizing,
    )


def collect_secrets(options: CollectorConfigOptions) -> dict[str, SecretRef]:
    """Every SecretRef of the options by env name; one name may not mean two secrets."""
    found: dict[str, SecretRef] = {}
    sources: list[tuple[str, SecretRef]] = [
        (exporter.setting, ref) for exporter in options.exporters for ref in exporter.secret_refs()
    ]
    sources.extend(("secrets", ref) for ref in options.secrets)
    for setting, ref in sources:
        known = found.get(ref.env_name)
        if known is not None and known != ref:
            raise ConfigError(
                f"{setting}: environment variable {ref.env_name!r} already carries secret "
                f"{known.secret_id!r}; use another env_name for {ref.secret_id!r}"
            )
        found[ref.env_name] = ref
    return found


def build_preset(options: CollectorConfigOptions) -> dict[str, Any]:
    """The preset's configuration filled in from ``options`` (before overrides)."""
    preset = options.preset
    host = "0.0.0.0" if preset == "gateway" else "127.0.0.1"
    self_telemetry = options.self_telemetry_namespace is not None
    detect_in_pipelines = preset in ("sidecar", "agent")

    extensions: dict[str, Any] = {
        "health_check": {"endpoint": options.health_check_endpoint, "path": "/"},
    }
    if preset == "gateway":
        extensions[GATEWAY_AUTH_ID] = {"scheme": "Bearer", "token": env_ref(GATEWAY_TOKEN_ENV)}
    for exporter in options.exporters:
        for eid, settings in exporter.extensions().items():
            if eid in extensions and extensions[eid] != settings:
                raise ConfigError(
                    f"{exporter.setting}: needs extension {eid!r}, which another exporter "
                    f"configures differently; give the exporters distinct names"
                )
            extensions[eid] = settings
    if options.pprof:
        extensions["pprof"] = {"endpoint": PPROF_ENDPOINT}
    if options.zpages:
        extensions["zpages"] = {"endpoint": ZPAGES_ENDPOINT}

    grpc: dict[str, Any] = {"endpoint": f"{host}:{OTLP_GRPC_PORT}"}
    http: dict[str, Any] = {"endpoint": f"{host}:{OTLP_HTTP_PORT}"}
    if preset == "gateway":
        grpc["auth"] = {"authenticator": GATEWAY_AUTH_ID}
        grpc["keepalive"] = {
            "server_parameters": {"max_connection_age": options.max_connection_age}
        }
        http["auth"] = {"authenticator": GATEWAY_AUTH_ID}
    receivers: dict[str, Any] = {"otlp": {"protocols": {"grpc": grpc, "http": http}}}
    if self_telemetry:
        receivers[SELF_RECEIVER_ID] = {
            "protocols": {"grpc": {"endpoint": f"127.0.0.1:{SELF_OTLP_PORT}"}}
        }

    sizing = options.sizing
    processors: dict[str, Any] = {
        "memory_limiter": sizing.memory_limiter,
    }
    if detect_in_pipelines or self_telemetry:
        processors["resourcedetection"] = {
            "detectors": ["env", "ecs"],
            "timeout": "2s",
            "override": False,
        }
    user_processors = dict(options.processors) if options.processors is not None else {}
    for pid, processor in user_processors.items():
        processors[pid] = (
            load_layer(processor, setting=f"processors.{pid}") if processor is not None else {}
        )
    processors["batch"] = {
        "send_batch_size": 8192,
        "send_batch_max_size": 8192,
        "timeout": "200ms",
    }

    exporters: dict[str, Any] = {}
    routes: dict[str, list[str]] = {signal: [] for signal in SIGNALS}
    if preset == "agent":
        exporters[GATEWAY_EXPORTER_ID] = _sized_queue(
            _gateway_exporter(options), sizing, setting=f"exporters.{GATEWAY_EXPORTER_ID}"
        )
        for signal in SIGNALS:
            routes[signal].append(GATEWAY_EXPORTER_ID)
    for exporter in options.exporters:
        exporters[exporter.component_id] = _sized_queue(
            exporter.render(), sizing, setting=exporter.setting
        )
        for signal in exporter.signals:
            routes[signal].append(exporter.component_id)
    if self_telemetry:
        exporters[SELF_EXPORTER_ID] = _self_exporter(options)

    chain = ["memory_limiter"]
    if detect_in_pipelines:
        chain.append("resourcedetection")
    chain.extend(user_processors)
    chain.append("batch")
    pipelines: dict[str, Any] = {}
    for signal in SIGNALS:
        if routes[signal]:
            pipelines[signal] = {
                "receivers": ["otlp"],
                "processors": list(chain),
                "exporters": routes[signal],
            }
    if self_telemetry:
        pipelines[SELF_PIPELINE_ID] = {
            "receivers": [SELF_RECEIVER_ID],
            "processors": ["resourcedetection", "batch"],
            "exporters": [SELF_EXPORTER_ID],
        }

    return {
        "extensions": extensions,
        "receivers": receivers,
        "processors": processors,
        "exporters": exporters,
        "service": {
            "extensions": list(extensions),
            "pipelines": pipelines,
            "telemetry": _telemetry(options),
        },
    }


def _sized_queue(block: dict[str, Any], sizing: Sizing, *, setting: str) -> dict[str, Any]:
    """``block`` with its sending queue sized for the container (bytes, at most the limit)."""
    queue = block.get("sending_queue")
    if not isinstance(queue, dict):
        return block
    size = queue.get("queue_size")
    if size is None:
        return {**block, "sending_queue": {**queue, "queue_size": sizing.queue_bytes}}
    if size > sizing.queue_bytes:
        raise ConfigError(
            f"{setting}.queue.queue_size: at most the memory_limiter hard limit of a "
            f"{sizing.memory_mib} MiB container ({sizing.queue_bytes} bytes, "
            f"{sizing.limit_mib} MiB) fits, got {size}"
        )
    return block


def _gateway_exporter(options: CollectorConfigOptions) -> dict[str, Any]:
    # The Service Connect hop stays inside the VPC and is plaintext gRPC. The token travels as
    # the ``authorization`` header: the bearertokenauth client extension refuses to send
    # credentials over a connection without TLS, while the gateway's bearertokenauth server
    # checks the header whatever the transport.
    return {
        "endpoint": options.effective_gateway_endpoint,
        "tls": {"insecure": True},
        "headers": {"authorization": f"Bearer {env_ref(GATEWAY_TOKEN_ENV)}"},
        "timeout": duration(10),
        "sending_queue": SendingQueue().render(),
        "retry_on_failure": RetryOnFailure().render(),
    }


def _self_exporter(options: CollectorConfigOptions) -> dict[str, Any]:
    declarations = [
        {
            "dimensions": [list(telemetry.DIMENSIONS[group])],
            "metric_name_selectors": [f"^{name}$" for name in names],
        }
        for group, names in telemetry.METRIC_GROUPS.items()
    ]
    return {
        "namespace": options.self_telemetry_namespace,
        "log_group_name": options.effective_self_telemetry_log_group,
        "log_stream_name": "{TaskId}",
        "log_retention": options.self_telemetry_retention_days,
        "dimension_rollup_option": "NoDimensionRollup",
        "resource_to_telemetry_conversion": {"enabled": True},
        "metric_declarations": declarations,
    }


def _telemetry(options: CollectorConfigOptions) -> dict[str, Any]:
    readers: list[dict[str, Any]] = [
        {"pull": {"exporter": {"prometheus": {"host": "127.0.0.1", "port": SELF_METRICS_PORT}}}}
    ]
    if options.self_telemetry_namespace is not None:
        readers.append(
            {
                "periodic": {
                    "interval": options.self_telemetry_interval_seconds * 1000,
                    "exporter": {
                        "otlp": {
                            "protocol": "grpc",
                            "endpoint": f"http://127.0.0.1:{SELF_OTLP_PORT}",
                            "insecure": True,
                        }
                    },
                }
            }
        )
    return {
        "resource": {
            "attributes": [
                {"name": telemetry.DIMENSION_ENVIRONMENT, "value": options.environment_name},
                {"name": telemetry.DIMENSION_SERVICE, "value": options.service_name},
            ]
        },
        "logs": {"level": options.log_level, "encoding": "json"},
        "metrics": {"level": "detailed", "readers": readers},
    }


def describe(rendered: RenderedConfig) -> str:
    """A short human summary of what will run (pipelines, ports, env, permissions)."""
    lines = [f"preset: {rendered.preset}"]
    pipelines: Mapping[str, Any] = rendered.config.get("service", {}).get("pipelines", {})
    for pid, pipeline in pipelines.items():
        lines.append(
            f"pipeline {pid}: {', '.join(pipeline.get('receivers', []))} -> "
            f"{', '.join(pipeline.get('processors', []) or ['-'])} -> "
            f"{', '.join(pipeline.get('exporters', []))}"
        )
    lines.append("ports: " + ", ".join(f"{k}={v}" for k, v in rendered.ports.items()))
    lines.append(f"health check: {rendered.health_check_url}")
    lines.append("environment: " + ", ".join(f"{k}={v}" for k, v in rendered.environment.items()))
    if rendered.secrets:
        lines.append("secrets: " + ", ".join(rendered.secrets))
    if rendered.required_env:
        lines.append("required env: " + ", ".join(rendered.required_env))
    return "\n".join(lines) + "\n"
