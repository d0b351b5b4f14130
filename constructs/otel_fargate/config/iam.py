"""The AWS permissions a rendered configuration needs, read from the final configuration.

Derived from the exporters the pipelines actually use (after overrides or a replacement),
so the task role follows the configuration that runs, not the options it started from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .validate import component_type


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
        xray_write: ``xray:PutTraceSegments`` and ``xray:PutTelemetryRecords`` (awsxray).
        xray_otlp_spans: ``xray:PutSpans`` for the X-Ray
            OTLP endpoint.
        log_groups_written: log groups written (``logs:PutLogEvents``,
            ``logs:DescribeLogStreams``, and creation when ``creates_group``).
        metric_namespaces: CloudWatch namespaces the configuration publishes into. awsemf
            publishes through CloudWatch Logs and needs no ``cloudwatch:PutMetricData``.
        put_metric_data: ``cloudwatch:PutMetricData`` is needed (CloudWatch OTLP metrics).
    """

    xray_write: bool = False
    xray_otlp_spans: bool = False
    log_groups_written: tuple[LogGroupWrite, ...] = ()
    metric_namespaces: tuple[str, ...] = ()
    put_metric_data: bool = False


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value else None


def iam_for(config: Mapping[str, Any]) -> IamNeeds:
    """The permissions the exporters used by ``config``'s pipelines need."""
    exporters = config.get("exporters") or {}
    extensions = config.get("extensions") or {}
    pipelines = (config.get("service") or {}).get("pipelines") or {}
    used = sorted(
        {cid for pipeline in pipelines.values() for cid in (pipeline.get("exporters") or [])}
    )
    xray_write = xray_otlp = put_metric_data = False
    groups: list[LogGroupWrite] = []
    namespaces: set[str] = set()
    for eid in used:
        settings = exporters.get(eid) or {}
        kind = component_type(eid)
        if kind == "awsxray":
            xray_write = True
        elif kind in ("awsemf", "awscloudwatchlogs"):
            default_group = "/metrics/default" if kind == "awsemf" else None
            group = _str(settings.get("log_group_name", default_group))
            if group is not None:
                groups.append(
                    LogGroupWrite(
                        name=group,
                        retention_days=_int(settings.get("log_retention")),
                        stream_name=_str(settings.get("log_stream_name")),
                        creates_group=True,
                        exporter=eid,
                        region=_str(settings.get("region")),
                    )
                )
            if kind == "awsemf":
                namespaces.add(_str(settings.get("namespace")) or "default")
        elif kind == "otlphttp":
            auth = settings.get("auth") or {}
            authenticator = auth.get("authenticator") if isinstance(auth, Mapping) else None
            if not isinstance(authenticator, str) or component_type(authenticator) != "sigv4auth":
                continue
            signer = extensions.get(authenticator) or {}
            service = signer.get("service")
            if service == "xray":
                xray_otlp = True
            elif service == "monitoring":
                put_metric_data = True
            elif service == "logs":
                headers = settings.get("headers") or {}
                group = _str(headers.get("x-aws-log-group"))
                if group is not None:
                    groups.append(
                        LogGroupWrite(
                            name=group,
                            retention_days=None,
                            stream_name=_str(headers.get("x-aws-log-stream")),
                            creates_group=False,
                            exporter=eid,
                            region=_str(signer.get("region")),
                        )
                    )
    return IamNeeds(
        xray_write=xray_write,
        xray_otlp_spans=xray_otlp,
        log_groups_written=tuple(sorted(groups, key=lambda g: (g.name, g.exporter))),
        metric_namespaces=tuple(sorted(namespaces)),
        put_metric_data=put_metric_data,
    )
