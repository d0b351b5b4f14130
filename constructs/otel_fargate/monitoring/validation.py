"""Checks of CollectorMonitoring's arguments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Token

from otel_fargate import telemetry
from otel_fargate.checks import check_int, check_number, check_percent, check_text, fail
from otel_fargate.errors import OtelFargateError
from otel_fargate.monitoring.metrics import ALL_SIGNALS, SIGNAL_UNITS
from otel_fargate.names import CONTAINER_METRICS_PIPELINE_ID, SELF_PIPELINE_ID

#: CloudWatch refuses alarms whose metric math reads more than 10 metrics.
MAX_ALARM_METRICS = 10
_DASHBOARD_NAME_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
)


def components(name: str, given: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """``given`` (component id -> signals) checked and normalised."""
    if not isinstance(given, Mapping) or not given:
        raise fail(name, "must map at least one component id to its signals", given)
    result: dict[str, tuple[str, ...]] = {}
    for component, signals in given.items():
        if not isinstance(component, str) or not component.strip():
            raise fail(name, "component ids must be non-empty strings", component)
        if isinstance(signals, str) or not signals:
            raise fail(
                f"{name}[{component!r}]",
                f"must be a non-empty list of signals {list(ALL_SIGNALS)}",
                signals,
            )
        for signal in signals:
            if signal not in SIGNAL_UNITS:
                raise OtelFargateError(
                    f"{name}[{component!r}]: unknown signal {signal!r}, expected one of "
                    f"{list(ALL_SIGNALS)}"
                )
        if len(set(signals)) != len(signals):
            raise fail(f"{name}[{component!r}]", "signals must be unique", list(signals))
        result[component] = tuple(signals)
    return result


def check_props(
    *,
    environment_name: str,
    service_name: str,
    namespace: str,
    memory_limit_mib: int,
    exporters: Mapping[str, Sequence[str]] | None,
    receivers: Mapping[str, Sequence[str]] | None,
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Check the names, the memory limit and the components; return the components'
    signals (exporters: none when not given; receivers: the OTLP receiver by default).
    """
    check_text("environment_name", environment_name)
    check_text("service_name", service_name)
    check_text("namespace", namespace)
    check_int("memory_limit_mib", memory_limit_mib, low=1)
    exporter_signals = components("exporters", exporters) if exporters is not None else {}
    receiver_signals = components(
        "receivers", receivers if receivers is not None else {"otlp": ALL_SIGNALS}
    )
    alarm_capacity(exporter_signals, receiver_signals)
    return exporter_signals, receiver_signals


def alarm_capacity(
    exporters: Mapping[str, tuple[str, ...]], receivers: Mapping[str, tuple[str, ...]]
) -> None:
    """Refuse component sets that no single CloudWatch alarm can read."""
    failure_pairs = sum(len(s) for s in exporters.values())
    if failure_pairs > MAX_ALARM_METRICS:
        raise OtelFargateError(
            f"exporters: an alarm can read at most {MAX_ALARM_METRICS} metrics, got "
            f"{failure_pairs} exporter/signal pairs"
        )
    if 2 * len(exporters) > MAX_ALARM_METRICS:
        raise OtelFargateError(
            f"exporters: at most {MAX_ALARM_METRICS // 2} exporters fit one queue alarm, "
            f"got {len(exporters)}"
        )
    refusal_pairs = sum(len(s) for s in receivers.values())
    if refusal_pairs > MAX_ALARM_METRICS:
        raise OtelFargateError(
            f"receivers: an alarm can read at most {MAX_ALARM_METRICS} metrics, got "
            f"{refusal_pairs} receiver/signal pairs"
        )


def ecs_names(has_service: bool, cluster_name: str | None, service_name: str | None) -> None:
    """The ECS service is given either as a construct or as both names."""
    if has_service and (cluster_name is not None or service_name is not None):
        raise OtelFargateError(
            "ecs_cluster_name/ecs_service_name: give either service or the names, "
            f"got service and ecs_cluster_name={cluster_name!r}, "
            f"ecs_service_name={service_name!r}"
        )
    if (cluster_name is None) != (service_name is None):
        raise OtelFargateError(
            "ecs_cluster_name and ecs_service_name must be given together, got "
            f"ecs_cluster_name={cluster_name!r}, ecs_service_name={service_name!r}"
        )
    for setting, value in (("ecs_cluster_name", cluster_name), ("ecs_service_name", service_name)):
        if value is not None:
            check_text(setting, value)


