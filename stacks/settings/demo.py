"""The ``demo`` section: the optional demo service with a collector sidecar in agent mode."""

from __future__ import annotations

from dataclasses import dataclass

from otel_fargate import EnvironmentConfigError
from otel_fargate.config import MIN_MEMORY_MIB
from otel_fargate.names import SERVICE_CONNECT_PROXY_MEMORY_MIB

from .reader import Reader, check_task_size

#: The least memory the demo's load generator is given.
DEMO_LOAD_MIN_MEMORY_MIB = 128
#: The instrumented web service's memory: Node.js with its agent loaded.
DEMO_WEB_MEMORY_MIB = 192
#: The init container that copies the Node.js agent (AutoInstrumentation's default).
DEMO_AGENT_INIT_MEMORY_MIB = 64
#: The least memory the demo's app containers are given together.
DEMO_APP_MIN_MEMORY_MIB = (
    DEMO_LOAD_MIN_MEMORY_MIB + DEMO_WEB_MEMORY_MIB + DEMO_AGENT_INIT_MEMORY_MIB
)


@dataclass(frozen=True)
class DemoSettings:
    """The optional demo service: a load generator and a Node.js web service instrumented with
    no code change, beside a collector sidecar in agent mode.
    """

    enabled: bool = False
    desired_count: int = 1
    cpu: int = 512
    memory_mib: int = 1024
    collector_cpu: int = 256
    collector_memory_mib: int = 256
    #: The web service serves Prometheus metrics, and a ``PrometheusScraper`` (one task,
    #: forwarding to the gateway) scrapes them.
    scrape: bool = False

    @property
    def app_memory_mib(self) -> int:
        """Memory left to the demo's app containers: the task's, less the collector's and the
        proxy's.
        """
        return self.memory_mib - self.collector_memory_mib - SERVICE_CONNECT_PROXY_MEMORY_MIB

    @property
    def load_memory_mib(self) -> int:
        """The load generator's memory: what the web service and its agent's copy leave."""
        return self.app_memory_mib - DEMO_WEB_MEMORY_MIB - DEMO_AGENT_INIT_MEMORY_MIB


def parse_demo(reader: Reader | None) -> DemoSettings:
    """The optional ``demo`` section; without it the demo is off."""
    if reader is None:
        return DemoSettings()
    d = DemoSettings()
    settings = DemoSettings(
        enabled=reader.boolean("enabled", d.enabled),
        desired_count=reader.integer("desired_count", d.desired_count, low=0, high=100),
        cpu=reader.integer("cpu", d.cpu, low=256, high=16384),
        memory_mib=reader.integer("memory_mib", d.memory_mib, low=512, high=122880),
        collector_cpu=reader.integer("collector_cpu", d.collector_cpu, low=64, high=16384),
        collector_memory_mib=reader.integer(
            "collector_memory_mib", d.collector_memory_mib, low=MIN_MEMORY_MIB, high=122880
        ),
        scrape=reader.boolean("scrape", d.scrape),
    )
    reader.finish()
    check_task_size(reader.path, settings.cpu, settings.memory_mib)
    if settings.collector_cpu >= settings.cpu:
        raise EnvironmentConfigError(
            f"{reader.path}.collector_cpu: must leave CPU for the app in a task of "
            f"{settings.cpu} units, got {settings.collector_cpu}"
        )
    if settings.app_memory_mib < DEMO_APP_MIN_MEMORY_MIB:
        raise EnvironmentConfigError(
            f"{reader.path}.collector_memory_mib: must leave at least "
            f"{DEMO_APP_MIN_MEMORY_MIB} MiB for the apps beside the collector and the "
            f"{SERVICE_CONNECT_PROXY_MEMORY_MIB} MiB Service Connect proxy in a task of "
            f"{settings.memory_mib} MiB, got {settings.collector_memory_mib}"
        )
    return settings
