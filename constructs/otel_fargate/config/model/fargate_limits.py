"""Components that cannot run on Fargate, and why."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from otel_fargate.errors import ConfigError

#: Receiver types that need what a Fargate task does not have, with the reason and the way out.
NOT_ON_FARGATE: Final[dict[str, str]] = {
    "awscontainerinsightreceiver": (
        "it reads the container instance's cAdvisor, Docker and host metrics, which exist on "
        "EC2 only; on Fargate use awsecscontainermetrics (the task metadata endpoint) and "
        "Container Insights on the cluster"
    ),
    "docker_stats": "Fargate gives containers no Docker socket; use awsecscontainermetrics",
    "podman_stats": "Fargate gives containers no Podman socket; use awsecscontainermetrics",
}


def check_fargate_receivers(receivers: Mapping[str, Any], *, layer: str) -> None:
    """Refuse receivers that cannot run on Fargate, saying why."""
    for rid in receivers:
        reason = NOT_ON_FARGATE.get(str(rid).split("/", 1)[0])
        if reason is not None:
            raise ConfigError(f"{layer}: receivers.{rid}: cannot run on Fargate: {reason}")
