"""Exporters to AWS: X-Ray, CloudWatch EMF, CloudWatch Logs and AWS's OTLP endpoints."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from otel_fargate.checks import check_bool, check_choice, check_int, check_retention_days
from otel_fargate.config.core.log_groups import check_log_group_name
from otel_fargate.config.core.values import SIGNALS, Signal, non_empty
from otel_fargate.config.exporters.base import (
    Exporter,
    RetryOnFailure,
    SendingQueue,
    check_queue_and_retry,
    helper_settings,
)
from otel_fargate.errors import ConfigError

_REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_ROLLUP_OPTIONS = ("NoDimensionRollup", "SingleDimensionRollupOnly", "ZeroAndSingleDimensionRollup")


def check_region(value: object, *, setting: str, required: bool = False) -> None:
    """Raise ConfigError unless ``value`` is an AWS region name (or None when optional)."""
    if value is None:
        if required:
            raise ConfigError(f"{setting}: is required, got None")
        return
    if not isinstance(value, str) or not _REGION_PATTERN.fullmatch(value):
        raise ConfigError(f"{setting}: must be an AWS region such as 'eu-west-1', got {value!r}")


def _retention(value: int | None, *, setting: str) -> None:
    if value is not None:
        check_retention_days(setting, value, error=ConfigError)


@dataclass(frozen=True, kw_only=True)
class _AwsSdkExporter(Exporter):
    """Exporters built on the AWS SDK, which times out and retries each request itself."""

    region: str | None = None
    request_timeout_seconds: int = 10
    max_retries: int = 2

    def _check_sdk(self) -> None:
        self.check_name()
        check_region(self.region, setting=f"{self.setting}.region")
        check_int(
            f"{self.setting}.request_timeout_seconds",
            self.request_timeout_seconds,
            low=1,
            error=ConfigError,
        )
        check_int(f"{self.setting}.max_retries", self.max_retries, low=0, error=ConfigError)

    def _sdk_settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.region is not None:
            out["region"] = self.region
        out["request_timeout_seconds"] = self.request_timeout_seconds
        out["max_retries"] = self.max_retries
        return out


@dataclass(frozen=True, kw_only=True)
class XRayExporter(_AwsSdkExporter):
    """Traces to AWS X-Ray through ``PutTraceSegments`` (the ``awsxray`` exporter).

    Attributes:
        name: component name, making the id ``awsxray/<name>``; default: plain ``awsxray``.
        region: the X-Ray region; default: the task's region (``AWS_REGION``).
        index_all_attributes: turn every span attribute into an indexed X-Ray annotation;
            default: attributes become unindexed metadata.
        indexed_attributes: attributes turned into annotations; default: none.
        request_timeout_seconds: per request; default: 10 s.
        max_retries: SDK retries per request; default: 2.
    """

    component_type: ClassVar[str] = "awsxray"

    name: str | None = None
    index_all_attributes: bool = False
    indexed_attributes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self._check_sdk()
        for attribute in self.indexed_attributes:
            non_empty(attribute, setting=f"{self.setting}.indexed_attributes")

    @property
    def signals(self) -> tuple[Signal, ...]:
        """The signals this exporter takes."""
        return ("traces",)

    def render(self) -> dict[str, Any]:
        """The exporter's YAML block."""
        out = self._sdk_settings()
        if self.index_all_attributes:
            out["index_all_attributes"] = True
        if self.indexed_attributes:
            out["indexed_attributes"] = list(self.indexed_attributes)
        return out


def _log_destination(
    group: str, stream: str, retention_days: int | None, *, setting: str
) -> dict[str, Any]:
    non_empty(group, setting=f"{setting}.log_group_name")
    non_empty(stream, setting=f"{setting}.log_stream_name")
    _retention(retention_days, setting=f"{setting}.retention_days")
    check_log_group_name(group, setting=f"{setting}.log_group_name", retention=retention_days)
    out: dict[str, Any] = {"log_group_name": group, "log_stream_name": stream}
    if retention_days is not None:
        out["log_retention"] = retention_days
    return out


def _check_existing(exists: object, retention_days: int | None, *, setting: str) -> None:
    check_bool(f"{setting}.log_group_exists", exists, error=ConfigError)
    if exists and retention_days is not None:
        raise ConfigError(
            f"{setting}.retention_days: the log group exists already, so its retention is set "
            f"where it was created, got {retention_days!r}"
        )


