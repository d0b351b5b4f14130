"""The collector's own metrics as they land in CloudWatch.

The collector pushes its internal metrics (``service.telemetry.metrics``, level ``detailed``)
over OTLP to an internal receiver; the ``metrics/self`` pipeline sends them through the
``awsemf/self`` exporter, so CloudWatch receives each metric under its OpenTelemetry
instrument name (no Prometheus ``_total`` suffix), in :data:`SELF_TELEMETRY_NAMESPACE`,
with the dimensions below. Counters arrive as the increase since the previous push.

Only the metrics listed here are published as CloudWatch metrics (the others stay in the
EMF log events): this module is the contract between the rendered configuration and the
alarms and dashboards built on it.
"""

from __future__ import annotations

from typing import Final

from otel_fargate.names import SELF_TELEMETRY_NAMESPACE as SELF_TELEMETRY_NAMESPACE

#: Dimension: the otel-fargate environment (``CollectorConfigOptions.environment_name``).
DIMENSION_ENVIRONMENT: Final = "environment"
#: Dimension: the service the collector serves (``CollectorConfigOptions.service_name``).
DIMENSION_SERVICE: Final = "service"
#: Dimension of exporter metrics: the exporter's component id (``awsxray``, ``otlp_grpc/gateway``).
#: Queue metrics also carry ``data_type`` (one series per signal); it is not a CloudWatch
#: dimension, so several values share one exporter's dimensions: read them with ``Maximum``.
DIMENSION_EXPORTER: Final = "exporter"
#: Dimension of receiver metrics: the receiver's component id (``otlp``).
DIMENSION_RECEIVER: Final = "receiver"

# Exporters: data handed to the backend, refused by it, or dropped because the queue was full.
EXPORTER_SENT_SPANS: Final = "otelcol_exporter_sent_spans"
EXPORTER_SENT_METRIC_POINTS: Final = "otelcol_exporter_sent_metric_points"
EXPORTER_SENT_LOG_RECORDS: Final = "otelcol_exporter_sent_log_records"
EXPORTER_SEND_FAILED_SPANS: Final = "otelcol_exporter_send_failed_spans"
EXPORTER_SEND_FAILED_METRIC_POINTS: Final = "otelcol_exporter_send_failed_metric_points"
EXPORTER_SEND_FAILED_LOG_RECORDS: Final = "otelcol_exporter_send_failed_log_records"
EXPORTER_ENQUEUE_FAILED_SPANS: Final = "otelcol_exporter_enqueue_failed_spans"
EXPORTER_ENQUEUE_FAILED_METRIC_POINTS: Final = "otelcol_exporter_enqueue_failed_metric_points"
EXPORTER_ENQUEUE_FAILED_LOG_RECORDS: Final = "otelcol_exporter_enqueue_failed_log_records"
EXPORTER_QUEUE_SIZE: Final = "otelcol_exporter_queue_size"
EXPORTER_QUEUE_CAPACITY: Final = "otelcol_exporter_queue_capacity"

# Receivers: data accepted into the pipelines, refused (e.g. by the memory limiter: the
# sender may retry) or failed (an internal error: the data is lost).
RECEIVER_ACCEPTED_SPANS: Final = "otelcol_receiver_accepted_spans"
RECEIVER_ACCEPTED_METRIC_POINTS: Final = "otelcol_receiver_accepted_metric_points"
RECEIVER_ACCEPTED_LOG_RECORDS: Final = "otelcol_receiver_accepted_log_records"
RECEIVER_REFUSED_SPANS: Final = "otelcol_receiver_refused_spans"
RECEIVER_REFUSED_METRIC_POINTS: Final = "otelcol_receiver_refused_metric_points"
RECEIVER_REFUSED_LOG_RECORDS: Final = "otelcol_receiver_refused_log_records"
RECEIVER_FAILED_SPANS: Final = "otelcol_receiver_failed_spans"
RECEIVER_FAILED_METRIC_POINTS: Final = "otelcol_receiver_failed_metric_points"
RECEIVER_FAILED_LOG_RECORDS: Final = "otelcol_receiver_failed_log_records"

