"""The AWS permissions a rendered configuration needs, read from the final configuration.

Derived from the exporters the pipelines actually use (after overrides or a replacement),
so the task role follows the configuration that runs, not the options it started from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from otel_fargate.config.core.log_groups import check_log_group_name
from otel_fargate.config.core.values import component_type
from otel_fargate.config.model.aliases import spellings
from otel_fargate.config.policy.aws_names import aws_name, aws_region, check_reserved_log_group


@dataclass(frozen=True, kw_only=True)
class LogGroupWrite:
    """A CloudWatch Logs group the collector writes to.

    Attributes:
        name: the log group name; may hold the exporter's placeholders (``{TaskId}``...).
        retention_days: retention the exporter sets when it creates the group; None: none.
        stream_name: the log stream; may hold placeholders.
        creates_group: the exporter creates the group (and stream) when missing
            (``logs:CreateLogGroup``, ``logs:CreateLogStream``, ``logs:PutRetentionPolicy``);
            False: both must exist (the AWS OTLP logs endpoint).
        exporter: the exporter's component id.
        region: the region the exporter writes to when its configuration names one;
            None: the region the collector runs in.
    """

    name: str
    retention_days: int | None
    stream_name: str | None
    creates_group: bool
    exporter: str
    region: str | None = None


@dataclass(frozen=True, kw_only=True)
class IamNeeds:
    """Permissions derived from the exporters in use.

    Attributes:
        xray_write: ``xray:PutTraceSegments`` (awsxray).
        xray_telemetry: ``xray:PutTelemetryRecords``: an awsxray exporter with
            ``telemetry.enabled`` reports its own telemetry records.
        xray_otlp_spans: ``xray:PutSpans`` for the X-Ray
            OTLP endpoint.
        log_groups_written: log groups written (``logs:PutLogEvents``,
            ``logs:DescribeLogStreams``, and creation when ``creates_group``).
        metric_namespaces: CloudWatch namespaces the configuration publishes into. awsemf
            publishes through CloudWatch Logs and needs no ``cloudwatch:PutMetricData``.
        put_metric_data: ``cloudwatch:PutMetricData`` is needed (CloudWatch OTLP metrics).
        xray_sampling: ``xray:GetSamplingRules``, ``GetSamplingTargets`` and
            ``GetSamplingStatisticSummaries``: the awsxray receiver's sampling proxy or the
            awsproxy extension forwards the X-Ray SDKs' sampling calls.
        aps_workspaces: ``aps:RemoteWrite`` on these Amazon Managed Service for Prometheus
            workspaces, as (region, workspace id); ``("*", "*")`` when the endpoint is not
            known at synth (an ``${env:...}`` reference).
        ecs_discovery: the clusters ``ecs_observer`` extensions list tasks in, each with the
            ECS reads that needs (see :class:`EcsDiscovery`).
    """

    xray_write: bool = False
    xray_telemetry: bool = False
    xray_otlp_spans: bool = False
    log_groups_written: tuple[LogGroupWrite, ...] = ()
    metric_namespaces: tuple[str, ...] = ()
    put_metric_data: bool = False
    xray_sampling: bool = False
    aps_workspaces: tuple[tuple[str, str], ...] = ()
    ecs_discovery: tuple[EcsDiscovery, ...] = ()


@dataclass(frozen=True, kw_only=True)
class EcsDiscovery:
    """One ``ecs_observer``'s discovery: which cluster, and which reads it makes.

    Every refresh lists the cluster's tasks (``ecs:ListTasks``), describes them
    (``ecs:DescribeTasks``) and their task definitions (``ecs:DescribeTaskDefinition``), and
    lists the cluster's services (``ecs:ListServices``); it describes services
    (``ecs:DescribeServices``) only when ``services`` filters are configured. The container
    instance and EC2 reads serve tasks of the EC2 launch type only and are not derived here.

    Attributes:
        cluster: the cluster name or ARN as configured (``*`` when the configuration does not
            name it at synth, e.g. a variable the container gets from elsewhere).
        region: the cluster's region, or None for the task's own (``${env:AWS_REGION}``).
        services: ``services`` filters are configured (``ecs:DescribeServices`` is called).
    """

    cluster: str
    region: str | None = None
    services: bool = False


#: The OTLP/HTTP exporter's type, old and new spelling.
_OTLP_HTTP = spellings("exporters", "otlp_http")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value else None


def _log_group_of(eid: str, kind: str, settings: Mapping[str, Any]) -> LogGroupWrite | None:
    """The group an awsemf or awscloudwatchlogs exporter writes (and creates when missing)."""
    default_group = "/metrics/default" if kind == "awsemf" else None
    where = f"exporters.{eid}"
    group = aws_name(
        settings.get("log_group_name", default_group),
        setting=f"{where}.log_group_name",
        names="a log group",
    )
    if group is None:
        return None
    check_log_group_name(
        group,
        setting=f"{where}.log_group_name",
        retention=settings.get("log_retention"),
    )
    return LogGroupWrite(
        name=group,
        retention_days=_int(settings.get("log_retention")),
        stream_name=_str(settings.get("log_stream_name")),
        creates_group=True,
        exporter=eid,
        region=aws_region(settings.get("region"), setting=f"{where}.region"),
    )


def _sigv4_signer(
    settings: Mapping[str, Any], extensions: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The sigv4auth extension settings an OTLP/HTTP exporter signs with, if any."""
    auth = settings.get("auth") or {}
    authenticator = auth.get("authenticator") if isinstance(auth, Mapping) else None
    if not isinstance(authenticator, str) or component_type(authenticator) != "sigv4auth":
        return None
    signer = extensions.get(authenticator) or {}
    return signer if isinstance(signer, Mapping) else None


