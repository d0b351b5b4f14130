"""Embedded mode on ECS: one app container that carries the collector, run by the supervisor."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Unpack

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from otel_fargate.apps import wiring as app_wiring
from otel_fargate.checks import check_choice, check_int, fail
from otel_fargate.config import Exporter
from otel_fargate.config.policy.budget import BUDGET_ENV, DrainBudget, check_fits, drain_budget
from otel_fargate.embedded import layout
from otel_fargate.errors import ConfigError, OtelFargateError
from otel_fargate.names import CONFIG_ENV
from otel_fargate.task._wiring import (
    environment_name,
    exporter_tuple,
    in_task_monitoring,
    render_collector,
)
from otel_fargate.task.container import (
    acknowledge_container,
    collector_exports,
    collector_log_group,
    config_secrets,
    probe_health_check,
)
from otel_fargate.task.drain import metrics_url
from otel_fargate.task.fargate import check_fargate_task
from otel_fargate.task.options import CollectorOptions, CollectorOptionsArgs
from otel_fargate.task.synth import add_check, services_wait_for, task_fits


class EmbeddedCollector(Construct):
    """An app container that runs the collector inside it, for one-container apps.

    The container's image (``app_image``) is the app's own, built with the collector, the
    health probe and the supervisor in it (the ``collector`` and ``tools`` stages of
    ``docker/embedded.Dockerfile``). This construct adds that container to the task definition
    with everything the supervisor and ECS need: the rendered configuration in
    ``OTEL_FARGATE_CONFIG``, its drain budget in ``OTEL_FARGATE_DRAIN_BUDGET``, the supervisor as
    entry point with the app's ``command`` after ``--``, the probe as the container's health
    check, a stop timeout that covers the app's shutdown, the collector's drain and its stop,
    the app's OTLP variables pointing at ``127.0.0.1``, the exporters' IAM on the task role,
    their log groups, the configuration's secrets, and the collector's dashboard and alarms.

    On stop, ECS sends SIGTERM to the supervisor, which forwards it to the app. Once the app has
    exited, the collector keeps running until its queues are empty (read from its own metrics)
    or the drain timeout passes, and is then given the drain budget plus 5 s to stop. The drain
    timeout is what is left of ``stop_timeout_seconds`` after ``app_shutdown_seconds`` and that
    stop, so ECS's SIGKILL never cuts a step short.

    Args:
        scope: the parent construct.
        construct_id: the construct id.
        task_definition: the app's task definition; must use ``awsvpc`` networking and be
            Fargate-compatible.
        app_image: the app's image, with the collector, the probe and the supervisor at
            ``collector_path``, ``probe_path`` and ``supervisor_path``.
        command: the app's command line, run by the supervisor after ``--``. Required: the
            container's entry point is the supervisor with this construct's flags.
        exporters: one exporter or a list of them (``otel_fargate.config``). Default: none,
            which is refused unless ``config_replacement`` is given.
        container_name: the container's name; also the app's ``OTEL_SERVICE_NAME``.
            Default: ``app``.
        cpu: CPU units of the container, app and collector together. Default: 512.
        memory_mib: hard memory limit of the container, app and collector together.
            Default: 1024.
        collector_cpu: the CPU units the collector's configuration is sized for; at most
            ``cpu``. Default: 256.
        collector_memory_mib: the memory the collector's memory limiter and ``GOMEMLIMIT`` are
            sized for; below ``memory_mib``, the rest is the app's. ``GOMEMLIMIT`` reaches the
            app too: a Go app should set its own. Default: 256.
        app_protocol: OTLP protocol the app uses, ``http/protobuf`` (port 4318) or ``grpc``
            (port 4317). Default: ``http/protobuf``.
        app_shutdown_seconds: the time the app takes to shut down after SIGTERM, kept free of
            the collector's drain. Default: 10.
        app_environment: the app's own environment variables. ``OTEL_SERVICE_NAME`` and
            ``OTEL_RESOURCE_ATTRIBUTES`` replace the construct's; any other variable the
            construct sets is refused. Default: none.
        app_secrets: the app's own ECS secrets, by variable name. Default: none.
        port_mappings: the app's port mappings. Default: none.
        readonly_root_filesystem: mount the container's root filesystem read-only (the
            collector writes nothing to it; the app may). Default: off.
        collector_path: the collector binary in the image. Default: ``/otelcol-contrib``.
        probe_path: the health probe in the image. Default: ``/healthcheck``.
        supervisor_path: the supervisor in the image. Default: ``/supervisor``.
        options: the options this construct shares with the sidecar, all at once. Default:
            ``CollectorOptions()``. ``image`` is refused (the collector is in ``app_image``,
            checked against the contrib components ``docker/embedded.Dockerfile`` copies), and so is
            ``persistent_queues=True`` (the supervisor drains in-memory queues on stop; a
            task volume would be deleted with the task anyway).
        **kwargs: any field of :class:`CollectorOptions` (``environment_name``,
            ``health_check``, ``stop_timeout_seconds``, ``config_overrides``, ...).

    Attributes:
        container: the app container (``ecs.ContainerDefinition``).
        log_group: the container's log group: the app's output and the collector's, each
            collector line prefixed ``[otelcol] ``.
        task_definition: the task definition passed in.
        rendered_config: the rendered configuration (``RenderedConfig``).
        config_options: the ``CollectorConfigOptions`` it was rendered from.
        drain_budget: the configuration's ``DrainBudget``.
        drain_timeout_seconds: how long the supervisor keeps the collector draining after the
            app has exited.
        export_log_groups: the log groups the exporters write, by name.
        export_policy: the IAM policy of the exporters, or None when they need none.
        monitoring: the ``CollectorMonitoring`` (dashboard and alarms), or None.
        service_name: the collector's service name (the container's name).
        environment_name: the resolved environment name.
        options: the resolved ``CollectorOptions``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        task_definition: ecs.TaskDefinition,
        app_image: ecs.ContainerImage,
        command: Sequence[str],
        exporters: Exporter | Sequence[Exporter] = (),
        container_name: str = "app",
        cpu: int = 512,
        memory_mib: int = 1024,
        collector_cpu: int = 256,
        collector_memory_mib: int = 256,
        app_protocol: str = "http/protobuf",
        app_shutdown_seconds: int = 10,
        app_environment: Mapping[str, str] | None = None,
        app_secrets: Mapping[str, ecs.Secret] | None = None,
        port_mappings: Sequence[ecs.PortMapping] = (),
        readonly_root_filesystem: bool = False,
        collector_path: str = layout.COLLECTOR_PATH,
        probe_path: str = layout.PROBE_PATH,
        supervisor_path: str = layout.SUPERVISOR_PATH,
        options: CollectorOptions | None = None,
        **kwargs: Unpack[CollectorOptionsArgs],
    ) -> None:
        super().__init__(scope, construct_id)
        opts = _embedded_options(
            CollectorOptions.combine(options, kwargs, construct="EmbeddedCollector")
        )
        exporter_list = exporter_tuple(exporters)
        check_fargate_task(task_definition)
        self._check_sizes(cpu, memory_mib, collector_cpu, collector_memory_mib)
        check_choice("app_protocol", app_protocol, tuple(app_wiring.APP_PROTOCOLS))
        check_int(
            "app_shutdown_seconds", app_shutdown_seconds, low=0, high=opts.stop_timeout_seconds
        )
        paths = layout.check_paths(
            collector_path=collector_path, probe_path=probe_path, supervisor_path=supervisor_path
        )
        if not exporter_list and opts.config_replacement is None:
            raise fail("exporters", "an embedded collector needs at least one exporter", ())

        self.task_definition, self.options = task_definition, opts
        self.environment_name = environment_name(self, opts)
        self.service_name = layout.check_container_name(container_name, task_definition)
        self.config_options, self.rendered_config = render_collector(
            opts,
            preset="sidecar",
            exporters=exporter_list,
            environment=self.environment_name,
            service=self.service_name,
            memory_mib=collector_memory_mib,
            cpu=collector_cpu,
        )
        self.drain_budget, self.drain_timeout_seconds = _drain(
            self.rendered_config.config, opts.stop_timeout_seconds, app_shutdown_seconds
        )
        app = layout.AppContainer(
            name=container_name,
            image=app_image,
            command=layout.check_command(command),
            cpu=cpu,
            memory_mib=memory_mib,
            environment=self._environment(app_protocol, app_environment or {}),
            secrets=dict(app_secrets or {}),
            port_mappings=tuple(port_mappings),
            readonly_root_filesystem=readonly_root_filesystem,
        )
        self._add_container(app, paths)
        self.monitoring = in_task_monitoring(
            self,
            opts,
            self.rendered_config,
            environment_name=self.environment_name,
            service_name=self.service_name,
            memory_limit_mib=collector_memory_mib,
            log_group=self.log_group,
            task_definition=task_definition,
        )
        add_check(self, lambda: task_fits(task_definition, service_connect=False))
        needs = [self.export_policy] if self.export_policy is not None else []
        services_wait_for(task_definition, [*needs, *self.export_log_groups.values()])

    def _add_container(self, app: layout.AppContainer, paths: layout.Paths) -> None:
        rendered, opts, task_definition = self.rendered_config, self.options, self.task_definition
        secrets = config_secrets(self, task_definition, rendered)
        taken = {**secrets, **app.environment, **rendered.environment, CONFIG_ENV: 1, BUDGET_ENV: 1}
        layout.check_no_overlap("app_secrets", app.secrets, taken)
        self.log_group = collector_log_group(self, task_definition, rendered, opts, {})
        check = (
            probe_health_check(paths.probe, rendered.health_check_url, opts.resolved_timing)
            if opts.health_check
            else None
        )
        self.container = task_definition.add_container(
            app.name,
            container_name=app.name,
            image=app.image,
            entry_point=layout.supervisor_entry_point(
                paths,
                health_check_url=rendered.health_check_url,
                drain_metrics_url=metrics_url(rendered.config),
                drain_timeout_seconds=self.drain_timeout_seconds,
            ),
            command=list(app.command),
            cpu=app.cpu,
            memory_limit_mib=app.memory_mib,
            essential=True,
            environment={
                **app.environment,
                **rendered.environment,
                CONFIG_ENV: rendered.yaml,
                BUDGET_ENV: self.drain_budget.go_duration,
            },
            secrets={**secrets, **app.secrets},
            health_check=check,
            stop_timeout=Duration.seconds(opts.stop_timeout_seconds),
            logging=layout.aws_logs(app.name, self.log_group),
            port_mappings=list(app.port_mappings),
            readonly_root_filesystem=app.readonly_root_filesystem,
        )
        acknowledge_container(task_definition)
        self.export_log_groups, self.export_policy = collector_exports(
            self, task_definition, rendered, opts
        )

    def _environment(self, app_protocol: str, given: Mapping[str, str]) -> dict[str, str]:
        """The app's variables: the OTLP wiring, then the app's own, checked."""
        iam = self.rendered_config.iam
        ours = {
            **app_wiring.otel_environment(
                self.service_name,
                app_protocol=app_protocol,
                environment_name=self.environment_name,
                uses_xray=iam.xray_write or iam.xray_otlp_spans,
                signals=self.rendered_config.otlp_signals,
            ),
            **app_wiring.receiver_environment(self.options.receivers),
        }
        reserved = {*self.rendered_config.environment, CONFIG_ENV, BUDGET_ENV}
        return layout.merge_app_environment(ours, given, reserved=reserved)

    @staticmethod
    def _check_sizes(
        cpu: int, memory_mib: int, collector_cpu: int, collector_memory_mib: int
    ) -> None:
        check_int("cpu", cpu, low=1, high=16384)
        check_int("memory_mib", memory_mib, low=1, high=122880)
        check_int("collector_cpu", collector_cpu, low=1, high=cpu)
        check_int("collector_memory_mib", collector_memory_mib, low=1, high=memory_mib - 1)


