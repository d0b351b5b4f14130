"""Typed exporter options and their collector configuration.

Each exporter knows its component id (``type`` or ``type/name``), the signals it takes, its
YAML, the extensions it needs (authenticators), the secrets it reads and the worst case time
one batch can spend being sent, which must fit inside the container's stop timeout.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from otel_fargate.errors import ConfigError

from .secrets import SecretRef
from .sizing import MIB, QUEUE_SIZER

Signal = Literal["traces", "metrics", "logs"]

#: Every signal, in the order pipelines are rendered.
SIGNALS: tuple[Signal, ...] = ("traces", "metrics", "logs")

#: Retention periods CloudWatch Logs accepts, in days.
LOG_RETENTION_DAYS = frozenset(
    {
        1,
        3,
        5,
        7,
        14,
        30,
        60,
        90,
        120,
        150,
        180,
        365,
        400,
        545,
        731,
        1096,
        1827,
        2192,
        2557,
        2922,
        3288,
        3653,
    }
)

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_HEADER_PATTERN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")

#: The smallest exporter queue accepted, in bytes: less holds hardly one batch.
MIN_QUEUE_BYTES = MIB


class FrozenMap(Mapping[str, Any]):
    """A read-only, hashable mapping, so frozen option dataclasses stay hashable."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Any] | None = None) -> None:
        self._items: dict[str, Any] = dict(items) if items is not None else {}

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __repr__(self) -> str:
        return repr(self._items)


def duration(seconds: float) -> str:
    """Render seconds as a Go duration: ``5s``, ``1.5s``, ``500ms``."""
    if seconds == int(seconds):
        return f"{int(seconds)}s"
    millis = seconds * 1000
    if millis == int(millis):
        return f"{int(millis)}ms"
    return f"{seconds}s"


