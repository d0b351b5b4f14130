"""The typed options a collector configuration is rendered from."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from otel_fargate.checks import check_bool, check_choice, fail
from otel_fargate.config.core.durations import parse_duration
from otel_fargate.config.core.secrets import SecretRef
from otel_fargate.config.core.sizing import Sizing, size_for
from otel_fargate.config.core.values import SIGNALS, Signal, check_signals, split_host_port
from otel_fargate.config.exporters import Exporter
from otel_fargate.config.model.components import ComponentSet
from otel_fargate.config.options.checks import (
    check_environment,
    check_exporters,
    check_processors,
    check_self_telemetry,
    check_stop_timeout,
)
from otel_fargate.config.options.tls import GatewayTlsOptions, check_gateway_tls
from otel_fargate.config.receivers.container_metrics import (
    ContainerMetrics,
    check_container_metrics,
)
from otel_fargate.config.receivers.typed import Receiver, check_receivers
from otel_fargate.config.sampling.tier import TailSampling, TraceRouting, check_tiers
from otel_fargate.errors import ConfigError
from otel_fargate.names import (
    DEFAULT_GATEWAY_ENDPOINT,
    DEFAULT_HEALTH_CHECK_ENDPOINT,
    MAX_STOP_TIMEOUT_SECONDS,
    QUEUE_DIRECTORY,
    self_telemetry_log_group,
)
from otel_fargate.names import SELF_TELEMETRY_NAMESPACE as DEFAULT_SELF_TELEMETRY_NAMESPACE

__all__ = [
    "DEFAULT_GATEWAY_ENDPOINT",
    "DEFAULT_HEALTH_CHECK_ENDPOINT",
    "DEFAULT_SELF_TELEMETRY_NAMESPACE",
    "PRESETS",
    "CollectorConfigOptions",
    "Preset",
    "check_stop_timeout",
    "split_host_port",
]

Preset = Literal["sidecar", "agent", "gateway", "sampler"]

#: The presets ``render`` knows.
PRESETS: tuple[Preset, ...] = ("sidecar", "agent", "gateway", "sampler")

#: Processors the presets own; user processors may not reuse these ids.
RESERVED_PROCESSORS = frozenset(
    {"memory_limiter", "resource_detection", "resourcedetection", "batch"}
)

_LOG_LEVELS = ("debug", "info", "warn", "error")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True, kw_only=True)
class CollectorConfigOptions:
    """Everything ``render`` needs to build one collector configuration.

    Attributes:
        preset: ``"sidecar"`` (receive on localhost, export to the backends directly),
            ``"agent"`` (receive on localhost, forward to the gateway with a bearer token)
            ``"gateway"`` (receive from the VPC with bearer-token auth, export to the
            backends) or ``"sampler"`` (receive traces from a routing gateway, decide with
            ``tail_sampling``, export the kept ones). Required.
        exporters: the backends. Required (at least one) for sidecar and gateway; must be
            empty for the agent, which forwards everything to the gateway and lets the
            gateway export. Two exporters of one type need distinct names.
        receivers: typed receivers beside OTLP, each in the pipelines of its signals
            (``XRayDaemonReceiver``); sidecar and agent only, on loopback. A receiver
            whose signal has no pipeline (no exporter, or for an agent no forwarded signal,
            takes it) is refused; default: OTLP only.
        container_metrics: task and container metrics from the task metadata endpoint
            (:class:`~otel_fargate.config.receivers.container_metrics.ContainerMetrics`), in a
            ``metrics/container`` pipeline to the metrics exporters; default: on for the
            sidecar and agent when something takes metrics and the image has the receiver and
            the filter and resource processors (eight metrics: the task's CPU, memory and
            ephemeral storage, each container's CPU and memory), off elsewhere.
        memory_mib: the collector container's memory; sizes memory_limiter and GOMEMLIMIT;
            default: 512 MiB.
        cpu_units: the collector container's CPU (1024 = 1 vCPU); sizes GOMAXPROCS;
            default: 256.
        environment_name: the otel-fargate environment, a CloudWatch dimension of the
            collector's own metrics; default: ``"default"``.
        service_name: the service the collector serves (the app for a sidecar/agent, the
            gateway's own name for a gateway), the other dimension; default:
            ``"otel-collector"``.
        gateway_endpoint: agent only: where the gateway listens; default:
            ``otel-gateway:4317`` (the Service Connect alias). Plaintext gRPC inside the VPC
            unless ``gateway_tls`` is set, authenticated with the bearer token sent as the
            ``authorization`` header.
        gateway_tls: agent, gateway and sampler only: TLS on the agent → gateway hop and,
            with ``trace_routing``, on the gateway → sampler hop, where the samplers serve
            the gateway's certificate
            (:class:`~otel_fargate.config.options.tls.GatewayTlsOptions`); default: off.
        health_check_endpoint: where the health_check extension listens; the probe checks
            ``http://<host>/`` (``127.0.0.1`` when the host is ``0.0.0.0``); default:
            ``127.0.0.1:13133``, reachable from inside the container only. A gateway behind
            a Network Load Balancer uses ``0.0.0.0:13133``.
        processors: user processors by id (``attributes/redact``), inserted in every
            telemetry pipeline after memory_limiter and resource_detection and before batch,
            in mapping order; default: none.
        overrides: a mapping or YAML text deep-merged over the rendered configuration
            (mappings merge, lists and scalars replace); default: none.
        replacement: a complete configuration (mapping or YAML text) used instead of the
            rendered one, still validated; default: the rendered configuration.
        secrets: secrets that overrides or a replacement reference as ``${env:NAME}``;
            default: none (exporter secrets are collected from the exporters).
        environment: plain (non-secret) environment variables of the collector container that
            overrides or a replacement reference as ``${env:NAME}``; default: none.
        self_telemetry_namespace: CloudWatch namespace of the collector's own metrics;
            ``None`` keeps them local (Prometheus on 127.0.0.1:8888 only); default:
            ``OtelFargate/Collector``.
        self_telemetry_log_group: log group of the EMF events carrying those metrics;
            default: ``/otel-fargate/<environment_name>/collector-metrics``.
        self_telemetry_retention_days: retention of that log group when the exporter
            creates it; default: 30 days.
        self_telemetry_interval_seconds: how often own metrics are pushed; default: 60 s.
        log_level: the collector's log level; default: ``info``.
        pprof: enable the pprof extension on 127.0.0.1:1777; default: off.
        zpages: enable the zpages extension on 127.0.0.1:55679; default: off.
        stop_timeout_seconds: the container's stop timeout; every exporter's retries plus
            timeout must fit inside it; default: 120 s (Fargate's maximum).
        max_connection_age: gateway only: gRPC connections are closed after this long so
            clients rebalance onto new tasks; default: ``60s``.
        existing_log_groups: log groups the exporters write that exist already (created
            outside this configuration, e.g. by an earlier ADOT deployment): nobody creates
            them, and the collector is not allowed to; default: those of exporters built with
            ``log_group_exists=True``.
        persistent_queues: keep every exporter's sending queue on disk (``file_storage`` in
            ``queue_directory``) so a restarted collector container resumes sending what it
            held; default: in memory (the constructs switch it on for the bundled images).
        queue_directory: where persistent queues live; default: ``/var/lib/otelcol/queue``.
        allow_open_listeners: let overrides or a replacement bind listeners beyond loopback
            (a sidecar's or agent's receivers, any zpages, pprof or own-metrics endpoint);
            default: refused after every layer.
        allow_unauthenticated_gateway: let overrides or a replacement remove the gateway
            receivers' authenticator; default: refused after every layer.
        forward_signals: agent only: the signals the agent receives and forwards, which must
            be the signals its gateway accepts (a signal the gateway has no pipeline for is
            refused there, permanently); default: traces, metrics and logs.
        components: the component types of the image that runs the collector; every layer
            naming another type is refused (a deprecated id of a renamed type counts as the
            type); default: ``None``, not checked. The constructs pass their image's.
        image_description: how error messages name that image; default: ``"the image"``.
        sampling: sampler only, and required there: the tail-sampling policies and sizing
            (:class:`~otel_fargate.config.sampling.tier.TailSampling`). The sampler keeps only
            the exporters that take traces.
        trace_routing: gateway only: route traces by trace id to the samplers
            (:class:`~otel_fargate.config.sampling.tier.TraceRouting`) instead of to the trace
            exporters, which the samplers own; default: traces go to the exporters.
    """

    preset: Preset
    exporters: Sequence[Exporter] = ()
    receivers: Sequence[Receiver] = ()
    container_metrics: ContainerMetrics | None = None
    memory_mib: int = 512
    cpu_units: int = 256
    environment_name: str = "default"
    service_name: str = "otel-collector"
    gateway_endpoint: str | None = None
    gateway_tls: GatewayTlsOptions | None = None
    health_check_endpoint: str = DEFAULT_HEALTH_CHECK_ENDPOINT
    processors: Mapping[str, Mapping[str, Any] | None] | None = None
    overrides: Mapping[str, Any] | str | None = None
    replacement: Mapping[str, Any] | str | None = None
    secrets: Sequence[SecretRef] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    self_telemetry_namespace: str | None = DEFAULT_SELF_TELEMETRY_NAMESPACE
    self_telemetry_log_group: str | None = None
    self_telemetry_retention_days: int = 30
    self_telemetry_interval_seconds: int = 60
    log_level: Literal["debug", "info", "warn", "error"] = "info"
    pprof: bool = False
    zpages: bool = False
    stop_timeout_seconds: int = MAX_STOP_TIMEOUT_SECONDS
    max_connection_age: str = "60s"
    existing_log_groups: Sequence[str] = ()
    persistent_queues: bool = False
    queue_directory: str = QUEUE_DIRECTORY
    allow_open_listeners: bool = False
    allow_unauthenticated_gateway: bool = False
    forward_signals: tuple[Signal, ...] | None = None
    components: ComponentSet | None = None
    image_description: str = "the image"
    sampling: TailSampling | None = None
    trace_routing: TraceRouting | None = None
    sizing: Sizing = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ConfigError(f"preset: must be one of {', '.join(PRESETS)}, got {self.preset!r}")
        object.__setattr__(
            self, "sizing", size_for(memory_mib=self.memory_mib, cpu_units=self.cpu_units)
        )
        object.__setattr__(self, "exporters", tuple(self.exporters))
        object.__setattr__(self, "secrets", tuple(self.secrets))
        object.__setattr__(self, "receivers", tuple(self.receivers))
        object.__setattr__(
            self,
            "existing_log_groups",
            tuple(
                dict.fromkeys(
                    [
                        *self.existing_log_groups,
                        *(
                            str(getattr(e, "log_group_name", ""))
                            for e in self.exporters
                            if getattr(e, "log_group_exists", False)
                        ),
                    ]
                )
            ),
        )
        self._check_names()
        check_exporters(self.exporters, preset=self.preset, replacement=self.replacement)
        check_receivers(self.receivers, preset=self.preset, replacement=self.replacement)
        check_container_metrics(self.container_metrics, preset=self.preset)
        self._check_endpoints()
        check_processors(self.processors, reserved=RESERVED_PROCESSORS)
        self._check_layers()
        check_self_telemetry(
            namespace=self.self_telemetry_namespace,
            log_group=self.self_telemetry_log_group,
            retention_days=self.self_telemetry_retention_days,
            interval_seconds=self.self_telemetry_interval_seconds,
        )
        self._check_shutdown()
        self._check_forwarding()
        check_gateway_tls(self.gateway_tls, preset=self.preset)
        object.__setattr__(self, "environment", check_environment(self.environment))
        self._check_image()
        check_tiers(self.preset, self.sampling, self.trace_routing, self.exporters, self.sizing)
        for index, secret in enumerate(self.secrets):
            if not isinstance(secret, SecretRef):
                raise fail(f"secrets[{index}]", "must be a SecretRef", secret, error=ConfigError)
        check_choice("log_level", self.log_level, _LOG_LEVELS, error=ConfigError)
        for flag in (
            "pprof",
            "zpages",
            "persistent_queues",
            "allow_open_listeners",
            "allow_unauthenticated_gateway",
        ):
            check_bool(flag, getattr(self, flag), error=ConfigError)

    def _check_image(self) -> None:
        if self.components is not None and not isinstance(self.components, ComponentSet):
            raise fail(
                "components", "must be a ComponentSet or None", self.components, error=ConfigError
            )
        if not isinstance(self.image_description, str) or not self.image_description.strip():
            raise fail(
                "image_description",
                "must be a non-empty string",
                self.image_description,
                error=ConfigError,
            )

    def _check_names(self) -> None:
        for setting in ("environment_name", "service_name"):
            value = getattr(self, setting)
            if not isinstance(value, str) or not _LABEL.fullmatch(value):
                raise ConfigError(
                    f"{setting}: must be a non-empty name matching {_LABEL.pattern}, got {value!r}"
                )

    def _check_endpoints(self) -> None:
        split_host_port(self.health_check_endpoint, setting="health_check_endpoint")
        if self.gateway_endpoint is not None:
            if self.preset != "agent":
                raise ConfigError(
                    f"gateway_endpoint: only the agent preset forwards to a gateway, "
                    f"got {self.gateway_endpoint!r} with preset {self.preset!r}"
                )
            split_host_port(self.gateway_endpoint, setting="gateway_endpoint")
        seconds = parse_duration(self.max_connection_age, setting="max_connection_age")
        if seconds <= 0:
            raise ConfigError(
                f"max_connection_age: must be a positive duration, got {self.max_connection_age!r}"
            )

    def _check_layers(self) -> None:
        for setting in ("overrides", "replacement"):
            value = getattr(self, setting)
            if value is not None and not isinstance(value, Mapping | str):
                raise ConfigError(
                    f"{setting}: must be a mapping or YAML text, got {type(value).__name__}"
                )
        if self.overrides is not None and self.replacement is not None:
            raise ConfigError(
                "overrides: cannot be combined with replacement (the replacement is the "
                "whole configuration; put the changes in it)"
            )

    def _check_shutdown(self) -> None:
        stop = check_stop_timeout(self.stop_timeout_seconds, error=ConfigError)
        for exporter in self.exporters:
            drain = exporter.drain_seconds()
            if drain >= stop:
                raise ConfigError(
                    f"{exporter.setting}: retries plus timeout take up to {drain:g}s, which "
                    f"must be shorter than stop_timeout_seconds={stop} so nothing is cut off "
                    f"at shutdown"
                )

    def _check_forwarding(self) -> None:
        signals = self.forward_signals
        if signals is None:
            return
        if self.preset != "agent":
            raise fail(
                "forward_signals",
                f"only the agent preset forwards to a gateway (preset {self.preset!r})",
                signals,
                error=ConfigError,
            )
        object.__setattr__(self, "forward_signals", tuple(signals))
        if not self.forward_signals:
            raise fail(
                "forward_signals",
                "the gateway accepts no signal over OTLP, so the agent has nothing to forward",
                signals,
                error=ConfigError,
            )
        check_signals(self.forward_signals, setting="forward_signals")

    @property
    def effective_forward_signals(self) -> tuple[Signal, ...]:
        """The signals an agent forwards: ``forward_signals`` or every signal."""
        return self.forward_signals if self.forward_signals is not None else SIGNALS

    @property
    def effective_container_metrics(self) -> ContainerMetrics | None:
        """The container metrics the preset collects: given, or the default for a sidecar or
        an agent; None when they are off (the pipelines decide whether they have a route).
        """
        chosen = self.container_metrics
        if chosen is None and self.preset in ("sidecar", "agent") and self.replacement is None:
            chosen = ContainerMetrics() if self._image_runs_container_metrics() else None
        return chosen if chosen is not None and chosen.enabled else None

    def _image_runs_container_metrics(self) -> bool:
        """Whether the image has what the default container metrics render (or is unknown)."""
        if self.components is None:
            return True
        return "awsecscontainermetrics" in self.components.of_kind("receivers") and {
            "filter",
            "resource",
        } <= self.components.of_kind("processors")

    @property
    def effective_gateway_endpoint(self) -> str:
        """The gateway address the agent forwards to."""
        return (
            self.gateway_endpoint
            if self.gateway_endpoint is not None
            else (DEFAULT_GATEWAY_ENDPOINT)
        )

    @property
    def effective_self_telemetry_log_group(self) -> str:
        """The log group of the collector's own metrics."""
        if self.self_telemetry_log_group is not None:
            return self.self_telemetry_log_group
        return self_telemetry_log_group(self.environment_name)

    @property
    def health_check_url(self) -> str:
        """The URL the probe checks: the health_check endpoint, ``0.0.0.0`` → ``127.0.0.1``."""
        host, port = split_host_port(self.health_check_endpoint, setting="health_check_endpoint")
        if host in ("0.0.0.0", "[::]"):
            host = "127.0.0.1"
        return f"http://{host}:{port}/"
