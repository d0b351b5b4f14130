"""Task and container metrics from the ECS task metadata endpoint (``awsecscontainermetrics``).

The receiver reads ``${ECS_CONTAINER_METADATA_URI_V4}/task`` and ``/task/stats``, which every
Fargate task (platform 1.4.0 or later) serves its containers, and needs no credentials. Its
metrics go through a pipeline of their own (``metrics/container``) to the exporters of the
``metrics`` pipeline, so choosing which of them go out never filters the app's own metrics.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from otel_fargate.checks import check_bool, check_int, fail
from otel_fargate.config.model.container_metrics import (
    ALL_CONTAINER_METRICS,
    DEFAULT_CONTAINER_METRICS,
)
from otel_fargate.errors import ConfigError

#: The receiver's component id.
CONTAINER_METRICS_RECEIVER_ID: Final = "awsecscontainermetrics"
#: The processor that keeps only the chosen metrics.
CONTAINER_METRICS_FILTER_ID: Final = "filter/container_metrics"
#: The processor that adds the environment and service the dashboard's dimensions name.
CONTAINER_METRICS_RESOURCE_ID: Final = "resource/container_metrics"

_SETTING = "container_metrics"


@dataclass(frozen=True, kw_only=True)
class ContainerMetrics:
    """CPU, memory, network, storage and ephemeral-storage metrics of the task and its containers.

    Attributes:
        enabled: collect them; ``False`` switches them off. Default: on for the sidecar and
            agent wherever the collector has a metrics pipeline (an exporter, or for an agent
            a forwarded signal, takes metrics); the gateway and the samplers run in tasks of
            their own and refuse them.
        metrics: the metric names that go out, each one the receiver emits
            (``otel_fargate.config.model.container_metrics.ALL_CONTAINER_METRICS``; pass that
            for all 54); every other one is dropped in the collector before any exporter sees
            it. Default: the task's CPU, memory and ephemeral storage used and reserved, and each
            container's CPU and memory used (eight names, ``DEFAULT_CONTAINER_METRICS``).
        collection_interval_seconds: how often the receiver reads the endpoint, 10 to 3600;
            default: 60 s.
    """

    enabled: bool = True
    metrics: Sequence[str] = DEFAULT_CONTAINER_METRICS
    collection_interval_seconds: int = 60

    def __post_init__(self) -> None:
        check_bool(f"{_SETTING}.enabled", self.enabled, error=ConfigError)
        check_int(
            f"{_SETTING}.collection_interval_seconds",
            self.collection_interval_seconds,
            low=10,
            high=3600,
            error=ConfigError,
        )
        if isinstance(self.metrics, str | bytes) or not isinstance(self.metrics, Sequence):
            raise fail(
                f"{_SETTING}.metrics",
                "must be a list of metric names",
                self.metrics,
                error=ConfigError,
            )
        object.__setattr__(self, "metrics", tuple(self.metrics))
        if self.enabled and not self.metrics:
            raise fail(
                f"{_SETTING}.metrics",
                "must name at least one metric (enabled=False switches them off)",
                self.metrics,
                error=ConfigError,
            )
        seen: set[str] = set()
        for index, name in enumerate(self.metrics):
            setting = f"{_SETTING}.metrics[{index}]"
            if name in seen:
                raise fail(setting, "is named twice", name, error=ConfigError)
            seen.add(name)
            if not isinstance(name, str) or name not in ALL_CONTAINER_METRICS:
                closest = difflib.get_close_matches(str(name), ALL_CONTAINER_METRICS, n=1)
                hint = f" (closest: {closest[0]})" if closest else ""
                raise fail(
                    setting,
                    f"must be a metric the awsecscontainermetrics receiver emits{hint}",
                    name,
                    error=ConfigError,
                )

    @property
    def selects_all(self) -> bool:
        """Whether every metric the receiver emits goes out (no filter needed)."""
        return set(self.metrics) == set(ALL_CONTAINER_METRICS)

    def receiver(self) -> dict[str, Any]:
        """The receiver's YAML block."""
        return {"collection_interval": f"{self.collection_interval_seconds}s"}

    def filter(self) -> dict[str, Any] | None:
        """The filter processor keeping the chosen metrics, or None when all go out."""
        if self.selects_all:
            return None
        names = list(self.metrics)
        return {"metrics": {"include": {"match_type": "strict", "metric_names": names}}}


def check_container_metrics(value: object, *, preset: str) -> ContainerMetrics | None:
    """``value`` if it is None or a ContainerMetrics the ``preset`` can run."""
    if value is None:
        return None
    if not isinstance(value, ContainerMetrics):
        raise fail(_SETTING, "must be a ContainerMetrics or None", value, error=ConfigError)
    if value.enabled and preset not in ("sidecar", "agent"):
        raise fail(
            _SETTING,
            f"only the sidecar and agent run in the app's task, whose metadata endpoint they "
            f"read (preset {preset!r}); pass ContainerMetrics(enabled=False) or None",
            value,
            error=ConfigError,
        )
    return value
