"""The options every collector construct takes, documented once.

``CollectorSidecar`` and ``CollectorGateway`` accept these as keyword arguments (or, all at
once, as ``options=CollectorOptions(...)``; keywords given beside it win).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from aws_cdk import RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns

from otel_fargate.checks import check_bool, check_retention_days, fail
from otel_fargate.config import ContainerMetrics, Receiver, SecretRef
from otel_fargate.config.options.collector import check_stop_timeout
from otel_fargate.errors import OtelFargateError
from otel_fargate.names import MAX_STOP_TIMEOUT_SECONDS, SELF_TELEMETRY_NAMESPACE
from otel_fargate.task.health import HealthCheckTiming
from otel_fargate.task.image import CollectorImage


@dataclass(frozen=True, kw_only=True)
class CollectorOptions:
    """Options shared by the sidecar and the gateway.

    Attributes:
        environment_name: the otel-fargate environment: a resource attribute, a dimension of
            the collector's own metrics and part of its log-group and dashboard names;
            default: the stack name.
        image: the collector image; default: ``CollectorImage.bundled()``.
        health_check: run the ECS health check with the image's probe; default: on. An image
            without a probe must switch it off; app containers then wait for ``START`` only.
        health_check_timing: default: ``HealthCheckTiming()`` (every 10 s, 5 s timeout,
            3 retries, 30 s start period, the probe giving up after 2 s).
        stop_timeout_seconds: time the collector gets to flush on stop, 2 to 120 (Fargate's
            maximum); every exporter's retries plus timeout must end within it; default: 120.
        log_retention_days: retention of the collector's own log group and of the log groups
            the stack creates for its exporters; default: 30.
        telemetry_log_removal_policy: what happens to the log groups the stack creates for
            the exporters (they hold the app's telemetry) when the stack is deleted; default:
            ``RemovalPolicy.DESTROY``, so a destroyed environment redeploys cleanly.
            ``RemovalPolicy.RETAIN`` keeps them (production); deploying the stack again then
            needs them deleted or imported first.
        processors: extra processors by id, as in ``CollectorConfigOptions``; default: none.
        receivers: typed receivers beside OTLP (``XRayDaemonReceiver()``), sidecar and agent
            only: each goes into the pipelines of its signals, and every app container the
            sidecar wires gets what points the app at it (``AWS_XRAY_DAEMON_ADDRESS``); the
            gateway refuses them; default: OTLP only.
        container_metrics: the task's and its containers' CPU, memory, network and storage
            from the task metadata endpoint (``ContainerMetrics``), sidecar and agent only:
            ``ContainerMetrics(enabled=False)`` switches them off, ``metrics=[...]`` chooses
            which go out; default: on wherever the collector exports or forwards metrics,
            with the task's CPU, memory and ephemeral storage and each container's CPU and
            memory (see *Container metrics and Prometheus scraping*); the gateway refuses
            them enabled.
        config_overrides: a mapping or YAML text deep-merged into the rendered configuration;
            default: none.
        config_replacement: a whole configuration used instead of the rendered one (still
            validated); default: the rendered configuration.
        self_telemetry_namespace: CloudWatch namespace of the collector's own metrics;
            ``None`` keeps them local (and then no dashboard or alarm is built on them);
            default: ``OtelFargate/Collector``.
        secrets: secrets the configuration reads as ``${env:NAME}`` beyond the exporters' own
            (for overrides or a replacement), delivered as ECS secrets; default: none.
        environment: plain environment variables the configuration reads as ``${env:NAME}``
            (for overrides or a replacement); never a credential (use ``secrets``);
            default: none. A ``${env:NAME}`` without a ``:-default`` that neither provides
            fails synth, naming the variable.
        existing_log_groups: log groups a replacement's exporters write that exist already
            (for example from an earlier ADOT deployment): the stack does not create them and
            the collector may not; default: none (typed exporters say
            ``log_group_exists=True``).
        persistent_queues: keep the exporters' sending queues on a task-scoped volume
            (``file_storage``), so a collector container the restart policy restarts (after an
            out-of-memory kill or a crash) resumes sending what it held; default: on for the
            bundled and slim images, which create the queue directory for the collector's
            user; off for a registry image (pass True once it has a directory
            ``/var/lib/otelcol/queue`` its user may write).
        allow_open_listeners: let ``config_overrides``/``config_replacement`` bind listeners
            beyond loopback (a sidecar's receivers, zpages, pprof, own metrics); default:
            refused at synth.
        allow_unauthenticated_gateway: let them remove the gateway receivers' bearer-token
            authenticator; default: refused at synth.
        monitoring: a dashboard and alarms (``CollectorMonitoring``); default: on.
        alarm_topic: SNS topic the alarms notify; default: alarms have no actions.
        deployment_rollback: ECS rolls a deployment back to the last completed revision when
            a deployment gate fires during the deployment or its bake time: an exporter
            whose failed share of items passes 10 % in 2 of 3 minutes, or (sidecar) a crash
            line in the collector's log; the gates are monitoring's alarms. Default: on for
            the gateway and the samplers; off for a sidecar (pass True to let a broken
            collector configuration roll the app's service back).
        deployment_alarms: your own alarms that also gate the deployments (for example the
            app's error rate); give them a fixed ``alarm_name`` that does not refer to the
            service, or CloudFormation finds a circular dependency. Default: none.
    """

    environment_name: str | None = None
    image: CollectorImage | None = None
    health_check: bool = True
    health_check_timing: HealthCheckTiming | None = None
    stop_timeout_seconds: int = MAX_STOP_TIMEOUT_SECONDS
    log_retention_days: int = 30
    telemetry_log_removal_policy: RemovalPolicy = RemovalPolicy.DESTROY
    processors: Mapping[str, Mapping[str, Any] | None] | None = None
    receivers: Sequence[Receiver] = ()
    container_metrics: ContainerMetrics | None = None
    config_overrides: Mapping[str, Any] | str | None = None
    config_replacement: Mapping[str, Any] | str | None = None
    self_telemetry_namespace: str | None = SELF_TELEMETRY_NAMESPACE
    secrets: Sequence[SecretRef] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    existing_log_groups: Sequence[str] = ()
    persistent_queues: bool | None = None
    allow_open_listeners: bool = False
    allow_unauthenticated_gateway: bool = False
    monitoring: bool = True
    alarm_topic: sns.ITopic | None = None
    deployment_rollback: bool | None = None
    deployment_alarms: Sequence[cloudwatch.IAlarm] = ()

    def __post_init__(self) -> None:
        check_stop_timeout(self.stop_timeout_seconds, error=OtelFargateError)
        check_retention_days("log_retention_days", self.log_retention_days)
        check_bool("health_check", self.health_check)
        check_bool("monitoring", self.monitoring)
        if isinstance(self.receivers, str | bytes) or not isinstance(self.receivers, Sequence):
            raise fail("receivers", "must be a list of receivers", self.receivers)
        object.__setattr__(self, "receivers", tuple(self.receivers))
        if self.persistent_queues is not None:
            check_bool("persistent_queues", self.persistent_queues)
        if self.image is not None and not isinstance(self.image, CollectorImage):
            raise fail("image", "must be a CollectorImage (bundled(), slim(), ...)", self.image)
        timing = self.health_check_timing
        if timing is not None and not isinstance(timing, HealthCheckTiming):
            raise fail("health_check_timing", "must be a HealthCheckTiming", timing)
        self._check_deployment_gates()

    def _check_deployment_gates(self) -> None:
        if self.deployment_rollback is not None:
            check_bool("deployment_rollback", self.deployment_rollback)
        alarms = self.deployment_alarms
        if isinstance(alarms, str | bytes) or not isinstance(alarms, Sequence):
            raise fail("deployment_alarms", "must be a list of CloudWatch alarms", alarms)
        for alarm in alarms:
            # jsii interfaces cannot be checked with isinstance: an alarm has a name and ARN
            if not all(hasattr(alarm, attr) for attr in ("alarm_name", "alarm_arn", "node")):
                raise fail("deployment_alarms", "must hold CloudWatch alarms only", alarm)
        object.__setattr__(self, "deployment_alarms", tuple(alarms))
        if alarms and self.deployment_rollback is False:
            raise fail(
                "deployment_alarms",
                "gate deployments only with deployment_rollback on; drop them or pass "
                "deployment_rollback=True",
                [alarm.node.path for alarm in alarms],
            )

    def rollback(self, *, default: bool) -> bool:
        """``deployment_rollback``, or the role's ``default`` when it is not given."""
        return self.deployment_rollback if self.deployment_rollback is not None else default

    @property
    def resolved_image(self) -> CollectorImage:
        """``image``, or the bundled image when none is given."""
        return self.image if self.image is not None else CollectorImage.bundled()

    @property
    def resolved_persistent_queues(self) -> bool:
        """``persistent_queues``, or whether the image creates the queue directory."""
        if self.persistent_queues is not None:
            return self.persistent_queues
        return self.resolved_image.creates_queue_directory

    @property
    def resolved_timing(self) -> HealthCheckTiming:
        """``health_check_timing``, or the default timing."""
        timing = self.health_check_timing
        return timing if timing is not None else HealthCheckTiming()

    @classmethod
    def combine(
        cls, options: CollectorOptions | None, given: Mapping[str, Any], *, construct: str
    ) -> CollectorOptions:
        """``options`` with the keywords in ``given`` applied; an unknown keyword fails naming
        ``construct``, the keyword and the options it takes.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(given) - known)
        if unknown:
            raise OtelFargateError(
                f"{construct}: unknown argument {unknown[0]!r} (it takes the arguments of its "
                f"own signature and these options: {', '.join(sorted(known))})"
            )
        if options is not None and not isinstance(options, cls):
            raise fail("options", "must be a CollectorOptions", options)
        base = options if options is not None else cls()
        return dataclasses.replace(base, **given)


class CollectorOptionsArgs(TypedDict, total=False):
    """The fields of :class:`CollectorOptions` as keyword arguments (documented there)."""

    environment_name: str | None
    image: CollectorImage | None
    health_check: bool
    health_check_timing: HealthCheckTiming | None
    stop_timeout_seconds: int
    log_retention_days: int
    telemetry_log_removal_policy: RemovalPolicy
    processors: Mapping[str, Mapping[str, Any] | None] | None
    receivers: Sequence[Receiver]
    container_metrics: ContainerMetrics | None
    config_overrides: Mapping[str, Any] | str | None
    config_replacement: Mapping[str, Any] | str | None
    self_telemetry_namespace: str | None
    secrets: Sequence[SecretRef]
    environment: Mapping[str, str]
    existing_log_groups: Sequence[str]
    persistent_queues: bool | None
    allow_open_listeners: bool
    allow_unauthenticated_gateway: bool
    monitoring: bool
    alarm_topic: sns.ITopic | None
    deployment_rollback: bool | None
    deployment_alarms: Sequence[cloudwatch.IAlarm]
