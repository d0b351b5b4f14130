"""Steps the sidecar and the gateway share: options to configuration, and monitoring."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Stack
from constructs import Construct

from .checks import fail
from .collector_options import CollectorOptions
from .config import CollectorConfigOptions, Exporter, RenderedConfig, render
from .config.options import Preset
from .monitoring import CollectorMonitoring, monitor_collector
from .names import self_telemetry_log_group


def exporter_tuple(value: Exporter | Sequence[Exporter] | None) -> tuple[Exporter, ...]:
    """``exporters`` as a tuple: one exporter or a sequence of them."""
    if value is None:
        return ()
    if isinstance(value, Exporter):
        return (value,)
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise fail("exporters", "must be an exporter or a list of exporters", value)
    return tuple(value)


def environment_name(scope: Construct, options: CollectorOptions) -> str:
    """``options.environment_name``, or the stack name."""
    name = options.environment_name
    return name if name is not None else Stack.of(scope).stack_name


def render_collector(
    options: CollectorOptions,
    *,
    preset: Preset,
    exporters: tuple[Exporter, ...],
    environment: str,
    service: str,
    memory_mib: int,
    cpu: int,
    **extra: Any,
) -> tuple[CollectorConfigOptions, RenderedConfig]:
    """The configuration options of one collector and its rendered configuration."""
    config_options = CollectorConfigOptions(
        preset=preset,
        exporters=exporters,
        memory_mib=memory_mib,
        cpu_units=cpu,
        environment_name=environment,
        service_name=service,
        processors=options.processors,
        overrides=options.config_overrides,
        replacement=options.config_replacement,
        self_telemetry_namespace=options.self_telemetry_namespace,
        self_telemetry_log_group=self_telemetry_log_group(environment, service),
        stop_timeout_seconds=options.stop_timeout_seconds,
        **extra,
    )
    return config_options, render(config_options)


def monitoring_for(
    scope: Construct,
    options: CollectorOptions,
    rendered: RenderedConfig,
    **props: Any,
) -> CollectorMonitoring | None:
    """The collector's dashboard and alarms, unless ``options.monitoring`` is off."""
    if not options.monitoring:
        return None
    return monitor_collector(
        scope,
        rendered_config=rendered.config,
        namespace=options.self_telemetry_namespace,
        alarm_topic=options.alarm_topic,
        **props,
    )
