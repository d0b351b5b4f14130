"""A collector sidecar inside an application's Fargate task definition."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aws_cdk import Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_sns as sns
from constructs import Construct

from .config import CollectorConfigOptions, RenderedConfig, render
from .container import (
    COLLECTOR_CONTAINER_NAME,
    MAX_STOP_TIMEOUT_SECONDS,
    HealthCheckTiming,
    add_collector,
)
from .errors import OtelFargateError
from .image import CollectorImage
from .monitoring import CollectorMonitoring, monitor_collector

if TYPE_CHECKING:
    from .gateway import CollectorGateway

#: Environment variable names that the sidecar sets on application containers.
OTEL_ENV_NAMES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_PROPAGATORS",
    "OTEL_TRACES_EXPORTER",
    "OTEL_METRICS_EXPORTER",
    "OTEL_LOGS_EXPORTER",
)

_APP_PROTOCOLS = {"http/protobuf": 4318, "grpc": 4317}


def _fail(setting: str, message: str, value: object) -> OtelFargateError:
    return OtelFargateError(f"{setting}: {message}, got {value!r}")


class CollectorSidecar(Construct):
    """The collector as a sidecar container in an existing Fargate task definition.

    Standalone (no ``gateway``) it receives OTLP on ``127.0.0.1:4317/4318`` and exports
    straight to ``exporters``. With ``gateway`` it runs the ``agent`` preset and forwards
    everything to the gateway through Service Connect (``otel-gateway:4317``), authenticating
    with the gateway's bearer token.

    Application containers passed in ``app_containers`` (or later to :meth:`wire_app_container`)
    get the OTLP environment variables and start only after the collector is ``HEALTHY``, so ECS
    starts the collector first and stops it last.

    :param task_definition: the application's task definition; must use ``awsvpc`` networking
        and be Fargate-compatible.
    :param app_containers: containers to wire to the collector. Default: none.
    :param gateway: forward to this gateway (agent mode). Default: export directly (sidecar mode).
    :param exporters: exporters (``otel_fargate.config``) in sidecar mode. Default: none, which
        sidecar mode refuses; agent mode refuses any, because the gateway exports (so backend
        credentials and permissions live in one place).
    :param environment_name: goes into resource attributes and metric dimensions.
        Default: the stack name.
    :param service_name: name of the collector's service in its own metrics and resource
        attributes. Default: the task definition's family.
    :param cpu: CPU units reserved for the collector (1024 = 1 vCPU). Default: 256.
    :param memory_mib: hard memory limit of the collector container; the memory limiter and
        ``GOMEMLIMIT`` are sized from it. Default: 512.
    :param image: the collector image. Default: ``CollectorImage.bundled()``.
    :param health_check: run the ECS health check with the image's probe. Default: on; an image
        without a probe must switch it off, and then app containers wait for ``START`` only.
    :param health_check_timing: health-check timing. Default: ``HealthCheckTiming()``.
    :param app_protocol: OTLP protocol that apps use, ``http/protobuf`` (port 4318) or ``grpc``
        (port 4317). Default: ``http/protobuf``, the OpenTelemetry SDKs' default.
    :param essential: whether the task stops when the collector stops. Default: ``False``; the
        container restart policy restarts a crashed collector and the app keeps running.
    :param restart_attempt_period_seconds: the restart policy's attempt period (60-1800 s), or
        ``None`` to switch the restart policy off. Default: 60.
    :param stop_timeout_seconds: time the collector gets to flush on stop (Fargate max 120 s);
        exporter retries are bounded to fit. Default: 120.
    :param log_retention_days: retention of the collector's own log group. Default: 30.
    :param processors: extra processors, as in ``CollectorConfigOptions``. Default: none.
    :param config_overrides: deep-merged into the rendered config. Default: none.
    :param config_replacement: replaces the rendered config (validated). Default: none.
    :param self_telemetry_namespace: CloudWatch namespace for the collector's own metrics, or
        ``None`` to keep them local. Default: ``OtelFargate/Collector``.
    :param alarm_topic: SNS topic for the alarms. Default: alarms have no actions.
    :param monitoring: a dashboard and alarms for this collector (``CollectorMonitoring`` with
        ``sidecar=True``): export failures, queue, refusals, memory, and collector crashes
        counted from its log. Default: on.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        task_definition: ecs.TaskDefinition,
        app_containers: Sequence[ecs.ContainerDefinition] = (),
        gateway: CollectorGateway | None = None,
        exporters: Sequence[Any] = (),
        environment_name: str | None = None,
        service_name: str | None = None,
        cpu: int = 256,
        memory_mib: int = 512,
        image: CollectorImage | None = None,
        health_check: bool = True,
        health_check_timing: HealthCheckTiming | None = None,
        app_protocol: str = "http/protobuf",
        essential: bool = False,
        restart_attempt_period_seconds: int | None = 60,
        stop_timeout_seconds: int = MAX_STOP_TIMEOUT_SECONDS,
        log_retention_days: int = 30,
        processors: Mapping[str, Any] | None = None,
        config_overrides: Mapping[str, Any] | None = None,
        config_replacement: Mapping[str, Any] | str | None = None,
        self_telemetry_namespace: str | None = "OtelFargate/Collector",
        alarm_topic: sns.ITopic | None = None,
        monitoring: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self._validate_task_definition(task_definition)
        if app_protocol not in _APP_PROTOCOLS:
            raise _fail("app_protocol", "must be 'http/protobuf' or 'grpc'", app_protocol)
        if restart_attempt_period_seconds is not None and not (
            60 <= restart_attempt_period_seconds <= 1800
        ):
            raise _fail(
                "restart_attempt_period_seconds",
                "ECS accepts 60 to 1800 seconds (or None to switch restarts off)",
                restart_attempt_period_seconds,
            )
        if not 2 <= stop_timeout_seconds <= MAX_STOP_TIMEOUT_SECONDS:
            raise _fail(
                "stop_timeout_seconds",
                f"Fargate accepts 2 to {MAX_STOP_TIMEOUT_SECONDS} seconds",
                stop_timeout_seconds,
            )
        if gateway is None and not exporters and config_replacement is None:
            raise _fail(
                "exporters",
                "a sidecar without a gateway needs at least one exporter",
                tuple(exporters),
            )
        self._check_fits(task_definition, cpu, memory_mib)

        self.task_definition = task_definition
        self.gateway = gateway
        self.app_protocol = app_protocol
        self.environment_name = (
            environment_name if environment_name is not None else Stack.of(self).stack_name
        )
        self.service_name = service_name if service_name is not None else task_definition.family
        image = image if image is not None else CollectorImage.bundled()
        timing = health_check_timing if health_check_timing is not None else HealthCheckTiming()

        self.config_options = CollectorConfigOptions(
            preset="agent" if gateway is not None else "sidecar",
            exporters=tuple(exporters),
            memory_mib=memory_mib,
            cpu_units=cpu,
            environment_name=self.environment_name,
            service_name=self.service_name,
            processors=processors,
            overrides=config_overrides,
            replacement=config_replacement,
            self_telemetry_namespace=self_telemetry_namespace,
            self_telemetry_log_group=(
                f"/otel-fargate/{self.environment_name}/{self.service_name}/collector-metrics"
            ),
            stop_timeout_seconds=stop_timeout_seconds,
        )
        self.rendered_config: RenderedConfig = render(self.config_options)

        self.health_check = health_check
        parts = add_collector(
            self,
            task_definition=task_definition,
            rendered=self.rendered_config,
            image=image,
            health_check=health_check,
            timing=timing,
            cpu=cpu,
            memory_mib=memory_mib,
            log_retention_days=log_retention_days,
            stop_timeout_seconds=stop_timeout_seconds,
            essential=essential,
            restart_attempt_period_seconds=restart_attempt_period_seconds,
            extra_secrets=gateway.token_ecs_secret() if gateway is not None else {},
        )
        self.container = parts.container
        self.log_group = parts.log_group
        self.export_log_groups = parts.export_log_groups
        self.export_policy = parts.export_policy

        self.monitoring: CollectorMonitoring | None = None
        if monitoring:
            self.monitoring = monitor_collector(
                self,
                rendered_config=self.rendered_config.config,
                environment_name=self.environment_name,
                service_name=self.service_name,
                namespace=self_telemetry_namespace,
                memory_limit_mib=memory_mib,
                sidecar=True,
                collector_log_group=self.log_group,
                alarm_topic=alarm_topic,
            )

        for container in app_containers:
            self.wire_app_container(container)

    # -- validation -------------------------------------------------------------------------

    @staticmethod
    def _validate_task_definition(task_definition: ecs.TaskDefinition) -> None:
        if task_definition.network_mode != ecs.NetworkMode.AWS_VPC:
            raise _fail(
                "task_definition",
                "must use awsvpc networking (a Fargate task definition)",
                task_definition.node.path,
            )
        if not task_definition.is_fargate_compatible:
            raise _fail("task_definition", "must be Fargate-compatible", task_definition.node.path)
        if task_definition.find_container(COLLECTOR_CONTAINER_NAME) is not None:
            raise _fail(
                "task_definition",
                f"already has a {COLLECTOR_CONTAINER_NAME!r} container; add one sidecar per task",
                task_definition.node.path,
            )

    @staticmethod
    def _check_fits(task_definition: ecs.TaskDefinition, cpu: int, memory_mib: int) -> None:
        task_cpu = _as_int(getattr(task_definition, "cpu", None))
        task_memory = _as_int(getattr(task_definition, "memory_mib", None))
        used_cpu = used_memory = 0
        for child in task_definition.node.children:
            if isinstance(child, ecs.ContainerDefinition):
                rendered = child.render_container_definition(task_definition)
                used_cpu += int(rendered.cpu or 0)
                used_memory += int(rendered.memory or rendered.memory_reservation or 0)
        if cpu <= 0 or (task_cpu is not None and used_cpu + cpu > task_cpu):
            raise _fail(
                "cpu",
                f"the collector's CPU must be positive and fit the task ({task_cpu} units, "
                f"{used_cpu} already reserved by other containers)",
                cpu,
            )
        if memory_mib <= 0 or (task_memory is not None and used_memory + memory_mib > task_memory):
            raise _fail(
                "memory_mib",
                f"the collector's memory must be positive and fit the task ({task_memory} MiB, "
                f"{used_memory} MiB already reserved by other containers)",
                memory_mib,
            )

    # -- application wiring -----------------------------------------------------------------

    def otel_environment(self, container: ecs.ContainerDefinition) -> dict[str, str]:
        """The OTLP environment variables an application container gets."""
        port = _APP_PROTOCOLS[self.app_protocol]
        uses_xray = bool(
            self.rendered_config.iam.xray_write or self.rendered_config.iam.xray_otlp_spans
        )
        if self.gateway is not None:
            gateway_iam = self.gateway.rendered_config.iam
            uses_xray = uses_xray or bool(gateway_iam.xray_write or gateway_iam.xray_otlp_spans)
        name = container.container_name
        return {
            # 127.0.0.1, not localhost: some runtimes resolve localhost to ::1 first, and the
            # collector listens on IPv4 loopback only.
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": self.app_protocol,
            "OTEL_SERVICE_NAME": name,
            "OTEL_RESOURCE_ATTRIBUTES": (
                f"service.name={name},deployment.environment.name={self.environment_name}"
            ),
            "OTEL_PROPAGATORS": "tracecontext,baggage,xray"
            if uses_xray
            else "tracecontext,baggage",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_LOGS_EXPORTER": "otlp",
        }

    def wire_app_container(self, container: ecs.ContainerDefinition) -> None:
        """Point ``container`` at the collector and make it wait until the collector is healthy.

        Environment variables the container already sets are kept.
        """
        if container.task_definition.node.path != self.task_definition.node.path:
            raise _fail(
                "app_containers",
                f"every container must belong to the sidecar's task definition "
                f"{self.task_definition.node.path}",
                container.node.path,
            )
        if container.container_name == COLLECTOR_CONTAINER_NAME:
            raise _fail(
                "app_containers", "the collector cannot be its own app", container.node.path
            )
        rendered = container.render_container_definition(self.task_definition)
        existing = {
            str(getattr(item, "name", ""))
            for items in (rendered.environment, rendered.secrets)
            if isinstance(items, list)
            for item in items
        }
        for key, value in self.otel_environment(container).items():
            if key not in existing:
                container.add_environment(key, value)
        condition = (
            ecs.ContainerDependencyCondition.HEALTHY
            if self.health_check
            else ecs.ContainerDependencyCondition.START
        )
        container.add_container_dependencies(
            ecs.ContainerDependency(container=self.container, condition=condition)
        )


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
