"""Metrics to Amazon Managed Service for Prometheus, by remote write signed with SigV4."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from otel_fargate.checks import check_int
from otel_fargate.config.core.durations import format_duration
from otel_fargate.config.core.values import Signal
from otel_fargate.config.exporters.aws import check_region
from otel_fargate.config.exporters.base import (
    Exporter,
    RetryOnFailure,
    SendingQueue,
    check_queue_and_retry,
)
from otel_fargate.errors import ConfigError

_WORKSPACE = re.compile(r"^ws-[A-Za-z0-9-]+$")


@dataclass(frozen=True, kw_only=True)
class AmpExporter(Exporter):
    """Metrics to an Amazon Managed Service for Prometheus workspace (the
    ``prometheus_remote_write`` exporter with a ``sigv4auth`` authenticator).

    The task role gets ``aps:RemoteWrite`` on exactly this workspace.

    Attributes:
        workspace_id: the workspace (``ws-...``), required.
        region: the workspace's region, required (part of the endpoint).
        name: component name, making the id ``prometheus_remote_write/<name>``; default: plain.
        queue_size: batches held by the exporter's own remote-write queue; default: 10000.
        num_consumers: batches sent concurrently; default: 5.
        retry: default: ``RetryOnFailure()`` (60 s of retries).
        timeout_seconds: per send attempt; default: 10 s.
    """

    component_type: ClassVar[str] = "prometheus_remote_write"

    workspace_id: str
    region: str
    name: str | None = None
    queue_size: int = 10000
    num_consumers: int = 5
    retry: RetryOnFailure = field(default_factory=RetryOnFailure)
    timeout_seconds: float = 10

    def __post_init__(self) -> None:
        self.check_name()
        if not isinstance(self.workspace_id, str) or not _WORKSPACE.fullmatch(self.workspace_id):
            raise ConfigError(
                f"{self.setting}.workspace_id: must be a workspace id such as ws-0123abcd, "
                f"got {self.workspace_id!r}"
            )
        check_region(self.region, setting=f"{self.setting}.region", required=True)
        check_int(f"{self.setting}.queue_size", self.queue_size, low=1, error=ConfigError)
        check_int(f"{self.setting}.num_consumers", self.num_consumers, low=1, error=ConfigError)
        check_queue_and_retry(SendingQueue(), self.retry, self.timeout_seconds, self.setting)

    @property
    def endpoint(self) -> str:
        """The workspace's remote-write URL."""
        return (
            f"https://aps-workspaces.{self.region}.amazonaws.com/workspaces/"
            f"{self.workspace_id}/api/v1/remote_write"
        )

    @property
    def auth_extension_id(self) -> str:
        """The id of the ``sigv4auth`` extension this exporter signs with."""
        return "sigv4auth/amp" if self.name is None else f"sigv4auth/amp_{self.name}"

    @property
    def signals(self) -> tuple[Signal, ...]:
        """The signals this exporter takes."""
        return ("metrics",)

    def render(self) -> dict[str, Any]:
        """The exporter's YAML block."""
        return {
            "endpoint": self.endpoint,
            "auth": {"authenticator": self.auth_extension_id},
            "timeout": format_duration(self.timeout_seconds),
            "remote_write_queue": {
                "enabled": True,
                "queue_size": self.queue_size,
                "num_consumers": self.num_consumers,
            },
            "retry_on_failure": self.retry.render(),
        }

    def extensions(self) -> dict[str, dict[str, Any]]:
        """Extensions this exporter needs, by component id."""
        return {self.auth_extension_id: {"region": self.region, "service": "aps"}}
