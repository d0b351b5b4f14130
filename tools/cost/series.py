"""The CloudWatch metric series a rendered collector configuration publishes.

CloudWatch bills each unique (namespace, metric name, dimension values) per month. Only the
``awsemf`` exporters publish metrics here; each is read from the rendered configuration:

- **With** ``metric_declarations``: every metric that reaches the exporter and matches a
  declaration's ``metric_name_selectors``, once per dimension set of that declaration, times the
  values each dimension can take. What reaches the exporter is known for two sources: the
  collector's own metrics (the ``otlp/self`` receiver: the names of
  :data:`otel_fargate.telemetry.ALL_METRICS`) and container metrics (``awsecscontainermetrics``:
  the names of ``ALL_CONTAINER_METRICS``, less those a strict ``filter`` processor in the
  pipeline drops). The values of a dimension: one for ``environment`` and ``service`` (the
  collector sets them), the exporters (or receivers) wired to the metric's signal for
  ``exporter`` (``receiver``), two for ``success`` and ``sampled``, and the task's containers for
  ``container.name``. A metric of the scale tier counts only where its component is configured.
- **Without** declarations the exporter publishes every metric its pipelines carry, with
  whatever attributes the senders give them: not estimated, and said so.

The figure is an upper bound for the collector's own metrics: a counter that records nothing
in a month (a component that stayed idle) publishes nothing that month.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from otel_fargate import telemetry
from otel_fargate.config.core.values import component_type
from otel_fargate.config.model.container_metrics import ALL_CONTAINER_METRICS
from otel_fargate.config.receivers.container_metrics import CONTAINER_METRICS_RECEIVER_ID
from otel_fargate.names import SELF_RECEIVER_ID

#: What each receiver whose metric names are known can send, by receiver id.
KNOWN_SOURCES: Final[Mapping[str, tuple[str, ...]]] = {
    SELF_RECEIVER_ID: telemetry.ALL_METRICS,
    CONTAINER_METRICS_RECEIVER_ID: tuple(ALL_CONTAINER_METRICS),
}

#: Dimensions that take one value per task: a declaration naming one multiplies by tasks.
PER_TASK_DIMENSIONS: Final = frozenset(
    {"aws.ecs.task.arn", "aws.ecs.task.id", "container.id", "host.name", "service.instance.id"}
)

#: Dimensions with a fixed number of values whatever the configuration.
_FIXED_VALUES: Final[Mapping[str, int]] = {
    telemetry.DIMENSION_ENVIRONMENT: 1,
    telemetry.DIMENSION_SERVICE: 1,
    telemetry.DIMENSION_SUCCESS: 2,
    telemetry.DIMENSION_SAMPLED: 2,
}

#: Metric-name prefix -> the component type that must be configured for it to be emitted.
_NEEDS_COMPONENT: Final[Mapping[str, tuple[str, str]]] = {
    "otelcol_loadbalancer_": ("exporters", "loadbalancing"),
    "otelcol_processor_tail_sampling_": ("processors", "tail_sampling"),
}

_SIGNAL_SUFFIXES: Final[Mapping[str, str]] = {
    "_spans": "traces",
    "_metric_points": "metrics",
    "_log_records": "logs",
}

Config = Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class SeriesGroup:
    """Series of one metric name and dimension set of one exporter.

    Attributes:
        exporter: the ``awsemf`` exporter's component id.
        namespace: its CloudWatch namespace.
        metric: the metric name.
        dimensions: the dimension names.
        count: series per service, or per task when ``per_task``.
    """

    exporter: str
    namespace: str
    metric: str
    dimensions: tuple[str, ...]
    count: int
    per_task: bool


@dataclass(frozen=True, kw_only=True)
class PublishedSeries:
    """What a configuration publishes: counted series, and what could not be counted."""

    groups: tuple[SeriesGroup, ...]
    not_estimated: tuple[str, ...]

    def total(self, *, tasks: int) -> int:
        """Series of a service running ``tasks`` tasks."""
        return sum(g.count * (tasks if g.per_task else 1) for g in self.groups)

    @property
    def per_task(self) -> int:
        """Series each task adds (those with a per-task dimension)."""
        return sum(g.count for g in self.groups if g.per_task)

    @property
    def shared(self) -> int:
        """Series the service's tasks share (no dimension tells tasks apart)."""
        return sum(g.count for g in self.groups if not g.per_task)


def _pipelines(config: Config) -> Mapping[str, Mapping[str, Any]]:
    service = config.get("service")
    pipelines = service.get("pipelines") if isinstance(service, Mapping) else None
    return pipelines if isinstance(pipelines, Mapping) else {}


def _wired(config: Config, kind: str, signal: str | None) -> set[str]:
    """Components of ``kind`` in the pipelines of ``signal`` (every pipeline when None)."""
    found: set[str] = set()
    for name, pipeline in _pipelines(config).items():
        if signal is None or component_type(str(name)) == signal:
            found.update(str(c) for c in pipeline.get(kind, ()))
    return found


