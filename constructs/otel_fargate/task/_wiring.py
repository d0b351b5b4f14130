"""Steps the sidecar and the gateway share: options to configuration, and monitoring."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Annotations, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct

from otel_fargate.checks import fail
from otel_fargate.config import CollectorConfigOptions, Exporter, RenderedConfig, render
from otel_fargate.config.core.values import component_type
from otel_fargate.config.options.collector import Preset
from otel_fargate.config.rendering.render import with_environment
from otel_fargate.monitoring import CollectorMonitoring, monitor_collector
from otel_fargate.monitoring.gates import gate_service
from otel_fargate.names import SELF_PIPELINE_ID, self_telemetry_log_group
from otel_fargate.task.options import CollectorOptions
from otel_fargate.task.synth import services_gated_by


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


def gateway_forwarding(gateway: Any) -> dict[str, Any]:
    """The rendering options of an agent of ``gateway`` (a ``CollectorGateway`` or None): it
    forwards exactly the signals the gateway accepts over OTLP, over TLS when the gateway
    serves it.
    """
    if gateway is None:
        return {}
    tls = gateway.tls.agent_options() if gateway.tls is not None else None
    return {"forward_signals": gateway.rendered_config.otlp_signals, "gateway_tls": tls}


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
    """The configuration options of one collector and its rendered configuration, every layer
    checked against the components of the collector's image.
    """
    config_options = CollectorConfigOptions(
        preset=preset,
        exporters=exporters,
        memory_mib=memory_mib,
        cpu_units=cpu,
        environment_name=environment,
        service_name=service,
        processors=options.processors,
        receivers=tuple(options.receivers),
        container_metrics=options.container_metrics,
        overrides=options.config_overrides,
        replacement=options.config_replacement,
        self_telemetry_namespace=options.self_telemetry_namespace,
        self_telemetry_log_group=self_telemetry_log_group(environment, service),
        self_telemetry_retention_days=options.log_retention_days,
        stop_timeout_seconds=options.stop_timeout_seconds,
        secrets=tuple(options.secrets),
        environment=dict(options.environment),
        persistent_queues=options.resolved_persistent_queues,
        existing_log_groups=tuple(options.existing_log_groups),
        allow_open_listeners=options.allow_open_listeners,
        allow_unauthenticated_gateway=options.allow_unauthenticated_gateway,
        components=options.resolved_image.components,
        image_description=f"the {options.resolved_image.description}",
        **extra,
    )
    return config_options, render(config_options)


def self_metrics_namespace(config: Mapping[str, Any]) -> str | None:
    """The CloudWatch namespace the final configuration publishes the collector's own metrics
    into (its ``metrics/self`` pipeline to an ``awsemf`` exporter), or None when it does not.
    """
    service = config.get("service") or {}
    pipeline = (service.get("pipelines") or {}).get(SELF_PIPELINE_ID) or {}
    for eid in pipeline.get("exporters") or []:
        settings = (config.get("exporters") or {}).get(eid) or {}
        if component_type(eid) == "awsemf" and isinstance(settings.get("namespace"), str):
            return str(settings["namespace"])
    return None


def monitoring_for(
    scope: Construct,
    options: CollectorOptions,
    rendered: RenderedConfig,
    *,
    gated_task_definition: ecs.TaskDefinition | None = None,
    **props: Any,
) -> CollectorMonitoring | None:
    """The collector's dashboard and alarms, unless ``options.monitoring`` is off or the
    final configuration publishes no metrics they could read (then a synth warning says so:
    alarms that can never see data would stay green forever); and the deployment gates of
    the ``service`` in ``props`` (gateway, samplers) or of the services that run
    ``gated_task_definition`` (sidecar), when ``deployment_rollback`` is on for the role.
    """
    rollback = options.rollback(default=not props.get("sidecar", False))
    monitoring = _monitoring(scope, options, rendered, deployment_gates=rollback, **props)
    if rollback:
        gate_deployments(
            scope,
            options,
            monitoring,
            service=props.get("service"),
            task_definition=gated_task_definition,
        )
    return monitoring


def in_task_monitoring(
    scope: Construct,
    options: CollectorOptions,
    rendered: RenderedConfig,
    *,
    environment_name: str,
    service_name: str,
    memory_limit_mib: int,
    log_group: logs.ILogGroup,
    task_definition: ecs.TaskDefinition,
) -> CollectorMonitoring | None:
    """The dashboard and alarms of a collector inside an app's task (a sidecar, an agent or an
    embedded collector): crashes counted from its log group, gates on the app's services.
    """
    return monitoring_for(
        scope,
        options,
        rendered,
        environment_name=environment_name,
        service_name=service_name,
        memory_limit_mib=memory_limit_mib,
        sidecar=True,
        collector_log_group=log_group,
        gated_task_definition=task_definition,
    )


def _monitoring(
    scope: Construct, options: CollectorOptions, rendered: RenderedConfig, **props: Any
) -> CollectorMonitoring | None:
    if not options.monitoring:
        return None
    # the namespace as the collector will see it: plain variables filled in, as for the IAM
    namespace = self_metrics_namespace(with_environment(rendered.config, rendered.environment))
    if namespace is None:
        Annotations.of(scope).add_warning_v2(
            "otel-fargate:monitoring-without-metrics",
            "monitoring: the collector configuration publishes none of the collector's own "
            "metrics to CloudWatch (self_telemetry_namespace is None, or the replacement or "
            "overrides have no metrics/self pipeline to awsemf), so no dashboard or alarm is "
            "created; pass monitoring=False to silence this.",
        )
        return None
    return monitor_collector(
        scope,
        rendered_config=rendered.config,
        namespace=namespace,
        alarm_topic=options.alarm_topic,
        **props,
    )


def gate_deployments(
    scope: Construct,
    options: CollectorOptions,
    monitoring: CollectorMonitoring | None,
    *,
    service: ecs.BaseService | None = None,
    task_definition: ecs.TaskDefinition | None = None,
) -> list[cloudwatch.IAlarm]:
    """Gate the deployments of ``service`` (or of every service that runs
    ``task_definition``, wherever it is created) on the collector's deployment gates and the
    user's ``deployment_alarms``.
    """
    gates = monitoring.deployment_gates.values() if monitoring is not None else ()
    alarms: list[cloudwatch.IAlarm] = [*gates, *options.deployment_alarms]
    if not alarms:
        Annotations.of(scope).add_warning_v2(
            "otel-fargate:rollback-without-gates",
            "deployment_rollback: no deployment gate exists (monitoring is off or publishes "
            "nothing, and deployment_alarms is empty), so only the circuit breaker rolls "
            "deployments back; pass deployment_alarms=[...], or deployment_rollback=False to "
            "silence this.",
        )
        return []
    if service is not None:
        gate_service(service, alarms)
    if task_definition is not None:
        services_gated_by(task_definition, alarms)
    return alarms
