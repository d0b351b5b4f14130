"""Prometheus scraping of ECS tasks: ``ecs_observer`` finds the targets, ``prometheus`` scrapes.

The ``ecs_observer`` extension lists the cluster's running tasks every ``refresh_interval``,
keeps the containers whose Docker labels name a metrics port (:data:`SCRAPE_PORT_LABEL`, set
by ``scrape_target()``), and writes them as a Prometheus file-SD file: each target the task's
private IP and that port, with the metrics path and job from the other two labels. The
``prometheus`` receiver reads that file with ``file_sd_configs`` and scrapes each target once
per ``scrape_interval``. No receiver creator is needed.

Labels with a ``__`` prefix never leave the receiver, so the ECS labels the observer writes
are renamed here into the series' labels: ``ecs_task_family``, ``ecs_task_revision``,
``ecs_container_name``, ``ecs_launch_type``, ``ecs_cluster_name``, ``ecs_service_name``; the
target's job (written as ``prometheus_job``, since ``job`` itself would be replaced) becomes
``job``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from otel_fargate.checks import check_int, fail
from otel_fargate.config.core.values import Signal
from otel_fargate.config.receivers.typed import Receiver
from otel_fargate.errors import ConfigError
from otel_fargate.names import (
    SCRAPE_JOB_LABEL,
    SCRAPE_PATH_LABEL,
    SCRAPE_PORT_LABEL,
    SCRAPE_TARGETS_FILE,
)

#: The label ``ecs_observer`` writes each target's job into (its default).
OBSERVER_JOB_LABEL = "prometheus_job"
#: The ECS labels of the file-SD file kept on every series, by the label they become.
ECS_TARGET_LABELS = {
    "ecs_task_family": "__meta_ecs_task_definition_family",
    "ecs_task_revision": "__meta_ecs_task_definition_revision",
    "ecs_container_name": "__meta_ecs_container_name",
    "ecs_launch_type": "__meta_ecs_task_launch_type",
    "ecs_cluster_name": "__meta_ecs_cluster_name",
    "ecs_service_name": "__meta_ecs_service_name",
}
#: The job of a target whose container sets no job label.
DEFAULT_SCRAPE_JOB = "ecs"


@dataclass(frozen=True, kw_only=True)
class EcsScrapeReceiver(Receiver):
    """Scrape every container of an ECS cluster that carries the scrape-target Docker labels.

    The ``PrometheusScraper`` construct adds this receiver itself; it renders the
    ``prometheus/<name>`` receiver and the ``ecs_observer`` extension it reads.

    Attributes:
        name: component name; default: ``ecs`` (``prometheus/ecs``).
        cluster_name: the cluster whose tasks are discovered (a name, an ARN, or a
            ``${env:NAME}`` reference the container provides).
        cluster_region: the cluster's region; default: ``${env:AWS_REGION}``, the task's own
            (ECS sets it).
        refresh_interval_seconds: how often ``ecs_observer`` lists the cluster's tasks (each
            time: ListTasks, DescribeTasks per 100 tasks, ListServices, DescribeTaskDefinition
            for definitions not seen yet); a task started or stopped shows up within this;
            10 to 3600; default: 30.
        scrape_interval_seconds: how often each target is scraped, 5 to 3600; default: 30.
        scrape_timeout_seconds: how long one scrape may take, at most the interval;
            default: 10.
        result_file: where ``ecs_observer`` writes the targets (a writable, task-scoped path);
            default: ``/var/lib/otelcol/scrape/ecs-targets.yaml``.
    """

    component_type: ClassVar[str] = "prometheus"
    signals: ClassVar[tuple[Signal, ...]] = ("metrics",)

    name: str | None = "ecs"
    cluster_name: str
    cluster_region: str = "${env:AWS_REGION}"
    refresh_interval_seconds: int = 30
    scrape_interval_seconds: int = 30
    scrape_timeout_seconds: int = 10
    result_file: str = SCRAPE_TARGETS_FILE

    def __post_init__(self) -> None:
        self.check_name()
        for field in ("cluster_name", "cluster_region", "result_file"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value.strip():
                raise fail(f"{self.setting}.{field}", "must be a non-empty string", value,
                           error=ConfigError)
        if not self.result_file.startswith("/"):
            raise fail(f"{self.setting}.result_file", "must be an absolute path",
                       self.result_file, error=ConfigError)
        check_int(f"{self.setting}.refresh_interval_seconds", self.refresh_interval_seconds,
                  low=10, high=3600, error=ConfigError)
        check_int(f"{self.setting}.scrape_interval_seconds", self.scrape_interval_seconds,
                  low=5, high=3600, error=ConfigError)
        check_int(f"{self.setting}.scrape_timeout_seconds", self.scrape_timeout_seconds,
                  low=1, high=self.scrape_interval_seconds, error=ConfigError)

    @property
    def observer_id(self) -> str:
        """The ``ecs_observer`` extension's id: plain, or ``ecs_observer/<name>``."""
        return "ecs_observer" if self.name is None else f"ecs_observer/{self.name}"

    def extensions(self) -> dict[str, Any]:
        """The ``ecs_observer`` extension that writes the targets this receiver reads."""
        labels = {
            "port_label": SCRAPE_PORT_LABEL,
            "metrics_path_label": SCRAPE_PATH_LABEL,
            "job_name_label": SCRAPE_JOB_LABEL,
        }
        return {
            self.observer_id: {
                "cluster_name": self.cluster_name,
                "cluster_region": self.cluster_region,
                "refresh_interval": f"{self.refresh_interval_seconds}s",
                "result_file": self.result_file,
                "job_label_name": OBSERVER_JOB_LABEL,
                "docker_labels": [labels],
            }
        }

    def render(self) -> dict[str, Any]:
        """The receiver's YAML block: one scrape job over the observer's file."""
        relabel: list[dict[str, Any]] = [
            {"source_labels": [OBSERVER_JOB_LABEL], "regex": "(.+)", "target_label": "job"},
            {"action": "labeldrop", "regex": OBSERVER_JOB_LABEL},
        ]
        relabel.extend(
            {"source_labels": [source], "target_label": target}
            for target, source in ECS_TARGET_LABELS.items()
        )
        job = {
            "job_name": DEFAULT_SCRAPE_JOB,
            "scrape_interval": f"{self.scrape_interval_seconds}s",
            "scrape_timeout": f"{self.scrape_timeout_seconds}s",
            "file_sd_configs": [
                {
                    "files": [self.result_file],
                    "refresh_interval": f"{self.refresh_interval_seconds}s",
                }
            ],
            "relabel_configs": relabel,
        }
        return {"config": {"scrape_configs": [job]}}
