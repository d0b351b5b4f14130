"""The presets as fragments merged in order, pipelines assembled last.

Fragments, each a partial configuration: **base** (health check, memory limiter, batch, own
telemetry settings), **OTLP receivers**, **typed receivers** (sidecar and agent), **gateway
auth** (gateway only), **agent forwarding** (agent only), **exporters** (the typed exporters
and their authenticators), **user processors**, **self-telemetry** (when a namespace is set).
They are merged in that order; a fragment may add components but never redefine one
differently. The pipelines come last: one per signal some exporter takes, fed by ``otlp`` and
the typed receivers of that signal, ``memory_limiter → resource_detection (sidecar and agent)
→ user processors → batch``, plus ``metrics/self``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from otel_fargate.config.core.layers import load_layer
from otel_fargate.config.core.secrets import env_ref
from otel_fargate.config.core.sizing import Sizing
from otel_fargate.config.core.values import SIGNALS, Signal, component_type
from otel_fargate.config.exporters import RetryOnFailure, SendingQueue
from otel_fargate.config.exporters.base import helper_settings
from otel_fargate.config.model.processors import processor_signals
from otel_fargate.config.options.collector import CollectorConfigOptions
from otel_fargate.config.options.tls import exporter_tls
from otel_fargate.config.rendering.container import (
    container_fragment,
    container_pipeline,
    publish_on_dashboard,
)
from otel_fargate.config.rendering.durable import persist_queues
from otel_fargate.config.rendering.own_metrics import (
    resource_detection,
    self_telemetry,
    service_telemetry,
)
from otel_fargate.config.rendering.tiers import (
    ROUTING_EXPORTER_ID,
    exported_signals,
    exporters_in_use,
    trace_routing,
)
from otel_fargate.config.rendering.tls import gateway_tls
from otel_fargate.errors import ConfigError
from otel_fargate.names import (
    DEFAULT_GATEWAY_ENDPOINT,
    GATEWAY_AUTH_ID,
    GATEWAY_TOKEN_ENV,
    MAX_EXPORT_BATCH_BYTES,
    OTLP_GRPC_PORT,
    OTLP_HTTP_PORT,
    PPROF_ENDPOINT,
    SELF_EXPORTER_ID,
    SELF_PIPELINE_ID,
    SELF_RECEIVER_ID,
    ZPAGES_ENDPOINT,
)

#: The agent's exporter to the gateway.
GATEWAY_EXPORTER_ID = "otlp_grpc/gateway"
#: Presets whose OTLP receivers listen beyond loopback and that detect no resource.
_SHARED_TIERS = ("gateway", "sampler")

Config = dict[str, Any]
Fragment = Callable[[CollectorConfigOptions], Config]
_SECTIONS = ("extensions", "receivers", "processors", "exporters")


def base(options: CollectorConfigOptions) -> Config:
    """Health check, memory limiter, resource detection (where a pipeline uses it), batch."""
    extensions: Config = {"health_check": {"endpoint": options.health_check_endpoint, "path": "/"}}
    processors: Config = {"memory_limiter": options.sizing.memory_limiter}
    if options.preset not in _SHARED_TIERS or options.self_telemetry_namespace is not None:
        processors["resource_detection"] = resource_detection()
    if options.preset == "sampler" and options.sampling is not None:
        processors["tail_sampling"] = options.sampling.render(options.sizing)
    processors["batch"] = {"send_batch_size": 8192, "send_batch_max_size": 8192, "timeout": "200ms"}
    return {"extensions": extensions, "processors": processors}


def otlp_receivers(options: CollectorConfigOptions) -> Config:
    """OTLP on 4317/4318: loopback for sidecar and agent, every interface for a gateway; a
    sampler takes OTLP/gRPC from the routing gateway only (its security group admits nothing
    else). Requests up to ``Sizing.receive_limit_mib``, sized from the container's memory.
    """
    host = "0.0.0.0" if options.preset in _SHARED_TIERS else "127.0.0.1"
    size = options.sizing
    grpc = {"endpoint": f"{host}:{OTLP_GRPC_PORT}", "max_recv_msg_size_mib": size.receive_limit_mib}
    protocols: Config = {"grpc": grpc}
    if options.preset != "sampler":
        body = size.receive_limit_bytes
        protocols["http"] = {"endpoint": f"{host}:{OTLP_HTTP_PORT}", "max_request_body_size": body}
    return {"receivers": {"otlp": {"protocols": protocols}}}


def typed_receivers(options: CollectorConfigOptions) -> Config:
    """The typed receivers beside OTLP (sidecar and agent only), and the extensions they read."""
    extensions: Config = {}
    for receiver in options.receivers:
        extensions.update(receiver.extensions())
    return {
        "receivers": {r.component_id: r.render() for r in options.receivers},
        "extensions": extensions,
    }


def gateway_auth(options: CollectorConfigOptions) -> Config:
    """The gateway's bearer tokens on both protocols, and connection ageing on gRPC.

    The gateway accepts two tokens: the current one, which agents send, and a second one
    (the token before the last rotation, or during a rotation the next one), so that agents
    started before and after a rotation are both accepted.
    """
    from otel_fargate.names import GATEWAY_TOKEN_PREVIOUS_ENV

    if options.preset != "gateway":
        return {}
    auth = {"authenticator": GATEWAY_AUTH_ID}
    grpc = {
        "auth": auth,
        "keepalive": {"server_parameters": {"max_connection_age": options.max_connection_age}},
    }
    tokens = [env_ref(GATEWAY_TOKEN_ENV), env_ref(GATEWAY_TOKEN_PREVIOUS_ENV)]
    return {
        "extensions": {GATEWAY_AUTH_ID: {"scheme": "Bearer", "tokens": tokens}},
        "receivers": {"otlp": {"protocols": {"grpc": grpc, "http": {"auth": dict(auth)}}}},
    }


def agent_forwarding(options: CollectorConfigOptions) -> Config:
    """The agent's exporter to the gateway.

    The Service Connect hop stays inside the VPC and is plaintext gRPC unless
    ``gateway_tls`` is set (then the agent verifies the gateway with the CA). The token
    travels as the ``authorization`` header either way: the bearertokenauth client extension
    refuses to send credentials over a connection without TLS, while the gateway's
    bearertokenauth server checks the header whatever the transport.
    """
    if options.preset != "agent":
        return {}
    endpoint = options.gateway_endpoint
    endpoint = endpoint if endpoint is not None else DEFAULT_GATEWAY_ENDPOINT
    exporter = {
        "endpoint": endpoint,
        "tls": exporter_tls(options.gateway_tls, endpoint),
        "headers": {"authorization": f"Bearer {env_ref(GATEWAY_TOKEN_ENV)}"},
        **helper_settings(
            SendingQueue(), RetryOnFailure(), 10, max_batch_bytes=MAX_EXPORT_BATCH_BYTES
        ),
    }
    return {"exporters": {GATEWAY_EXPORTER_ID: exporter}}


def typed_exporters(options: CollectorConfigOptions) -> Config:
    """The typed exporters and the extensions (authenticators) they need."""
    extensions: Config = {}
    exporters: Config = {}
    for exporter in exporters_in_use(options):
        for eid, settings in exporter.extensions().items():
            if eid in extensions and extensions[eid] != settings:
                raise ConfigError(
                    f"{exporter.setting}: needs extension {eid!r}, which another exporter "
                    f"configures differently; give the exporters distinct names"
                )
            extensions[eid] = settings
        exporters[exporter.component_id] = exporter.render()
    return {"extensions": extensions, "exporters": exporters}


def debugging(options: CollectorConfigOptions) -> Config:
    """The pprof and zpages extensions, on loopback, when switched on."""
    extensions: Config = {}
    if options.pprof:
        extensions["pprof"] = {"endpoint": PPROF_ENDPOINT}
    if options.zpages:
        extensions["zpages"] = {"endpoint": ZPAGES_ENDPOINT}
    return {"extensions": extensions}


def user_processors(options: CollectorConfigOptions) -> Config:
    """The user's processors, as given."""
    given = options.processors if options.processors is not None else {}
    return {
        "processors": {
            pid: load_layer(settings, setting=f"processors.{pid}") if settings is not None else {}
            for pid, settings in given.items()
        }
    }


