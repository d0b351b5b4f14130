"""A collector sidecar inside an application's Fargate task definition."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Unpack

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct

from otel_fargate.apps import wiring as app_wiring
from otel_fargate.apps.instrument import check_instrumentation, instrument_container
from otel_fargate.apps.instrumentation import AutoInstrumentation
from otel_fargate.checks import check_choice, fail
from otel_fargate.config import Exporter
from otel_fargate.gateway.tls import check_tls_kept
from otel_fargate.logs import firelens
from otel_fargate.logs.options import StdoutLogs
from otel_fargate.names import COLLECTOR_CONTAINER_NAME
from otel_fargate.sidecar.checks import agent_reaches_gateway
from otel_fargate.task._wiring import (
    environment_name,
    exporter_tuple,
    gateway_forwarding,
    in_task_monitoring,
    render_collector,
)
from otel_fargate.task.container import CollectorContainerSpec, add_collector
from otel_fargate.task.fargate import as_int, check_fargate_task, reserved
from otel_fargate.task.options import CollectorOptions, CollectorOptionsArgs
from otel_fargate.task.storage import persistent_queue_sizes
from otel_fargate.task.synth import add_check, services_wait_for, task_fits

if TYPE_CHECKING:
    from otel_fargate.gateway.construct import CollectorGateway

OTEL_ENV_NAMES = app_wiring.OTEL_ENV_NAMES


class CollectorSidecar(Construct):
    """The collector as a sidecar container in an existing Fargate task definition.

    Standalone (no ``gateway``) it receives OTLP on ``127.0.0.1:4317/4318`` and exports
    straight to ``exporters``. With ``gateway`` it runs the ``agent`` preset and forwards
    everything to the gateway through Service Connect (``otel-gateway:4317``), authenticating
    with the gateway's bearer token, over TLS verified with the gateway's CA when the gateway
    has ``tls``.

    Application containers passed in ``app_containers`` (or later to :meth:`wire_app_container`)
    get the OTLP environment variables (and ``AWS_XRAY_DAEMON_ADDRESS`` with
    ``receivers=[XRayDaemonReceiver()]``) and start only after the collector is ``HEALTHY``, so ECS
    starts the collector first and stops it last.

    Args:
        scope: the parent construct.
        construct_id: the construct id.
        task_definition: the application's task definition; must use ``awsvpc`` networking
            and be Fargate-compatible.
        app_containers: containers to wire to the collector. Default: none.
        gateway: forward to this gateway (agent mode). Default: export directly (sidecar mode).
        exporters: one exporter or a list of them (``otel_fargate.config``), in sidecar mode.
            Default: none, which sidecar mode refuses; agent mode refuses any, because the
            gateway exports (so backend credentials and permissions live in one place).
        service_name: name of the collector's service in its own metrics, resource attributes,
            log-group and dashboard names. Default: the name of the first app container, else
            the task definition's family.
        cpu: CPU units reserved for the collector (1024 = 1 vCPU). Default: 256.
        memory_mib: hard memory limit of the collector container; the memory limiter and
            ``GOMEMLIMIT`` are sized from it. Default: 512.
        app_protocol: OTLP protocol that apps use, ``http/protobuf`` (port 4318) or ``grpc``
            (port 4317). Default: ``http/protobuf``, the OpenTelemetry SDKs' default.
        essential: whether the task stops when the collector stops. Default: ``False``; the
            container restart policy restarts a crashed collector and the app keeps running.
        restart_attempt_period_seconds: the restart policy's attempt period (60-1800 s), or
            ``None`` to switch the restart policy off. Default: 60.
        stdout_logs: send what the app containers write to stdout and stderr to the collector's
            logs pipeline: a FireLens log router (AWS for Fluent Bit, ECS metadata on, its own
            log group) joins the task, every wired app container gets the ``awsfirelens`` log
            driver forwarding to the collector's ``fluent_forward`` receiver on
            ``127.0.0.1:8006``, through a disk buffer the router retries from while the
            collector is away; ``StdoutLogs(buffer_mib=..., retry_limit=...)`` sizes it (see
            :class:`~otel_fargate.logs.options.StdoutLogs`). Refused when the collector has no
            logs pipeline, beside ``config_replacement``, in a task that has a log router
            already, for an app container with a log driver of its own, and when the buffer
            and the persistent queues do not fit the task's ephemeral storage. Default: off,
            app output stays where the containers' own log drivers send it.
        instrument: zero-code instrumentation of app containers, e.g.
            ``{app: AutoInstrumentation.java()}`` (or later :meth:`instrument_container`): an
            init container copies the runtime's agent into a task volume, the app mounts it
            read-only, waits for the copy, and gets the variables that load the agent, merged
            with its own. Default: none; apps instrument themselves.
        options: the options the sidecar shares with the gateway, all at once. Default:
            ``CollectorOptions()``; keywords of CollectorOptions given beside it win.
        **kwargs: any field of :class:`CollectorOptions` (``environment_name``, ``image``,
            ``health_check``, ``log_retention_days``, ``config_overrides``, ...), documented
            there.

    Attributes:
        container: the collector's ``ecs.ContainerDefinition``.
        log_group: the collector's own ``logs.LogGroup``.
        task_definition: the task definition passed in.
        gateway: the gateway passed in, or None (sidecar mode).
        rendered_config: the rendered configuration (``RenderedConfig``).
        config_options: the ``CollectorConfigOptions`` it was rendered from.
        export_log_groups: the log groups the exporters write, by name.
        export_policy: the IAM policy of the exporters, or None when they need none.
        log_router: with ``stdout_logs``, the ``ecs.FirelensLogRouter``; else None.
        log_router_log_group: with ``stdout_logs``, the router's own log group; else None.
        stdout_logs: the resolved ``StdoutLogs``, or None without ``stdout_logs``.
        monitoring: the ``CollectorMonitoring`` (dashboard and alarms), or None.
        service_name: the resolved service name.
        environment_name: the resolved environment name.
        app_protocol: the OTLP protocol apps use.
        options: the resolved ``CollectorOptions``.
        health_check: whether ECS runs the health check.
        wired: the names of the app containers wired to the collector.
        instrumented: the ``AutoInstrumentation`` of each instrumented container, by name.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        task_definition: ecs.TaskDefinition,
        app_containers: Sequence[ecs.ContainerDefinition] = (),
        gateway: CollectorGateway | None = None,
        exporters: Exporter | Sequence[Exporter] = (),
        service_name: str | None = None,
        cpu: int = 256,
        memory_mib: int = 512,
        app_protocol: str = "http/protobuf",
        essential: bool = False,
        restart_attempt_period_seconds: int | None = 60,
        stdout_logs: bool | StdoutLogs = False,
        instrument: Mapping[ecs.ContainerDefinition, AutoInstrumentation] | None = None,
        options: CollectorOptions | None = None,
        **kwargs: Unpack[CollectorOptionsArgs],
    ) -> None:
        super().__init__(scope, construct_id)
        opts = CollectorOptions.combine(options, kwargs, construct="CollectorSidecar")
        exporter_list = exporter_tuple(exporters)
        self._check(task_definition, app_protocol, restart_attempt_period_seconds)
        if gateway is None and not exporter_list and opts.config_replacement is None:
            raise fail("exporters", "a sidecar without a gateway needs at least one exporter", ())
        self._check_fits(task_definition, cpu, memory_mib)
        self.stdout_logs = logs_options = StdoutLogs.of(stdout_logs)
        opts = self._with_stdout_logs(logs_options, opts, exporter_list, gateway, task_definition)

        self.task_definition, self.gateway = task_definition, gateway
        self.app_protocol = app_protocol
        self.options, self.health_check = opts, opts.health_check
        self.environment_name = environment_name(self, opts)
        self.service_name = _service_name(service_name, task_definition, app_containers)
        self.config_options, self.rendered_config = render_collector(
            opts,
            preset="agent" if gateway is not None else "sidecar",
            exporters=exporter_list,
            environment=self.environment_name,
            service=self.service_name,
            memory_mib=memory_mib,
            cpu=cpu,
            **gateway_forwarding(gateway),
        )
        check_tls_kept(gateway.tls if gateway is not None else None, self.rendered_config)
        spec = CollectorContainerSpec(
            rendered=self.rendered_config,
            options=opts,
            cpu=cpu,
            memory_mib=memory_mib,
            essential=essential,
            restart_attempt_period_seconds=restart_attempt_period_seconds,
            extra_secrets=gateway.agent_ecs_secrets() if gateway is not None else {},
        )
        parts = add_collector(self, task_definition=task_definition, spec=spec)
        self.container, self.log_group = parts.container, parts.log_group
        self.export_log_groups, self.export_policy = parts.export_log_groups, parts.export_policy
        self.log_router, self.log_router_log_group = self._log_router(
            opts, restart_attempt_period_seconds
        )
        self.monitoring = in_task_monitoring(
            self,
            opts,
            self.rendered_config,
            environment_name=self.environment_name,
            service_name=self.service_name,
            memory_limit_mib=memory_mib,
            log_group=self.log_group,
            task_definition=task_definition,
        )
        self._wire_apps(app_containers, instrument or {})
        add_check(self, lambda: task_fits(task_definition, service_connect=gateway is not None))
        needs = [self.export_policy] if self.export_policy is not None else []
        services_wait_for(task_definition, [*needs, *self.export_log_groups.values()])
        if gateway is not None:
            namespace = gateway.namespace
            add_check(self, lambda: agent_reaches_gateway(task_definition, namespace))

    def _wire_apps(
        self,
        app_containers: Sequence[ecs.ContainerDefinition],
        instrument: Mapping[ecs.ContainerDefinition, AutoInstrumentation],
    ) -> None:
        #: App containers wired to the collector, by name; instrumented ones by name.
        self.wired: set[str] = set()
        self.instrumented: dict[str, AutoInstrumentation] = {}
        for container in app_containers:
            self.wire_app_container(container)
        for container, instrumentation in instrument.items():
            self.instrument_container(container, instrumentation)

    def _log_router(
        self, opts: CollectorOptions, restart_period: int | None
    ) -> tuple[ecs.FirelensLogRouter | None, logs.LogGroup | None]:
        """The FireLens log router and its log group with ``stdout_logs``, else none."""
        if self.stdout_logs is None:
            return None, None
        router, log_group = firelens.add_log_router(
            self,
            task_definition=self.task_definition,
            retention_days=opts.log_retention_days,
            restart_attempt_period_seconds=restart_period,
            settings=self.stdout_logs,
            forward_port=firelens.forward_receiver(opts.receivers).port,
            queue_bytes=sum(persistent_queue_sizes(self.rendered_config.config)),
        )
        # ECS stops containers in the reverse order of their dependencies: the router waits
        # for the collector, so it stops (flushing the apps' last lines) before the collector.
        router.add_container_dependencies(
            ecs.ContainerDependency(container=self.container, condition=self._collector_ready())
        )
        return router, log_group

    def _collector_ready(self) -> ecs.ContainerDependencyCondition:
        """What a container waits for: the collector HEALTHY, or STARTed without health checks."""
        return (
            ecs.ContainerDependencyCondition.HEALTHY
            if self.health_check
            else ecs.ContainerDependencyCondition.START
        )

    @staticmethod
    def _with_stdout_logs(
        stdout_logs: StdoutLogs | None,
        opts: CollectorOptions,
        exporters: Sequence[Exporter],
        gateway: CollectorGateway | None,
        task_definition: ecs.TaskDefinition,
    ) -> CollectorOptions:
        """``opts`` with the Fluent Forward receiver when ``stdout_logs`` is on (checked)."""
        if stdout_logs is None:
            return opts
        firelens.check_stdout_logs(
            exporters=exporters,
            gateway_signals=gateway.rendered_config.otlp_signals if gateway is not None else None,
            replacement=opts.config_replacement,
            task_definition=task_definition,
        )
        receivers = firelens.with_forward_receiver(opts.receivers)
        return dataclasses.replace(opts, receivers=receivers)

    @staticmethod
    def _check(
        task_definition: ecs.TaskDefinition, app_protocol: str, restart_period: int | None
    ) -> None:
        check_fargate_task(task_definition)
        if task_definition.find_container(COLLECTOR_CONTAINER_NAME) is not None:
            raise fail(
                "task_definition",
                f"already has a {COLLECTOR_CONTAINER_NAME!r} container; add one sidecar per task",
                task_definition.node.path,
            )
        check_choice("app_protocol", app_protocol, tuple(app_wiring.APP_PROTOCOLS))
        if restart_period is not None and not 60 <= restart_period <= 1800:
            raise fail(
                "restart_attempt_period_seconds",
                "ECS accepts 60 to 1800 seconds (or None to switch restarts off)",
                restart_period,
            )

    @staticmethod
    def _check_fits(task_definition: ecs.TaskDefinition, cpu: int, memory_mib: int) -> None:
        task_cpu = as_int(getattr(task_definition, "cpu", None))
        task_memory = as_int(getattr(task_definition, "memory_mib", None))
        used_cpu, used_memory = reserved(task_definition)
        if cpu <= 0 or (task_cpu is not None and used_cpu + cpu > task_cpu):
            raise fail(
                "cpu",
                f"the collector's CPU must be positive and fit the task ({task_cpu} units, "
                f"{used_cpu} already reserved by other containers)",
                cpu,
            )
        if memory_mib <= 0 or (task_memory is not None and used_memory + memory_mib > task_memory):
            raise fail(
                "memory_mib",
                f"the collector's memory must be positive and fit the task ({task_memory} MiB, "
                f"{used_memory} MiB already reserved by other containers)",
                memory_mib,
            )

    def otel_environment(self, container: ecs.ContainerDefinition) -> dict[str, str]:
        """The OTLP environment variables an application container gets."""
        # One rule whatever the topology: apps propagate the X-Ray header when a collector
        # their traces pass through writes to X-Ray (this one, the gateway, or its samplers).
        iams = [self.rendered_config.iam]
        if self.gateway is not None:
            iams.extend(config.iam for config in self.gateway.collector_configs)
        return {
            **app_wiring.otel_environment(
                container.container_name,
                app_protocol=self.app_protocol,
                environment_name=self.environment_name,
                uses_xray=any(iam.xray_write or iam.xray_otlp_spans for iam in iams),
                signals=self.rendered_config.otlp_signals,
            ),
            **app_wiring.receiver_environment(self.options.receivers),
        }

    def wire_app_container(self, container: ecs.ContainerDefinition) -> None:
        """Point ``container`` at the collector and make it wait until the collector is healthy.

        Environment variables the container already sets are kept. An app that sets only one of
        ``OTEL_EXPORTER_OTLP_ENDPOINT`` and ``OTEL_EXPORTER_OTLP_PROTOCOL`` gets the other to
        match; a pair that contradicts itself is refused. With an X-Ray daemon receiver, the
        container gets ``AWS_XRAY_DAEMON_ADDRESS``; one it sets to another address is refused.
        With ``stdout_logs``, its output goes through the FireLens log router to the collector
        (a container with a log driver of its own is refused).
        """
        app_wiring.check_app_container(container, self.task_definition)
        existing = app_wiring.existing_variables(container, self.task_definition)
        ours = self.otel_environment(container)
        app_wiring.check_receiver_variables(
            container.container_name,
            existing,
            app_wiring.receiver_environment(self.options.receivers),
        )
        for key, value in app_wiring.missing_variables(
            container.container_name, existing, ours
        ).items():
            container.add_environment(key, value)
        container.add_container_dependencies(
            ecs.ContainerDependency(container=self.container, condition=self._collector_ready())
        )
        self.wired.add(container.container_name)
        if self.log_router is not None and self.stdout_logs is not None:
            firelens.route_stdout(
                container,
                task_definition=self.task_definition,
                router=self.log_router,
                settings=self.stdout_logs,
            )

    def instrument_container(
        self, container: ecs.ContainerDefinition, instrumentation: AutoInstrumentation
    ) -> ecs.ContainerDefinition:
        """Run ``container`` with its runtime's OpenTelemetry agent (see ``instrument``),
        wiring it to the collector first if it is not yet; return the init container.

        Applying the same instrumentation twice changes nothing.
        """
        name = container.container_name
        check_instrumentation(name, instrumentation, known=self.instrumented.get(name))
        if name not in self.wired:
            self.wire_app_container(container)
        init = instrument_container(
            self,
            container,
            instrumentation,
            task_definition=self.task_definition,
            app_protocol=self.app_protocol,
            resource_attributes=self.otel_environment(container)["OTEL_RESOURCE_ATTRIBUTES"],
            log_group=self.log_group,
        )
        self.instrumented[name] = instrumentation
        return init


def _service_name(
    given: str | None,
    task_definition: ecs.TaskDefinition,
    app_containers: Sequence[ecs.ContainerDefinition],
) -> str:
    """``given``, else the first app container's name (readable, unlike a generated family)."""
    if given is not None:
        return given
    return app_containers[0].container_name if app_containers else task_definition.family