# The collector process.
PROCESS_MEMORY_RSS: Final = "otelcol_process_memory_rss"
PROCESS_CPU_SECONDS: Final = "otelcol_process_cpu_seconds"
PROCESS_UPTIME: Final = "otelcol_process_uptime"
PROCESS_RUNTIME_HEAP_ALLOC_BYTES: Final = "otelcol_process_runtime_heap_alloc_bytes"
PROCESS_RUNTIME_TOTAL_SYS_MEMORY_BYTES: Final = "otelcol_process_runtime_total_sys_memory_bytes"

# The scale tier: a routing gateway's load_balancing exporter and a sampler's tail_sampling.
LOADBALANCER_NUM_BACKENDS: Final = "otelcol_loadbalancer_num_backends"
#: Carries ``success`` (true/false) as a dimension.
LOADBALANCER_BACKEND_OUTCOME: Final = "otelcol_loadbalancer_backend_outcome"
SAMPLING_DROPPED_TOO_EARLY: Final = (
    "otelcol_processor_tail_sampling_sampling_trace_dropped_too_early"
)
SAMPLING_TRACES_ON_MEMORY: Final = "otelcol_processor_tail_sampling_sampling_traces_on_memory"
SAMPLING_DECISION_LATENCY: Final = (
    "otelcol_processor_tail_sampling_sampling_decision_timer_latency"
)
SAMPLING_NEW_TRACES: Final = "otelcol_processor_tail_sampling_new_trace_id_received"
#: Carries ``sampled`` (true/false) as a dimension.
SAMPLING_TRACES_DECIDED: Final = "otelcol_processor_tail_sampling_global_count_traces_sampled"
#: Dimension of the routing outcome: ``true`` or ``false``.
DIMENSION_SUCCESS: Final = "success"
#: Dimension of the sampling decision: ``true`` or ``false``.
DIMENSION_SAMPLED: Final = "sampled"

#: Metrics published with dimensions (environment, service, exporter).
EXPORTER_METRICS: Final[tuple[str, ...]] = (
    EXPORTER_SENT_SPANS,
    EXPORTER_SENT_METRIC_POINTS,
    EXPORTER_SENT_LOG_RECORDS,
    EXPORTER_SEND_FAILED_SPANS,
    EXPORTER_SEND_FAILED_METRIC_POINTS,
    EXPORTER_SEND_FAILED_LOG_RECORDS,
    EXPORTER_ENQUEUE_FAILED_SPANS,
    EXPORTER_ENQUEUE_FAILED_METRIC_POINTS,
    EXPORTER_ENQUEUE_FAILED_LOG_RECORDS,
    EXPORTER_QUEUE_SIZE,
    EXPORTER_QUEUE_CAPACITY,
)

#: Metrics published with dimensions (environment, service, receiver).
RECEIVER_METRICS: Final[tuple[str, ...]] = (
    RECEIVER_ACCEPTED_SPANS,
    RECEIVER_ACCEPTED_METRIC_POINTS,
    RECEIVER_ACCEPTED_LOG_RECORDS,
    RECEIVER_REFUSED_SPANS,
    RECEIVER_REFUSED_METRIC_POINTS,
    RECEIVER_REFUSED_LOG_RECORDS,
    RECEIVER_FAILED_SPANS,
    RECEIVER_FAILED_METRIC_POINTS,
    RECEIVER_FAILED_LOG_RECORDS,
)

#: Metrics published with dimensions (environment, service).
PROCESS_METRICS: Final[tuple[str, ...]] = (
    PROCESS_MEMORY_RSS,
    PROCESS_CPU_SECONDS,
    PROCESS_UPTIME,
    PROCESS_RUNTIME_HEAP_ALLOC_BYTES,
    PROCESS_RUNTIME_TOTAL_SYS_MEMORY_BYTES,
)