def _namespace(eid: str, settings: Mapping[str, Any]) -> str:
    """The CloudWatch namespace an awsemf exporter publishes into."""
    namespace = aws_name(
        settings.get("namespace"),
        setting=f"exporters.{eid}.namespace",
        names="a CloudWatch namespace (the dashboard and alarms read it)",
    )
    return namespace or "default"


def _otlp_logs_group(
    eid: str, settings: Mapping[str, Any], signer: Mapping[str, Any]
) -> LogGroupWrite | None:
    signer_id = settings["auth"]["authenticator"]
    region = aws_region(signer.get("region"), setting=f"extensions.{signer_id}.region")
    headers = settings.get("headers") or {}
    where = f"exporters.{eid}.headers"
    group = aws_name(
        headers.get("x-aws-log-group"), setting=f"{where}.x-aws-log-group", names="a log group"
    )
    if group is None:
        return None
    return LogGroupWrite(
        name=group,
        retention_days=None,
        stream_name=_str(headers.get("x-aws-log-stream")),
        creates_group=False,
        exporter=eid,
        region=region,
    )


def _setting(group: LogGroupWrite) -> str:
    """The setting that names ``group``'s log group."""
    key = "log_group_name" if group.creates_group else "headers.x-aws-log-group"
    return f"exporters.{group.exporter}.{key}"


_REMOTE_WRITE = spellings("exporters", "prometheus_remote_write")
_APS_ENDPOINT = re.compile(
    r"^https://aps-workspaces\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/workspaces/"
    r"(?P<workspace>ws-[A-Za-z0-9-]+)/api/v1/remote_write/?$"
)


def _enabled(config: Mapping[str, Any]) -> list[Any]:
    service = config.get("service") or {}
    enabled = service.get("extensions") if isinstance(service, Mapping) else None
    return list(enabled) if isinstance(enabled, list) else []


#: A ``${env:NAME}`` or ``${NAME}`` the collector resolves at run time (not a CDK token,
#: ``${Token[...]}``, which CloudFormation resolves at deploy time).
_REFERENCE = re.compile(r"\$\{(env:)?[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}")


