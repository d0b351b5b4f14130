"""Marking a container as a Prometheus scrape target of the ``PrometheusScraper``."""

from __future__ import annotations

import re

from aws_cdk import aws_ecs as ecs

from otel_fargate.checks import check_int, fail
from otel_fargate.names import SCRAPE_JOB_LABEL, SCRAPE_PATH_LABEL, SCRAPE_PORT_LABEL
from otel_fargate.task.container import docker_labels

_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")
_JOB = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")


def scrape_target(
    container: ecs.ContainerDefinition,
    *,
    port: int,
    path: str = "/metrics",
    job: str | None = None,
) -> dict[str, str]:
    """Mark ``container`` as a scrape target: the scraper's ``ecs_observer`` finds it by these
    Docker labels and scrapes ``http://<task IP>:<port><path>``; returns the labels added.

    ``ecs_observer`` takes an awsvpc task's port from the container's port mappings, so the
    container gets a TCP port mapping for ``port`` unless it has one.

    The container must serve Prometheus text on ``port`` on the task's network interface (not
    only on 127.0.0.1), and the task's security group must admit the scraper:
    ``service.connections.allow_from(scraper.connections, ec2.Port.tcp(port))``.

    Args:
        container: the app container serving the metrics.
        port: the port of the metrics endpoint (1-65535).
        path: the HTTP path of the metrics; default: ``/metrics``.
        job: the series' ``job`` label; default: ``ecs`` (the scraper's job).

    Raises:
        OtelFargateError: a bad port, path or job, or a container already marked with other
            values.
    """
    check_int("port", port, low=1, high=65535)
    if not isinstance(path, str) or not _PATH.fullmatch(path):
        raise fail("path", "must be an absolute URL path such as /metrics", path)
    if job is not None and (not isinstance(job, str) or not _JOB.fullmatch(job)):
        raise fail("job", f"must match {_JOB.pattern}", job)
    labels = {SCRAPE_PORT_LABEL: str(port), SCRAPE_PATH_LABEL: path}
    if job is not None:
        labels[SCRAPE_JOB_LABEL] = job
    known = docker_labels(container)
    for key, value in labels.items():
        if key in known and known[key] != value:
            raise fail(
                f"container {container.container_name}: docker label {key}",
                f"is already {known[key]!r}; one container is one scrape target",
                value,
            )
    for key, value in labels.items():
        container.add_docker_label(key, value)
    if not any(mapping.container_port == port for mapping in container.port_mappings):
        container.add_port_mappings(ecs.PortMapping(container_port=port))
    return labels