def _embedded_options(opts: CollectorOptions) -> CollectorOptions:
    """``opts`` for a collector inside the app's image: no image of its own, queues in memory."""
    if opts.image is not None:
        raise fail(
            "image",
            "an embedded collector runs inside the app's image (EmbeddedCollector(app_image=...)); "
            "leave the collector image out",
            opts.image.description,
        )
    if opts.persistent_queues:
        raise fail(
            "persistent_queues",
            "an embedded collector keeps its queues in memory: the supervisor drains them on "
            "stop, and a task volume would be deleted with the task",
            True,
        )
    return dataclasses.replace(opts, persistent_queues=False)


def _drain(
    config: Mapping[str, object], stop_timeout_seconds: int, app_shutdown_seconds: int
) -> tuple[DrainBudget, int]:
    """The configuration's drain budget, and the supervisor's drain timeout: what is left of
    the stop timeout after the app's shutdown and the collector's stop.
    """
    try:
        budget = drain_budget(config, stop_timeout_seconds=stop_timeout_seconds)
        check_fits(
            budget,
            stop_timeout_seconds=stop_timeout_seconds,
            app_shutdown_seconds=app_shutdown_seconds,
        )
    except ConfigError as problem:
        raise OtelFargateError(f"exporters: {problem}") from problem
    left = stop_timeout_seconds - app_shutdown_seconds - budget.collector_stop_timeout_seconds
    return budget, max(int(left), 0)
