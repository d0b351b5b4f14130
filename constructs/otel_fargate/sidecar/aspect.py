"""One Aspect that instruments a whole CDK app: every Fargate task definition's containers that
ask for instrumentation get their runtime's agent, and a collector sidecar (or agent) when the
task has none yet.

A container asks by :func:`request_instrumentation` (in the code that defines it), by the
Docker label ``otel-fargate.instrument`` (``java``, ``nodejs``, ``python``, ``dotnet``), or by
the Aspect's ``rule``. Applying the Aspect twice, or to a task that is instrumented already,
changes nothing; :attr:`InstrumentApp.report` says per container what was done or why not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import jsii
from aws_cdk import IAspect
from aws_cdk import aws_ecs as ecs
from constructs import Construct, IConstruct

from otel_fargate.apps.instrumentation import RUNTIMES, AutoInstrumentation
from otel_fargate.checks import fail
from otel_fargate.names import COLLECTOR_CONTAINER_NAME
from otel_fargate.sidecar.construct import CollectorSidecar
from otel_fargate.task.container import docker_labels

#: The Docker label by which a container asks for its runtime's agent.
INSTRUMENT_LABEL: Final = "otel-fargate.instrument"

Rule = Callable[[ecs.ContainerDefinition], AutoInstrumentation | None]

_REQUEST_ID: Final = "OtelFargateInstrumentationRequest"


class _Request(Construct):
    """A container's request, kept in the construct tree beside the container."""

    def __init__(self, scope: Construct, instrumentation: AutoInstrumentation) -> None:
        super().__init__(scope, _REQUEST_ID)
        self.instrumentation = instrumentation


def request_instrumentation(
    container: ecs.ContainerDefinition, instrumentation: AutoInstrumentation
) -> ecs.ContainerDefinition:
    """Mark ``container`` for :class:`InstrumentApp` with ``instrumentation``; returns it."""
    if not isinstance(instrumentation, AutoInstrumentation):
        raise fail(
            f"instrument.{container.container_name}",
            "must be an AutoInstrumentation (AutoInstrumentation.java(), ...)",
            instrumentation,
        )
    found = container.node.try_find_child(_REQUEST_ID)
    if isinstance(found, _Request):
        found.instrumentation = instrumentation
    else:
        _Request(container, instrumentation)
    return container


@dataclass(frozen=True)
class Decision:
    """What the Aspect did with one container, and why."""

    container: str
    action: str
    reason: str


@jsii.implements(IAspect)
class InstrumentApp:
    """Instrument every Fargate task definition of the scope it is added to.

    ``Aspects.of(app).add(InstrumentApp(exporters=[...]))`` (or ``gateway=...``) in ``app.py``
    instruments every container that asks for it, anywhere in the app.

    Args:
        rule: decides for containers that did not ask themselves (``None``: leave them).
            Default: only containers that ask are instrumented.
        **sidecar: the arguments of the :class:`CollectorSidecar` added to a task that has
            no collector yet (``gateway``, ``exporters``, ``environment_name``...). A task with
            a collector keeps it.
    """

    def __init__(self, *, rule: Rule | None = None, **sidecar: Any) -> None:
        for reserved in ("task_definition", "app_containers", "instrument"):
            if reserved in sidecar:
                raise fail(reserved, "is decided per task by the Aspect", sidecar[reserved])
        self._rule, self._sidecar = rule, sidecar
        #: Per container, in visiting order: what was done, or why not.
        self.report: list[Decision] = []

    def visit(self, node: IConstruct) -> None:
        """Instrument the containers of a Fargate task definition that ask for it."""
        if not isinstance(node, ecs.FargateTaskDefinition):
            return
        wanted: dict[ecs.ContainerDefinition, AutoInstrumentation] = {}
        for container in _containers(node):
            instrumentation, why = self._wanted(container)
            if instrumentation is None:
                self.report.append(Decision(container.node.path, "skipped", why))
            else:
                wanted[container] = instrumentation
        if not wanted:
            return
        sidecar = _sidecar_of(node)
        if sidecar is None:
            sidecar = CollectorSidecar(
                node.node.scope,  # type: ignore[arg-type]
                f"{node.node.id}Otel",
                task_definition=node,
                **self._sidecar,
            )
            added = f" (collector sidecar {sidecar.node.path} added)"
        else:
            added = f" (collector {sidecar.node.path})"
        for container, instrumentation in wanted.items():
            sidecar.instrument_container(container, instrumentation)
            self.report.append(
                Decision(container.node.path, "instrumented", instrumentation.runtime + added)
            )

    def _wanted(
        self, container: ecs.ContainerDefinition
    ) -> tuple[AutoInstrumentation | None, str]:
        name = container.container_name
        if name == COLLECTOR_CONTAINER_NAME or name.startswith("otel-agent-"):
            return None, "part of the collector"
        if isinstance(container, ecs.FirelensLogRouter):
            return None, "a log router"
        if any(
            m.container_path.startswith("/otel-auto-instrumentation-")
            for m in container.mount_points
        ):
            return None, "instrumented already"
        requested = container.node.try_find_child(_REQUEST_ID)
        if isinstance(requested, _Request):
            return requested.instrumentation, ""
        label = docker_labels(container).get(INSTRUMENT_LABEL)
        if label is not None:
            if label not in RUNTIMES:
                raise fail(
                    f"{container.node.path}: docker label {INSTRUMENT_LABEL}",
                    f"must be one of {', '.join(RUNTIMES)}",
                    label,
                )
            return AutoInstrumentation(runtime=label), ""
        ruled = self._rule(container) if self._rule is not None else None
        if ruled is not None:
            return ruled, ""
        return None, "not asked for (no request, label or rule)"


def _containers(task: ecs.TaskDefinition) -> list[ecs.ContainerDefinition]:
    found: list[ecs.ContainerDefinition] = jsii.get(task, "containers")
    return list(found)


def _sidecar_of(task: ecs.TaskDefinition) -> CollectorSidecar | None:
    if task.find_container(COLLECTOR_CONTAINER_NAME) is None:
        return None
    for node in task.node.root.node.find_all():
        if isinstance(node, CollectorSidecar) and node.task_definition is task:
            return node
    return None