def _positive_number(value: object, *, setting: str, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{setting}: must be a number of seconds, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{setting}: must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return float(value)


def _positive_int(value: object, *, setting: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{setting}: must be an integer >= {minimum}, got {value!r}")
    return value


def _non_empty(value: object, *, setting: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{setting}: must be a non-empty string, got {value!r}")
    return value


def _retention(value: int | None, *, setting: str) -> None:
    if value is not None and (isinstance(value, bool) or value not in LOG_RETENTION_DAYS):
        raise ConfigError(
            f"{setting}: must be one of the CloudWatch Logs retention periods "
            f"{sorted(LOG_RETENTION_DAYS)}, got {value!r}"
        )


def _region(value: str | None, *, setting: str, required: bool = False) -> None:
    if value is None:
        if required:
            raise ConfigError(f"{setting}: is required, got None")
        return
    if not isinstance(value, str) or not _REGION_PATTERN.fullmatch(value):
        raise ConfigError(f"{setting}: must be an AWS region such as 'eu-west-1', got {value!r}")


@dataclass(frozen=True, kw_only=True)
class SendingQueue:
    """The exporter's in-memory queue (``sending_queue``), measured in bytes.

    The queue counts the serialized (protobuf) size of the telemetry it holds
    (``sizer: bytes``), including requests being sent or retried. Telemetry takes at least as
    much heap as its serialized form, so a queue no larger than the ``memory_limiter`` hard
    limit cannot hold more than the heap may; data that does not fit is dropped and counted
    (``otelcol_exporter_enqueue_failed_*``), as is one batch larger than the whole queue.

    Attributes:
        enabled: queue batches in memory so a slow backend does not block the pipeline;
            default: enabled.
        num_consumers: batches sent concurrently; default: 4.
        queue_size: bytes of serialized telemetry held before new data is refused, at least
            1 MiB and at most the ``memory_limiter`` hard limit of the container; default: that
            hard limit (for example 322 MiB in a 512 MiB container, 137 MiB in 256 MiB).
    """

    enabled: bool = True
    num_consumers: int = 4
    queue_size: int | None = None

    def check(self, setting: str) -> None:
        """Raise ConfigError when a value is out of range."""
        if not isinstance(self.enabled, bool):
            raise ConfigError(f"{setting}.enabled: must be true or false, got {self.enabled!r}")
        _positive_int(self.num_consumers, setting=f"{setting}.num_consumers")
        size = self.queue_size
        if size is not None and (
            isinstance(size, bool) or not isinstance(size, int) or size < MIN_QUEUE_BYTES
        ):
            raise ConfigError(
                f"{setting}.queue_size: counts bytes of serialized telemetry and must be an "
                f"integer >= {MIN_QUEUE_BYTES} (1 MiB), got {size!r}"
            )

    def render(self) -> dict[str, Any]:
        """The ``sending_queue`` block; without ``queue_size`` when the container decides it."""
        out: dict[str, Any] = {
            "enabled": self.enabled,
            "num_consumers": self.num_consumers,
            "sizer": QUEUE_SIZER,
        }
        if self.queue_size is not None:
            out["queue_size"] = self.queue_size
        return out


@dataclass(frozen=True, kw_only=True)
class RetryOnFailure:
    """Retries with exponential back-off (``retry_on_failure``).

    ``max_elapsed_seconds`` plus the exporter's timeout must be shorter than the collector's
    stop timeout, so a batch being retried at shutdown is either sent or given up on before
    ECS kills the container.

    Attributes:
        enabled: retry failed sends; default: enabled.
        initial_interval_seconds: wait before the first retry; default: 1 s.
        max_interval_seconds: upper bound of the back-off; default: 10 s.
        max_elapsed_seconds: give a batch up after this long; default: 60 s.
    """

    enabled: bool = True
    initial_interval_seconds: float = 1
    max_interval_seconds: float = 10
    max_elapsed_seconds: float = 60

    def check(self, setting: str) -> None:
        """Raise ConfigError when a value is out of range."""
        if not isinstance(self.enabled, bool):
            raise ConfigError(f"{setting}.enabled: must be true or false, got {self.enabled!r}")
        initial = _positive_number(
            self.initial_interval_seconds, setting=f"{setting}.initial_interval_seconds"
        )
        maximum = _positive_number(
            self.max_interval_seconds, setting=f"{setting}.max_interval_seconds"
        )
        elapsed = _positive_number(
            self.max_elapsed_seconds, setting=f"{setting}.max_elapsed_seconds"
        )
        if maximum < initial:
            raise ConfigError(
                f"{setting}.max_interval_seconds: must be >= initial_interval_seconds "
                f"({initial:g}), got {maximum:g}"
            )
        if elapsed < initial:
            raise ConfigError(
                f"{setting}.max_elapsed_seconds: must be >= initial_interval_seconds "
                f"({initial:g}), got {elapsed:g}"
            )

    def render(self) -> dict[str, Any]:
        """The ``retry_on_failure`` block."""
        return {
            "enabled": self.enabled,
            "initial_interval": duration(self.initial_interval_seconds),
            "max_interval": duration(self.max_interval_seconds),
            "max_elapsed_time": duration(self.max_elapsed_seconds),
        }


@dataclass(frozen=True, kw_only=True)
class OAuth2ClientCredentials:
    """OAuth 2.0 client-credentials authentication (the ``oauth2client`` extension).

    Attributes:
        client_id: the client id, literal or a SecretRef.
        client_secret: the client secret; always a SecretRef.
        token_url: the token endpoint (``https://...``).
        scopes: scopes requested; default: none.
        endpoint_params: extra form parameters sent to the token endpoint (e.g. ``audience``);
            default: none.
    """

    client_id: str | SecretRef
    client_secret: SecretRef
    token_url: str
    scopes: tuple[str, ...] = ()
    endpoint_params: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.endpoint_params, Mapping):
            object.__setattr__(self, "endpoint_params", FrozenMap(self.endpoint_params))
        if isinstance(self.scopes, list):
            object.__setattr__(self, "scopes", tuple(self.scopes))

    def check(self, setting: str) -> None:
        """Raise ConfigError when a value is missing or malformed."""
        if not isinstance(self.endpoint_params, Mapping):
            raise ConfigError(
                f"{setting}.endpoint_params: must be a mapping, got {self.endpoint_params!r}"
            )
        if not isinstance(self.client_id, SecretRef):
            _non_empty(self.client_id, setting=f"{setting}.client_id")
        if not isinstance(self.client_secret, SecretRef):
            raise ConfigError(
                f"{setting}.client_secret: must be a SecretRef (never a literal), "
                f"got {type(self.client_secret).__name__}"
            )
        url = _non_empty(self.token_url, setting=f"{setting}.token_url")
        if not url.startswith("https://"):
            raise ConfigError(f"{setting}.token_url: must be an https:// URL, got {url!r}")
        for scope in self.scopes:
            _non_empty(scope, setting=f"{setting}.scopes")
        for key, value in self.endpoint_params.items():
            _non_empty(key, setting=f"{setting}.endpoint_params")
            _non_empty(value, setting=f"{setting}.endpoint_params.{key}")

    def render(self) -> dict[str, Any]:
        """The ``oauth2client`` extension block."""
        client_id = (
            self.client_id.reference if isinstance(self.client_id, SecretRef) else self.client_id
        )
        out: dict[str, Any] = {
            "client_id": client_id,
            "client_secret": self.client_secret.reference,
            "token_url": self.token_url,
        }
        if self.scopes:
            out["scopes"] = list(self.scopes)
        if self.endpoint_params:
            out["endpoint_params"] = dict(self.endpoint_params)
        return out

    def secret_refs(self) -> tuple[SecretRef, ...]:
        """The secrets this authenticator reads."""
        refs = [self.client_secret]
        if isinstance(self.client_id, SecretRef):
            refs.insert(0, self.client_id)
        return tuple(refs)


class Exporter:
    """Base class of the typed exporters. Subclasses are frozen keyword-only dataclasses."""

    #: The collector component type (``otlp``, ``awsxray``...).
    component_type: ClassVar[str]
    #: The key used for this exporter in ``exporters_from_spec``.
    spec_type: ClassVar[str]

    name: str | None

    def type_name(self) -> str:
        """The collector component type of this instance."""
        return self.component_type

    @property
    def component_id(self) -> str:
        """The id in the collector config: ``type`` or ``type/name``."""
        return self.type_name() if self.name is None else f"{self.type_name()}/{self.name}"

    @property
    def setting(self) -> str:
        """The option path used in error messages: ``exporters.<component id>``."""
        return f"exporters.{self.component_id}"

    @property
    def signals(self) -> tuple[Signal, ...]:
        """The signals this exporter takes."""
        raise NotImplementedError

    def check_name(self) -> None:
        """Raise ConfigError when ``name`` cannot be part of a component id."""
        if self.name is not None and (
            not isinstance(self.name, str) or not _NAME_PATTERN.fullmatch(self.name)
        ):
            raise ConfigError(
                f"exporters.{self.type_name()}.name: must match {_NAME_PATTERN.pattern}, "
                f"got {self.name!r}"
            )

    def render(self) -> dict[str, Any]:
        """The exporter's YAML block."""
        raise NotImplementedError

    def extensions(self) -> dict[str, dict[str, Any]]:
        """Extensions this exporter needs, by component id (authenticators)."""
        return {}

    def secret_refs(self) -> tuple[SecretRef, ...]:
        """Every secret this exporter reads from the environment."""
        return ()

    def drain_seconds(self) -> float:
        """Worst case time one batch spends being sent before it is delivered or dropped."""
        raise NotImplementedError


def _check_signals(signals: tuple[str, ...], *, setting: str, allowed: tuple[str, ...]) -> None:
    if not isinstance(signals, tuple) or not signals:
        raise ConfigError(f"{setting}: must be a non-empty tuple of signals, got {signals!r}")
    for signal in signals:
        if signal not in allowed:
            raise ConfigError(f"{setting}: unknown signal {signal!r}, expected one of {allowed}")
    if len(set(signals)) != len(signals):
        raise ConfigError(f"{setting}: lists a signal twice, got {signals!r}")


@dataclass(frozen=True, kw_only=True)
class _AwsSdkExporter(Exporter):
    """Exporters built on the AWS SDK: the SDK retries; no collector queue."""

    region: str | None = None
    request_timeout_seconds: int = 10
    max_retries: int = 2

    def _check_sdk(self) -> None:
        self.check_name()
        _region(self.region, setting=f"{self.setting}.region")
        _positive_int(
            self.request_timeout_seconds, setting=f"{self.setting}.request_timeout_seconds"
        )
        _positive_int(self.max_retries, setting=f"{self.setting}.max_retries", minimum=0)

    def _sdk_settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.region is not None:
            out["region"] = self.region
        out["request_timeout_seconds"] = self.request_timeout_seconds
        out["max_retries"] = self.max_retries
        return out

    def drain_seconds(self) -> float:
        return float(self.request_timeout_seconds * (self.max_retries + 1))


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
    spec_type: ClassVar[str] = "xray"

    name: str | None = None
    index_all_attributes: bool = False
    indexed_attributes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self._check_sdk()
        for attribute in self.indexed_attributes:
            _non_empty(attribute, setting=f"{self.setting}.indexed_attributes")

    @property
    def signals(self) -> tuple[Signal, ...]:
        return ("traces",)

    def render(self) -> dict[str, Any]:
        out = self._sdk_settings()
        if self.index_all_attributes:
            out["index_all_attributes"] = True
        if self.indexed_attributes:
            out["indexed_attributes"] = list(self.indexed_attributes)
        return out


@dataclass(frozen=True, kw_only=True)
class CloudWatchEmfExporter(_AwsSdkExporter):
    """Metrics to CloudWatch as Embedded Metric Format log events (the ``awsemf`` exporter).

    CloudWatch extracts the metrics from the log events: the collector needs CloudWatch Logs
    permissions on the log group, not ``cloudwatch:PutMetricData``.

    Attributes:
        namespace: the CloudWatch metric namespace (required).
        log_group_name: the log group receiving the EMF events (required); created by the
            exporter when missing.
        log_stream_name: the log stream; default: one stream per task (``{TaskId}``).
        retention_days: retention set when the exporter creates the group; default: the
            group never expires (or keeps the retention it was created with).
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
    spec_type: ClassVar[str] = "emf"

    namespace: str
    log_group_name: str
    log_stream_name: str = "{TaskId}"
    retention_days: int | None = None
    name: str | None = None
    dimension_rollup_option: Literal[
        "NoDimensionRollup", "SingleDimensionRollupOnly", "ZeroAndSingleDimensionRollup"
    ] = "NoDimensionRollup"
    resource_to_telemetry_conversion: bool = False

    def __post_init__(self) -> None:
        self._check_sdk()
        _non_empty(self.namespace, setting=f"{self.setting}.namespace")
        _non_empty(self.log_group_name, setting=f"{self.setting}.log_group_name")
        _non_empty(self.log_stream_name, setting=f"{self.setting}.log_stream_name")
        _retention(self.retention_days, setting=f"{self.setting}.retention_days")
        allowed = ("NoDimensionRollup", "SingleDimensionRollupOnly", "ZeroAndSingleDimensionRollup")
        if self.dimension_rollup_option not in allowed:
            raise ConfigError(
                f"{self.setting}.dimension_rollup_option: must be one of {allowed}, "
                f"got {self.dimension_rollup_option!r}"
            )

    @property
    def signals(self) -> tuple[Signal, ...]:
        return ("metrics",)

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "namespace": self.namespace,
            "log_group_name": self.log_group_name,
            "log_stream_name": self.log_stream_name,
        }
        if self.retention_days is not None:
            out["log_retention"] = self.retention_days
        out["dimension_rollup_option"] = self.dimension_rollup_option
        if self.resource_to_telemetry_conversion:
            out["resource_to_telemetry_conversion"] = {"enabled": True}
        out.update(self._sdk_settings())
        return out


def _check_queue_and_retry(
    queue: SendingQueue, retry: RetryOnFailure, timeout_seconds: float, setting: str
) -> None:
    if not isinstance(queue, SendingQueue):
        raise ConfigError(f"{setting}.queue: must be a SendingQueue, got {queue!r}")
    if not isinstance(retry, RetryOnFailure):
        raise ConfigError(f"{setting}.retry: must be a RetryOnFailure, got {retry!r}")
    queue.check(f"{setting}.queue")
    retry.check(f"{setting}.retry")
    _positive_number(timeout_seconds, setting=f"{setting}.timeout_seconds")


def _helper_drain(retry: RetryOnFailure, timeout_seconds: float) -> float:
    return (retry.max_elapsed_seconds if retry.enabled else 0.0) + timeout_seconds


@dataclass(frozen=True, kw_only=True)
class CloudWatchLogsExporter(_AwsSdkExporter):
    """Logs to CloudWatch Logs through ``PutLogEvents`` (the ``awscloudwatchlogs`` exporter).

    Attributes:
        log_group_name: the log group (required); created by the exporter when missing.
        log_stream_name: the log stream; default: one stream per task (``{TaskId}``).
        retention_days: retention set when the exporter creates the group; default: the
            group never expires (or keeps the retention it was created with).
        name: component name, making the id ``awscloudwatchlogs/<name>``; default: plain.
        region: default: the task's region.
        raw_log: send only the log body instead of a JSON envelope; default: the envelope.
        queue: default: ``SendingQueue()``.
        retry: collector-level retries of a failed batch; default: ``RetryOnFailure()``.
        request_timeout_seconds: per request; default: 10 s.
        max_retries: SDK retries per request; default: 2.
    """

    component_type: ClassVar[str] = "awscloudwatchlogs"
    spec_type: ClassVar[str] = "cwlogs"

    log_group_name: str
    log_stream_name: str = "{TaskId}"
    retention_days: int | None = None
    name: str | None = None
    raw_log: bool = False
    queue: SendingQueue = field(default_factory=SendingQueue)
    retry: RetryOnFailure = field(default_factory=RetryOnFailure)

    def __post_init__(self) -> None:
        self._check_sdk()
        _non_empty(self.log_group_name, setting=f"{self.setting}.log_group_name")
        _non_empty(self.log_stream_name, setting=f"{self.setting}.log_stream_name")
        _retention(self.retention_days, setting=f"{self.setting}.retention_days")
        _check_queue_and_retry(self.queue, self.retry, self.request_timeout_seconds, self.setting)

    @property
    def signals(self) -> tuple[Signal, ...]:
        return ("logs",)

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "log_group_name": self.log_group_name,
            "log_stream_name": self.log_stream_name,
        }
        if self.retention_days is not None:
            out["log_retention"] = self.retention_days
        if self.raw_log:
            out["raw_log"] = True
        out.update(self._sdk_settings())
        out["sending_queue"] = self.queue.render()
        out["retry_on_failure"] = self.retry.render()
        return out

    def drain_seconds(self) -> float:
        retrying = self.retry.max_elapsed_seconds if self.retry.enabled else 0.0
        return retrying + super().drain_seconds()


@dataclass(frozen=True, kw_only=True)
class OtlpExporter(Exporter):
    """Any OTLP backend, over gRPC (``otlp``) or HTTP (``otlphttp``).

    Example (Honeycomb)::

        OtlpExporter(
            name="honeycomb",
            endpoint="api.honeycomb.io:443",
            headers={"x-honeycomb-team": SecretRef(
                env_name="HONEYCOMB_API_KEY", secret_id="honeycomb/api-key")},
        )

    Attributes:
        endpoint: ``host:port`` for gRPC, a ``https://`` base URL for HTTP (required).
        name: component name, making the id ``otlp/<name>``; default: plain ``otlp``.
        protocol: ``"grpc"`` (default) or ``"http"``.
        headers: request headers; a SecretRef value renders as ``${env:NAME}``, never the
            secret; default: none.
        auth: OAuth 2.0 client credentials; default: no authenticator.
        insecure: plaintext gRPC (no TLS); default: TLS.
        compression: ``gzip``, ``zstd``, ``snappy`` or ``none``; default: the exporter's
            default (gzip).
        signals: signals sent to this backend; default: traces, metrics and logs.
        queue: default: ``SendingQueue()``.
        retry: default: ``RetryOnFailure()``.
        timeout_seconds: per send attempt; default: 10 s.
    """

    component_type: ClassVar[str] = "otlp"
    spec_type: ClassVar[str] = "otlp"

    endpoint: str
    name: str | None = None
    protocol: Literal["grpc", "http"] = "grpc"
    headers: Mapping[str, str | SecretRef] = field(default_factory=dict)
    auth: OAuth2ClientCredentials | None = None
    insecure: bool = False
    compression: Literal["gzip", "zstd", "snappy", "none"] | None = None
    signals: tuple[Signal, ...] = SIGNALS
    queue: SendingQueue = field(default_factory=SendingQueue)
    retry: RetryOnFailure = field(default_factory=RetryOnFailure)
    timeout_seconds: float = 10

    def __post_init__(self) -> None:
        if self.protocol not in ("grpc", "http"):
            raise ConfigError(
                f"exporters.otlp.protocol: must be 'grpc' or 'http', got {self.protocol!r}"
            )
        self.check_name()
        endpoint = _non_empty(self.endpoint, setting=f"{self.setting}.endpoint")
        if self.protocol == "http" and not endpoint.startswith(("https://", "http://")):
            raise ConfigError(
                f"{self.setting}.endpoint: an HTTP endpoint must be a URL (https://...), "
                f"got {endpoint!r}"
            )
        if self.protocol == "grpc" and not re.fullmatch(
            r"(https?://)?(\[[0-9A-Fa-f:]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}", endpoint
        ):
            raise ConfigError(
                f"{self.setting}.endpoint: a gRPC endpoint is host:port (api.example.com:443), "
                f"got {endpoint!r}"
            )
        if self.protocol == "http" and self.insecure:
            raise ConfigError(
                f"{self.setting}.insecure: applies to gRPC only; use an http:// endpoint, "
                f"got insecure={self.insecure!r}"
            )
        if not isinstance(self.headers, Mapping):
            raise ConfigError(f"{self.setting}.headers: must be a mapping, got {self.headers!r}")
        object.__setattr__(self, "headers", FrozenMap(self.headers))
        for key, value in self.headers.items():
            if not isinstance(key, str) or not _HEADER_PATTERN.fullmatch(key):
                raise ConfigError(f"{self.setting}.headers: invalid header name {key!r}")
            if not isinstance(value, SecretRef):
                _non_empty(value, setting=f"{self.setting}.headers.{key}")
        if self.auth is not None:
            if not isinstance(self.auth, OAuth2ClientCredentials):
                raise ConfigError(
                    f"{self.setting}.auth: must be OAuth2ClientCredentials, got {self.auth!r}"
                )
            self.auth.check(f"{self.setting}.auth")
        if self.compression is not None and self.compression not in (
            "gzip",
            "zstd",
            "snappy",
            "none",
        ):
            raise ConfigError(
                f"{self.setting}.compression: must be gzip, zstd, snappy or none, "
                f"got {self.compression!r}"
            )
        _check_signals(self.signals, setting=f"{self.setting}.signals", allowed=SIGNALS)
        _check_queue_and_retry(self.queue, self.retry, self.timeout_seconds, self.setting)

    def type_name(self) -> str:
        return "otlp" if self.protocol == "grpc" else "otlphttp"

    @property
    def auth_extension_id(self) -> str:
        """The id of the ``oauth2client`` extension this exporter uses."""
        return "oauth2client" if self.name is None else f"oauth2client/{self.name}"

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"endpoint": self.endpoint}
        if self.protocol == "grpc" and self.insecure:
            out["tls"] = {"insecure": True}
        if self.headers:
            out["headers"] = {
                key: (value.reference if isinstance(value, SecretRef) else value)
                for key, value in self.headers.items()
            }
        if self.auth is not None:
            out["auth"] = {"authenticator": self.auth_extension_id}
        if self.compression is not None:
            out["compression"] = self.compression
        out["timeout"] = duration(self.timeout_seconds)
        out["sending_queue"] = self.queue.render()
        out["retry_on_failure"] = self.retry.render()
        return out

    def extensions(self) -> dict[str, dict[str, Any]]:
        if self.auth is None:
            return {}
        return {self.auth_extension_id: self.auth.render()}

    def secret_refs(self) -> tuple[SecretRef, ...]:
        refs = [value for value in self.headers.values() if isinstance(value, SecretRef)]
        if self.auth is not None:
            refs.extend(self.auth.secret_refs())
        return tuple(refs)

    def drain_seconds(self) -> float:
        return _helper_drain(self.retry, self.timeout_seconds)


_AWS_OTLP_SERVICE: dict[str, str] = {"traces": "xray", "logs": "logs", "metrics": "monitoring"}


@dataclass(frozen=True, kw_only=True)
class AwsOtlpExporter(Exporter):
    """AWS's own OTLP endpoints over HTTP, signed with SigV4 (``otlphttp`` + ``sigv4auth``).

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
        name: component name; default: ``aws_<signal>`` (id ``otlphttp/aws_<signal>``).
        queue: default: ``SendingQueue()``.
        retry: default: ``RetryOnFailure()``.
        timeout_seconds: per send attempt; default: 10 s.
    """

    component_type: ClassVar[str] = "otlphttp"
    spec_type: ClassVar[str] = "aws_otlp"

    signal: Signal
    region: str
    log_group_name: str | None = None
    log_stream_name: str | None = None
    name: str | None = None
    queue: SendingQueue = field(default_factory=SendingQueue)
    retry: RetryOnFailure = field(default_factory=RetryOnFailure)
    timeout_seconds: float = 10

    def __post_init__(self) -> None:
        if self.signal not in SIGNALS:
            raise ConfigError(
                f"exporters.aws_otlp.signal: must be one of {SIGNALS}, got {self.signal!r}"
            )
        self.check_name()
        _region(self.region, setting=f"{self.setting}.region", required=True)
        if self.signal == "logs":
            _non_empty(self.log_group_name, setting=f"{self.setting}.log_group_name")
            _non_empty(self.log_stream_name, setting=f"{self.setting}.log_stream_name")
        elif self.log_group_name is not None or self.log_stream_name is not None:
            raise ConfigError(
                f"{self.setting}.log_group_name: only the logs signal takes a log group, "
                f"got signal={self.signal!r}"
            )
        _check_queue_and_retry(self.queue, self.retry, self.timeout_seconds, self.setting)

    @property
    def effective_name(self) -> str:
        """The component name: ``name`` or ``aws_<signal>``."""
        return self.name if self.name is not None else f"aws_{self.signal}"

    @property
    def component_id(self) -> str:
        return f"otlphttp/{self.effective_name}"

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
        return (self.signal,)

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {f"{self.signal}_endpoint": self.endpoint}
        if self.signal == "logs":
            out["headers"] = {
                "x-aws-log-group": self.log_group_name,
                "x-aws-log-stream": self.log_stream_name,
            }
        out["auth"] = {"authenticator": self.auth_extension_id}
        out["compression"] = "gzip"
        out["timeout"] = duration(self.timeout_seconds)
        out["sending_queue"] = self.queue.render()
        out["retry_on_failure"] = self.retry.render()
        return out

    def extensions(self) -> dict[str, dict[str, Any]]:
        return {self.auth_extension_id: {"region": self.region, "service": self.service}}

    def drain_seconds(self) -> float:
        return _helper_drain(self.retry, self.timeout_seconds)


@dataclass(frozen=True, kw_only=True)
class DebugExporter(Exporter):
    """Writes telemetry to the collector's own log (the ``debug`` exporter).

    Attributes:
        name: component name; default: plain ``debug``.
        verbosity: ``basic`` (default: one line per batch), ``normal`` or ``detailed``.
        signals: default: traces, metrics and logs.
    """

    component_type: ClassVar[str] = "debug"
    spec_type: ClassVar[str] = "debug"

    name: str | None = None
    verbosity: Literal["basic", "normal", "detailed"] = "basic"
    signals: tuple[Signal, ...] = SIGNALS

    def __post_init__(self) -> None:
        self.check_name()
        if self.verbosity not in ("basic", "normal", "detailed"):
            raise ConfigError(
                f"{self.setting}.verbosity: must be basic, normal or detailed, "
                f"got {self.verbosity!r}"
            )
        _check_signals(self.signals, setting=f"{self.setting}.signals", allowed=SIGNALS)

    def render(self) -> dict[str, Any]:
        return {"verbosity": self.verbosity}

    def drain_seconds(self) -> float:
        return 0.0