def evaluation(
    period_seconds: int, evaluation_periods: int, datapoints_to_alarm: int, report_seconds: int
) -> int:
    """Periods CloudWatch accepts, and datapoints within the evaluation window; returns the
    collector's report interval (``self_telemetry_interval_seconds``), checked.
    """
    check_int("self_telemetry_interval_seconds", report_seconds, low=1)
    if period_seconds not in (10, 30) and (period_seconds <= 0 or period_seconds % 60 != 0):
        raise fail("period_seconds", "must be 10, 30 or a positive multiple of 60", period_seconds)
    check_int("evaluation_periods", evaluation_periods, low=1)
    check_int("datapoints_to_alarm", datapoints_to_alarm, low=1, high=evaluation_periods)
    if period_seconds * evaluation_periods > 86400:
        raise fail(
            "evaluation_periods",
            "period_seconds * evaluation_periods must not exceed one day (86400 s)",
            period_seconds * evaluation_periods,
        )
    return report_seconds


def thresholds(
    *,
    queue_percent: float,
    memory_percent: float,
    export_failures: float,
    refused: float,
    restarts: float,
) -> None:
    """Percentages in (0, 100], counts at least 0."""
    check_percent("queue_utilization_threshold_percent", queue_percent)
    check_percent("memory_utilization_threshold_percent", memory_percent)
    for setting, value in (
        ("export_failure_threshold", export_failures),
        ("refused_threshold", refused),
        ("restart_threshold", restarts),
    ):
        check_number(setting, value, low=0)


def dashboard_name(name: str, *, derived: bool) -> str:
    """``name`` if CloudWatch accepts it as a dashboard name (tokens pass)."""
    if Token.is_unresolved(name):
        return name
    if not 1 <= len(name) <= 255 or not set(name) <= _DASHBOARD_NAME_CHARS:
        raise OtelFargateError(
            f"dashboard_name: must be 1-255 letters, digits, '-' or '_', got {name!r}"
            + (" (from environment_name/service_name)" if derived else "")
        )
    return name


def container_metrics(given: Sequence[str]) -> tuple[str, ...]:
    """``given`` if every name is a container metric the collector can publish."""
    if isinstance(given, str | bytes) or not isinstance(given, Sequence):
        raise fail("container_metrics", "must be a list of metric names", given)
    known = {name for names in telemetry.CONTAINER_METRIC_GROUPS.values() for name in names}
    for index, name in enumerate(given):
        if name not in known:
            raise fail(
                f"container_metrics[{index}]",
                f"must be one of {', '.join(sorted(known))}",
                name,
            )
    return tuple(given)


def pipeline_components(
    config: Mapping[str, object],
    *,
    skip_pipelines: Sequence[str] = (SELF_PIPELINE_ID, CONTAINER_METRICS_PIPELINE_ID),
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """The ``(exporters, receivers)`` arguments of CollectorMonitoring for a config.

    Each pipeline's signal is the part of its name before ``/``.

    Args:
        config: a rendered collector configuration.
        skip_pipelines: pipelines left out. Default: ``metrics/self``, the pipeline that ships
            the collector's own metrics, and ``metrics/container`` (container metrics, to the
            same exporters as ``metrics``).
    """
    service = config.get("service")
    pipelines = service.get("pipelines") if isinstance(service, Mapping) else None
    if not isinstance(pipelines, Mapping):
        raise fail("service.pipelines", "must be a mapping of pipelines", pipelines)
    exporters: dict[str, list[str]] = {}
    receivers: dict[str, list[str]] = {}
    for name, pipeline in pipelines.items():
        signal = str(name).split("/", 1)[0]
        if name in skip_pipelines or signal not in SIGNAL_UNITS:
            continue
        if not isinstance(pipeline, Mapping):
            continue
        for target, key in ((exporters, "exporters"), (receivers, "receivers")):
            for component in pipeline.get(key) or ():
                signals = target.setdefault(str(component), [])
                if signal not in signals:
                    signals.append(signal)
    return (
        {k: tuple(v) for k, v in exporters.items()},
        {k: tuple(v) for k, v in receivers.items()},
    )
