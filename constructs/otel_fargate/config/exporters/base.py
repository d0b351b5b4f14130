"""What every typed exporter shares: signals, the sending queue, retries and the base class.

Each exporter knows its component id (``type`` or ``type/name``), the signals it takes, its
YAML, the extensions it needs (authenticators) and the secrets it reads. How long one batch
can take to drain is read from its YAML by :mod:`otel_fargate.config.policy.drain`, the rule that
also measures overrides and replacements.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from otel_fargate.checks import check_bool, check_int, check_number
from otel_fargate.config.core.durations import format_duration
from otel_fargate.config.core.secrets import SecretRef
from otel_fargate.config.core.sizing import MIB, QUEUE_SIZER
from otel_fargate.config.core.values import (
    Signal,
)
from otel_fargate.config.policy.drain import drain_of
from otel_fargate.errors import ConfigError
from otel_fargate.names import EXPORT_BATCH_FLUSH_TIMEOUT, MAX_STOP_TIMEOUT_SECONDS

#: The smallest exporter queue accepted, in bytes: less holds hardly one batch.
MIN_QUEUE_BYTES = MIB

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


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
        check_bool(f"{setting}.enabled", self.enabled, error=ConfigError)
        check_int(f"{setting}.num_consumers", self.num_consumers, low=1, error=ConfigError)
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
        check_bool(f"{setting}.enabled", self.enabled, error=ConfigError)
        initial, maximum, elapsed = (
            check_number(
                f"{setting}.{name}", getattr(self, name), low_inclusive=False, error=ConfigError
            )
            for name in ("initial_interval_seconds", "max_interval_seconds", "max_elapsed_seconds")
        )
        for name, value in (("max_interval_seconds", maximum), ("max_elapsed_seconds", elapsed)):
            if value < initial:
                raise ConfigError(
                    f"{setting}.{name}: must be >= initial_interval_seconds "
                    f"({initial:g}), got {value:g}"
                )

    def render(self) -> dict[str, Any]:
        """The ``retry_on_failure`` block."""
        return {
            "enabled": self.enabled,
            "initial_interval": format_duration(self.initial_interval_seconds),
            "max_interval": format_duration(self.max_interval_seconds),
            "max_elapsed_time": format_duration(self.max_elapsed_seconds),
        }


def check_queue_and_retry(
    queue: object, retry: object, timeout_seconds: object, setting: str
) -> None:
    """Raise ConfigError for a malformed queue, retry policy or per-attempt timeout."""
    if not isinstance(queue, SendingQueue):
        raise ConfigError(f"{setting}.queue: must be a SendingQueue, got {queue!r}")
    if not isinstance(retry, RetryOnFailure):
        raise ConfigError(f"{setting}.retry: must be a RetryOnFailure, got {retry!r}")
    queue.check(f"{setting}.queue")
    retry.check(f"{setting}.retry")
    check_number(
        f"{setting}.timeout_seconds", timeout_seconds, low_inclusive=False, error=ConfigError
    )


class Exporter:
    """Base class of the typed exporters. Subclasses are frozen keyword-only dataclasses."""

    #: The collector component type (``otlp``, ``awsxray``...).
    component_type: ClassVar[str]

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
        drain = drain_of(
            self.type_name(),
            self.render(),
            where=self.setting,
            stop_timeout_seconds=MAX_STOP_TIMEOUT_SECONDS,
        )
        return 0.0 if drain is None else drain.total


def render_headers(headers: Mapping[str, str | SecretRef]) -> dict[str, str]:
    """Headers as YAML: a SecretRef becomes its ``${env:NAME}`` reference."""
    return {
        key: (value.reference if isinstance(value, SecretRef) else value)
        for key, value in headers.items()
    }


def split_batches(max_bytes: int) -> dict[str, Any]:
    """A ``sending_queue.batch`` that only splits: a request larger than ``max_bytes`` of
    serialized telemetry leaves as several, each at most ``max_bytes``, and with ``min_size``
    0 nothing waits for more data (the pipeline's batch processor has batched by count).
    """
    return {
        "sizer": QUEUE_SIZER,
        "min_size": 0,
        "max_size": max_bytes,
        "flush_timeout": EXPORT_BATCH_FLUSH_TIMEOUT,
    }


def helper_settings(
    queue: SendingQueue,
    retry: RetryOnFailure,
    timeout_seconds: float | None,
    *,
    max_batch_bytes: int | None = None,
) -> dict[str, Any]:
    """The exporter-helper blocks: ``timeout`` (when given), ``sending_queue``, retries; with
    ``max_batch_bytes``, an enabled queue splits requests larger than that.
    """
    out: dict[str, Any] = {}
    if timeout_seconds is not None:
        out["timeout"] = format_duration(timeout_seconds)
    out["sending_queue"] = queue.render()
    if max_batch_bytes is not None and queue.enabled:
        out["sending_queue"]["batch"] = split_batches(max_batch_bytes)
    out["retry_on_failure"] = retry.render()
    return out