#: The fragments, in merge order.
FRAGMENTS: tuple[Fragment, ...] = (
    base,
    otlp_receivers,
    typed_receivers,
    gateway_auth,
    gateway_tls,
    agent_forwarding,
    trace_routing,
    typed_exporters,
    debugging,
    user_processors,
    self_telemetry,
)


def merge_fragment(config: Config, fragment: Config) -> None:
    """Add ``fragment``'s components to ``config``; a component may not change meaning."""
    for section in _SECTIONS:
        target = config.setdefault(section, {})
        for cid, settings in fragment.get(section, {}).items():
            known = target.get(cid)
            if known is None:
                target[cid] = settings
            elif isinstance(known, dict) and isinstance(settings, dict):
                target[cid] = _merge_same(known, settings, where=f"{section}.{cid}")
            elif known != settings:
                raise ConfigError(f"{section}.{cid}: two presets define it differently")


def _merge_same(base_: Config, extra: Config, *, where: str) -> Config:
    out = dict(base_)
    for key, value in extra.items():
        if key in out and isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = _merge_same(out[key], value, where=f"{where}.{key}")
        elif key in out and out[key] != value:
            raise ConfigError(f"{where}.{key}: two presets define it differently")
        else:
            out[key] = value
    return out


def routes(options: CollectorConfigOptions) -> dict[Signal, list[str]]:
    """Exporter ids by the signal they take, in rendering order."""
    found: dict[Signal, list[str]] = {signal: [] for signal in SIGNALS}
    if options.preset == "agent":
        for signal in options.effective_forward_signals:
            found[signal].append(GATEWAY_EXPORTER_ID)
    if options.preset == "gateway" and options.trace_routing is not None:
        found["traces"].append(ROUTING_EXPORTER_ID)
    exported = exported_signals(options)
    for exporter in exporters_in_use(options):
        for signal in exporter.signals:
            if signal in exported:
                found[signal].append(exporter.component_id)
    return found