def _kept_by_filters(config: Config, processors: Sequence[str], names: Sequence[str]) -> list[str]:
    """``names`` less those a strict include ``filter`` among ``processors`` drops."""
    kept = list(names)
    for processor in processors:
        settings = config.get("processors", {}).get(processor)
        if component_type(processor) != "filter" or not isinstance(settings, Mapping):
            continue
        include = settings.get("metrics", {}).get("include", {})
        if include.get("match_type") == "strict":
            allowed = set(include.get("metric_names", ()))
            kept = [name for name in kept if name in allowed]
    return kept


def _arriving(config: Config, exporter: str) -> tuple[set[str], set[str]]:
    """(known metric names, receivers of unknown names) of the pipelines feeding ``exporter``."""
    known: set[str] = set()
    unknown: set[str] = set()
    for pipeline in _pipelines(config).values():
        if exporter not in pipeline.get("exporters", ()):
            continue
        for receiver in pipeline.get("receivers", ()):
            if receiver in KNOWN_SOURCES:
                processors = list(pipeline.get("processors", ()))
                known.update(_kept_by_filters(config, processors, KNOWN_SOURCES[receiver]))
            else:
                unknown.add(str(receiver))
    return known, unknown


def _emitted(config: Config, metric: str) -> bool:
    for prefix, (kind, needed) in _NEEDS_COMPONENT.items():
        if metric.startswith(prefix):
            return any(component_type(c) == needed for c in config.get(kind, {}))
    return True


def _signal(metric: str) -> str | None:
    for suffix, signal in _SIGNAL_SUFFIXES.items():
        if metric.endswith(suffix):
            return signal
    return None


def _values(config: Config, metric: str, dimension: str, *, containers: int) -> int | None:
    """How many values ``dimension`` takes for ``metric``; None when unknown."""
    if dimension in _FIXED_VALUES:
        return _FIXED_VALUES[dimension]
    if dimension == telemetry.DIMENSION_CONTAINER:
        return containers
    if dimension in (telemetry.DIMENSION_EXPORTER, telemetry.DIMENSION_RECEIVER):
        return len(_wired(config, f"{dimension}s", _signal(metric)))
    if dimension in PER_TASK_DIMENSIONS:
        return 1
    return None


def _declared(
    config: Config, exporter: str, settings: Mapping[str, Any], *, containers: int
) -> PublishedSeries:
    namespace = str(settings.get("namespace", ""))
    known, unknown = _arriving(config, exporter)
    groups: list[SeriesGroup] = []
    notes = [
        f"{exporter}: metrics from receiver {receiver} (names not known before they arrive)"
        for receiver in sorted(unknown)
    ]
    for declaration in settings["metric_declarations"]:
        selectors = [re.compile(s) for s in declaration.get("metric_name_selectors", ())]
        matched = sorted(m for m in known if any(s.search(m) for s in selectors))
        for metric in (m for m in matched if _emitted(config, m)):
            for dimension_set in declaration.get("dimensions", ()):
                dimensions = tuple(str(d) for d in dimension_set)
                counts = [_values(config, metric, d, containers=containers) for d in dimensions]
                if any(c is None for c in counts):
                    notes.append(f"{exporter}: {metric} by {', '.join(dimensions)}")
                    continue
                product = 1
                for count in counts:
                    product *= int(count or 0)
                groups.append(
                    SeriesGroup(
                        exporter=exporter,
                        namespace=namespace,
                        metric=metric,
                        dimensions=dimensions,
                        count=product,
                        per_task=bool(PER_TASK_DIMENSIONS.intersection(dimensions)),
                    )
                )
    return PublishedSeries(groups=tuple(groups), not_estimated=tuple(notes))


def published_series(config: Config, *, containers_per_task: int) -> PublishedSeries:
    """The series every ``awsemf`` exporter of ``config`` in a pipeline publishes.

    :param containers_per_task: containers of the collector's task (values of
        ``container.name``).
    """
    groups: list[SeriesGroup] = []
    notes: list[str] = []
    for exporter in sorted(_wired(config, "exporters", None)):
        settings = config.get("exporters", {}).get(exporter)
        if component_type(exporter) != "awsemf" or not isinstance(settings, Mapping):
            continue
        if not settings.get("metric_declarations"):
            notes.append(
                f"{exporter} (namespace {settings.get('namespace')}): no metric_declarations, "
                "so every metric its pipelines carry, with the senders' attributes"
            )
            continue
        found = _declared(config, exporter, settings, containers=containers_per_task)
        groups.extend(found.groups)
        notes.extend(found.not_estimated)
    return PublishedSeries(groups=tuple(groups), not_estimated=tuple(notes))