#: Scale-tier metrics published with dimensions (environment, service).
TIER_METRICS: Final[tuple[str, ...]] = (
    LOADBALANCER_NUM_BACKENDS,
    SAMPLING_DROPPED_TOO_EARLY,
    SAMPLING_TRACES_ON_MEMORY,
    SAMPLING_DECISION_LATENCY,
    SAMPLING_NEW_TRACES,
)

#: Every metric published into CloudWatch.
ALL_METRICS: Final[tuple[str, ...]] = (
    EXPORTER_METRICS
    + RECEIVER_METRICS
    + PROCESS_METRICS
    + TIER_METRICS
    + (LOADBALANCER_BACKEND_OUTCOME, SAMPLING_TRACES_DECIDED)
)

#: Dimension of the app containers' metrics: the container's name in its task definition.
DIMENSION_CONTAINER: Final = "container.name"

# Container metrics (the awsecscontainermetrics receiver, when they go out): the app
# containers' CPU and memory and the task's ephemeral storage, published beside the
# collector's own metrics for the dashboard and the disk alarm. Tasks of one service share
# these dimensions: read them with ``Maximum`` to see the busiest task.
CONTAINER_CPU_UTILIZED: Final = "container.cpu.utilized"
CONTAINER_MEMORY_UTILIZED: Final = "container.memory.utilized"
TASK_CPU_UTILIZED: Final = "ecs.task.cpu.utilized"
TASK_MEMORY_UTILIZED: Final = "ecs.task.memory.utilized"
TASK_EPHEMERAL_STORAGE_UTILIZED: Final = "ecs.task.ephemeral_storage.utilized"
TASK_EPHEMERAL_STORAGE_RESERVED: Final = "ecs.task.ephemeral_storage.reserved"

#: Container metrics published into CloudWatch (those of them that go out), by group.
CONTAINER_METRIC_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "app_container": (CONTAINER_CPU_UTILIZED, CONTAINER_MEMORY_UTILIZED),
    "task": (
        TASK_CPU_UTILIZED,
        TASK_MEMORY_UTILIZED,
        TASK_EPHEMERAL_STORAGE_UTILIZED,
        TASK_EPHEMERAL_STORAGE_RESERVED,
    ),
}

#: Dimension sets, by metric group, in the order the EMF exporter declares them.
DIMENSIONS: Final[dict[str, tuple[str, ...]]] = {
    "exporter": (DIMENSION_ENVIRONMENT, DIMENSION_SERVICE, DIMENSION_EXPORTER),
    "receiver": (DIMENSION_ENVIRONMENT, DIMENSION_SERVICE, DIMENSION_RECEIVER),
    "process": (DIMENSION_ENVIRONMENT, DIMENSION_SERVICE),
    "tier": (DIMENSION_ENVIRONMENT, DIMENSION_SERVICE),
    "routing": (DIMENSION_ENVIRONMENT, DIMENSION_SERVICE, DIMENSION_SUCCESS),
    "sampled": (DIMENSION_ENVIRONMENT, DIMENSION_SERVICE, DIMENSION_SAMPLED),
    "app_container": (DIMENSION_ENVIRONMENT, DIMENSION_SERVICE, DIMENSION_CONTAINER),
    "task": (DIMENSION_ENVIRONMENT, DIMENSION_SERVICE),
}

#: Metric names by group, matching :data:`DIMENSIONS`.
METRIC_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "exporter": EXPORTER_METRICS,
    "receiver": RECEIVER_METRICS,
    "process": PROCESS_METRICS,
    "tier": TIER_METRICS,
    "routing": (LOADBALANCER_BACKEND_OUTCOME,),
    "sampled": (SAMPLING_TRACES_DECIDED,),
}


def dimensions_for(metric_name: str) -> tuple[str, ...]:
    """The CloudWatch dimension names a published metric carries.

    Raises:
        KeyError: the metric is not published into CloudWatch.
    """
    for group, names in {**METRIC_GROUPS, **CONTAINER_METRIC_GROUPS}.items():
        if metric_name in names:
            return DIMENSIONS[group]
    raise KeyError(metric_name)