def _chain(options: CollectorConfigOptions, signal: Signal) -> list[str]:
    """The processors of one signal's pipeline: presets first and last, the user's processors
    that serve ``signal`` between.
    """
    chain = ["memory_limiter"]
    if options.preset not in _SHARED_TIERS:
        chain.append("resource_detection")
    user = options.processors if options.processors is not None else {}
    chain.extend(pid for pid in user if signal in processor_signals(component_type(pid)))
    if options.preset == "sampler":
        chain.append("tail_sampling")
    chain.append("batch")
    return chain


def _receivers_of(options: CollectorConfigOptions, signal: Signal) -> list[str]:
    return [r.component_id for r in options.receivers if signal in r.signals]


def _check_receivers_served(options: CollectorConfigOptions, out: Config) -> None:
    """Every typed receiver's signals have a pipeline: refused rather than received and lost
    (the collector would not start with a receiver in no pipeline's use either way).
    """
    for receiver in options.receivers:
        missing = ", ".join(signal for signal in receiver.signals if signal not in out)
        if missing:
            agent = options.preset == "agent"
            takes = "no exporter or forwarded signal" if agent else "no exporter"
            raise ConfigError(
                f"{receiver.setting}: feeds {', '.join(receiver.signals)}, but this collector "
                f"has no {missing} pipeline ({takes} takes {missing}; pipelines: "
                f"{', '.join(out) or 'none'}); add an exporter of {missing} or drop the "
                f"receiver, got {receiver.component_id}"
            )


def pipelines(options: CollectorConfigOptions) -> Config:
    """One pipeline per signal some exporter takes, plus ``metrics/self``.

    A user processor goes into the pipelines of the signals it serves; one that serves none
    of them is refused.
    """
    out: Config = {
        signal: {
            "receivers": ["otlp", *_receivers_of(options, signal)],
            "processors": _chain(options, signal),
            "exporters": exporters,
        }
        for signal, exporters in routes(options).items()
        if exporters
    }
    _check_receivers_served(options, out)
    for pid in options.processors if options.processors is not None else {}:
        if not any(pid in pipeline["processors"] for pipeline in out.values()):
            served = ", ".join(processor_signals(component_type(pid)))
            raise ConfigError(
                f"processors.{pid}: serves {served} only, and this collector has no pipeline "
                f"for it (pipelines: {', '.join(out) or 'none'})"
            )
    if options.self_telemetry_namespace is not None:
        out[SELF_PIPELINE_ID] = {
            "receivers": [SELF_RECEIVER_ID],
            "processors": ["resource_detection", "batch"],
            "exporters": [SELF_EXPORTER_ID],
        }
    return out


def size_queues(config: Config, sizing: Sizing, settings: Iterable[tuple[str, str]]) -> None:
    """Give every exporter queue without a size the container's byte budget; refuse larger."""
    for eid, setting in settings:
        block = config["exporters"][eid]
        queue = block.get("sending_queue")
        if not isinstance(queue, dict):
            continue
        size = queue.get("queue_size")
        if size is None:
            block["sending_queue"] = {**queue, "queue_size": sizing.queue_bytes}
        elif size > sizing.queue_bytes:
            raise ConfigError(
                f"{setting}.queue.queue_size: at most the memory_limiter hard limit of a "
                f"{sizing.memory_mib} MiB container ({sizing.queue_bytes} bytes, "
                f"{sizing.limit_mib} MiB) fits, got {size}"
            )


def build_preset(options: CollectorConfigOptions) -> Config:
    """The preset's configuration filled in from ``options`` (before overrides)."""
    config: Config = {}
    for fragment in FRAGMENTS:
        merge_fragment(config, fragment(options))
    metrics_exporters = routes(options)["metrics"]
    merge_fragment(config, container_fragment(options, metrics_exporters))
    publish_on_dashboard(config, options)
    queues = [(e.component_id, e.setting) for e in exporters_in_use(options)]
    if options.preset == "agent":
        queues.insert(0, (GATEWAY_EXPORTER_ID, f"exporters.{GATEWAY_EXPORTER_ID}"))
    if ROUTING_EXPORTER_ID in config["exporters"]:
        queues.insert(0, (ROUTING_EXPORTER_ID, f"exporters.{ROUTING_EXPORTER_ID}"))
    size_queues(config, options.sizing, queues)
    # batch reads last in the YAML, as it runs last in every pipeline
    config["processors"]["batch"] = config["processors"].pop("batch")
    if options.persistent_queues:
        persist_queues(config, directory=options.queue_directory)
    config = {section: config[section] for section in _SECTIONS if config.get(section)}
    config["service"] = {
        "extensions": list(config.get("extensions", {})),
        "pipelines": {**pipelines(options), **container_pipeline(config, metrics_exporters)},
        "telemetry": service_telemetry(options),
    }
    return config