@dataclass(frozen=True, kw_only=True)
class CloudWatchEmfExporter(_AwsSdkExporter):
    """Metrics to CloudWatch as Embedded Metric Format log events (the ``awsemf`` exporter).

    CloudWatch extracts the metrics from the log events: the collector needs CloudWatch Logs
    permissions on the log group, not ``cloudwatch:PutMetricData``.

    Attributes:
        namespace: the CloudWatch metric namespace (required).
        log_group_name: the log group receiving the EMF events (required); created by the
            stack (or by the exporter when the name holds placeholders).
        log_stream_name: the log stream; default: one stream per task (``{TaskId}``).
        retention_days: retention of the log group; default: the construct's
            ``log_retention_days`` when the stack creates the group, none when the exporter
            creates it.
        log_group_exists: the group exists already (created outside this app, e.g. by an
            earlier deployment): the stack does not create it and the collector may not;
            default: the stack creates it.
        name: component name, making the id ``awsemf/<name>``; default: plain ``awsemf``.
        region: default: the task's region.
        dimension_rollup_option: ``NoDimensionRollup`` (default: each metric published once,
            with all its dimensions), ``SingleDimensionRollupOnly`` or
            ``ZeroAndSingleDimensionRollup``.
        resource_to_telemetry_conversion: copy resource attributes into metric dimensions;
            default: off (resource attributes multiply CloudWatch metric costs).
        request_timeout_seconds: per request; default: 10 s.
        max_retries: SDK retries per request; default: 2.
    """

    component_type: ClassVar[str] = "awsemf"

    namespace: str
    log_group_name: str
    log_stream_name: str = "{TaskId}"
    retention_days: int | None = None
    log_group_exists: bool = False
    name: str | None = None
    dimension_rollup_option: Literal[
        "NoDimensionRollup", "SingleDimensionRollupOnly", "ZeroAndSingleDimensionRollup"
    ] = "NoDimensionRollup"
    resource_to_telemetry_conversion: bool = False

    def __post_init__(self) -> None:
        self._check_sdk()
        non_empty(self.namespace, setting=f"{self.setting}.namespace")
        self._destination()
        _check_existing(self.log_group_exists, self.retention_days, setting=self.setting)
        check_choice(
            f"{self.setting}.dimension_rollup_option",
            self.dimension_rollup_option,
            _ROLLUP_OPTIONS,
            error=ConfigError,
        )

    def _destination(self) -> dict[str, Any]:
        return _log_destination(
            self.log_group_name, self.log_stream_name, self.retention_days, setting=self.setting
        )

    @property
    def signals(self) -> tuple[Signal, ...]:
        """The signals this exporter takes."""
        return ("metrics",)

    def render(self) -> dict[str, Any]:
        """The exporter's YAML block."""
        out: dict[str, Any] = {"namespace": self.namespace, **self._destination()}
        out["dimension_rollup_option"] = self.dimension_rollup_option
        if self.resource_to_telemetry_conversion:
            out["resource_to_telemetry_conversion"] = {"enabled": True}
        out.update(self._sdk_settings())
        return out


@dataclass(frozen=True, kw_only=True)
class CloudWatchLogsExporter(_AwsSdkExporter):
    """Logs to CloudWatch Logs through ``PutLogEvents`` (the ``awscloudwatchlogs`` exporter).

    Attributes:
        log_group_name: the log group (required); created by the stack (or by the exporter
            when the name holds placeholders).
        log_stream_name: the log stream; default: one stream per task (``{TaskId}``).
        retention_days: retention of the log group; default: the construct's
            ``log_retention_days`` when the stack creates the group, none when the exporter
            creates it.
        log_group_exists: the group exists already: the stack does not create it and the
            collector may not; default: the stack creates it.
        name: component name, making the id ``awscloudwatchlogs/<name>``; default: plain.
        region: default: the task's region.
        raw_log: send only the log body instead of a JSON envelope; default: the envelope.
        queue: default: ``SendingQueue()``.
        retry: collector-level retries of a failed batch; default: ``RetryOnFailure()``.
        request_timeout_seconds: per request; default: 10 s.
        max_retries: SDK retries per request; default: 2.
    """

    component_type: ClassVar[str] = "awscloudwatchlogs"

    log_group_name: str
    log_stream_name: str = "{TaskId}"
    retention_days: int | None = None
    log_group_exists: bool = False
    name: str | None = None
    raw_log: bool = False
    queue: SendingQueue = field(default_factory=SendingQueue)
    retry: RetryOnFailure = field(default_factory=RetryOnFailure)

    def __post_init__(self) -> None:
        self._check_sdk()
        _log_destination(
            self.log_group_name, self.log_stream_name, self.retention_days, setting=self.setting
        )
        _check_existing(self.log_group_exists, self.retention_days, setting=self.setting)
        check_queue_and_retry(self.queue, self.retry, self.request_timeout_seconds, self.setting)

    @property
    def signals(self) -> tuple[Signal, ...]:
        """The signals this exporter takes."""
        return ("logs",)

    def render(self) -> dict[str, Any]:
        """The exporter's YAML block."""
        out = _log_destination(
            self.log_group_name, self.log_stream_name, self.retention_days, setting=self.setting
        )
        if self.raw_log:
            out["raw_log"] = True
        out.update(self._sdk_settings())
        out.update(helper_settings(self.queue, self.retry, None))
        return out