def _discovery(config: Mapping[str, Any]) -> tuple[EcsDiscovery, ...]:
    """The clusters of every enabled ``ecs_observer``, unresolved references as ``*``."""
    extensions = config.get("extensions") or {}
    found: set[EcsDiscovery] = set()
    for eid in _enabled(config):
        if component_type(str(eid)) != "ecs_observer":
            continue
        settings = extensions.get(eid) or {}
        cluster, region = _str(settings.get("cluster_name")), _str(settings.get("cluster_region"))
        found.add(
            EcsDiscovery(
                cluster=cluster if cluster is not None and not _REFERENCE.search(cluster) else "*",
                region=region if region is not None and not _REFERENCE.search(region) else None,
                services=bool(settings.get("services")),
            )
        )
    return tuple(sorted(found, key=lambda d: (d.cluster, d.region or "", d.services)))


def _sampling_proxy(config: Mapping[str, Any]) -> bool:
    """An awsxray receiver in a pipeline or an enabled awsproxy extension forwards X-Ray
    sampling calls: the receiver starts its TCP sampling proxy whatever ``proxy_server`` says
    (upstream has no switch for it), so the receiver always needs the sampling reads.
    """
    pipelines = (config.get("service") or {}).get("pipelines") or {}
    receivers = {
        r for p in pipelines.values() if isinstance(p, Mapping) for r in p.get("receivers") or []
    }
    if any(component_type(str(r)) == "awsxray" for r in receivers):
        return True
    return any(component_type(str(e)) == "awsproxy" for e in _enabled(config))


def _aps(
    eid: str, exporters: Mapping[str, Any], extensions: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """The workspaces a prometheusremotewrite exporter signing with SigV4 writes to."""
    settings = exporters.get(eid) or {}
    if component_type(eid) not in _REMOTE_WRITE or _sigv4_signer(settings, extensions) is None:
        return []
    match = _APS_ENDPOINT.match(str(settings.get("endpoint", "")))
    return [(match["region"], match["workspace"])] if match else [("*", "*")]


def iam_for(config: Mapping[str, Any], *, existing_log_groups: Iterable[str] = ()) -> IamNeeds:
    """The permissions the exporters used by ``config``'s pipelines need.

    Groups in ``existing_log_groups`` exist already: nobody creates them.
    """
    exporters = config.get("exporters") or {}
    extensions = config.get("extensions") or {}
    pipelines = (config.get("service") or {}).get("pipelines") or {}
    used = sorted(
        {cid for pipeline in pipelines.values() for cid in (pipeline.get("exporters") or [])}
    )
    services: set[str] = set()
    groups: list[LogGroupWrite | None] = []
    namespaces: set[str] = set()
    for eid in used:
        settings = exporters.get(eid) or {}
        kind = component_type(eid)
        if kind in ("awsemf", "awscloudwatchlogs"):
            groups.append(_log_group_of(eid, kind, settings))
        if kind == "awsemf":
            namespaces.add(_namespace(eid, settings))
        signer = _sigv4_signer(settings, extensions) if kind in _OTLP_HTTP else None
        if kind == "awsxray":
            services.add("xray-segments")
            telemetry = settings.get("telemetry")
            if isinstance(telemetry, Mapping) and telemetry.get("enabled") is True:
                services.add("xray-telemetry")
        elif signer is not None:
            services.add(str(signer.get("service")))
            if signer.get("service") == "logs":
                groups.append(_otlp_logs_group(eid, settings, signer))
    existing = frozenset(existing_log_groups)
    for group in groups:
        if group is not None:
            check_reserved_log_group(group.name, setting=_setting(group), existing=existing)
    written = [
        replace(group, creates_group=False) if group.name in existing else group
        for group in groups
        if group is not None
    ]
    return IamNeeds(
        xray_sampling=_sampling_proxy(config),
        ecs_discovery=_discovery(config),
        aps_workspaces=tuple(sorted({w for eid in used for w in _aps(eid, exporters, extensions)})),
        xray_write="xray-segments" in services,
        xray_telemetry="xray-telemetry" in services,
        xray_otlp_spans="xray" in services,
        log_groups_written=tuple(sorted(written, key=lambda g: (g.name, g.exporter))),
        metric_namespaces=tuple(sorted(namespaces)),
        put_metric_data="monitoring" in services,
    )