_AWS_OTLP_SERVICE: dict[str, str] = {"traces": "xray", "logs": "logs", "metrics": "monitoring"}


@dataclass(frozen=True, kw_only=True)
class AwsOtlpExporter(Exporter):
    """AWS's own OTLP endpoints over HTTP, signed with SigV4 (``otlp_http`` + ``sigv4auth``).

    - traces: ``https://xray.<region>.amazonaws.com/v1/traces`` (service ``xray``; needs
      CloudWatch Transaction Search enabled in the account);
    - logs: ``https://logs.<region>.amazonaws.com/v1/logs`` (service ``logs``; the log group
      and stream must exist, they are sent as ``x-aws-log-group`` / ``x-aws-log-stream``);
    - metrics: ``https://monitoring.<region>.amazonaws.com/v1/metrics`` (service
      ``monitoring``).

    Attributes:
        signal: the one signal this exporter sends (required).
        region: the AWS region (required: it is part of the endpoint).
        log_group_name: logs only, required there: the existing log group.
        log_stream_name: logs only, required there: the existing log stream.
        name: component name; default: ``aws_<signal>`` (id ``otlp_http/aws_<signal>``).
        queue: default: ``SendingQueue()``.
        retry: default: ``RetryOnFailure()``.
        timeout_seconds: per send attempt; default: 10 s.
    """

    component_type: ClassVar[str] = "otlp_http"

    signal: Signal
    region: str
    log_group_name: str | None = None
    log_stream_name: str | None = None
    name: str | None = None
    queue: SendingQueue = field(default_factory=SendingQueue)
    retry: RetryOnFailure = field(default_factory=RetryOnFailure)
    timeout_seconds: float = 10

    def __post_init__(self) -> None:
        check_choice("exporters.aws_otlp.signal", self.signal, SIGNALS, error=ConfigError)
        self.check_name()
        check_region(self.region, setting=f"{self.setting}.region", required=True)
        if self.signal == "logs":
            non_empty(self.log_group_name, setting=f"{self.setting}.log_group_name")
            non_empty(self.log_stream_name, setting=f"{self.setting}.log_stream_name")
        elif self.log_group_name is not None or self.log_stream_name is not None:
            raise ConfigError(
                f"{self.setting}.log_group_name: only the logs signal takes a log group, "
                f"got signal={self.signal!r}"
            )
        check_queue_and_retry(self.queue, self.retry, self.timeout_seconds, self.setting)

    @property
    def effective_name(self) -> str:
        """The component name: ``name`` or ``aws_<signal>``."""
        return self.name if self.name is not None else f"aws_{self.signal}"

    @property
    def component_id(self) -> str:
        """The id in the collector config."""
        return f"{self.type_name()}/{self.effective_name}"

    @property
    def service(self) -> str:
        """The SigV4 signing service name."""
        return _AWS_OTLP_SERVICE[self.signal]

    @property
    def endpoint(self) -> str:
        """The signal's full endpoint URL."""
        return f"https://{self.service}.{self.region}.amazonaws.com/v1/{self.signal}"

    @property
    def auth_extension_id(self) -> str:
        """The id of the ``sigv4auth`` extension this exporter uses."""
        return f"sigv4auth/{self.effective_name}"

    @property
    def signals(self) -> tuple[Signal, ...]:
        """The signals this exporter takes."""
        return (self.signal,)

    def render(self) -> dict[str, Any]:
        """The exporter's YAML block."""
        out: dict[str, Any] = {f"{self.signal}_endpoint": self.endpoint}
        if self.signal == "logs":
            out["headers"] = {
                "x-aws-log-group": self.log_group_name,
                "x-aws-log-stream": self.log_stream_name,
            }
        out["auth"] = {"authenticator": self.auth_extension_id}
        out["compression"] = "gzip"
        out.update(helper_settings(self.queue, self.retry, self.timeout_seconds))
        return out

    def extensions(self) -> dict[str, dict[str, Any]]:
        """Extensions this exporter needs, by component id."""
        return {self.auth_extension_id: {"region": self.region, "service": self.service}}
