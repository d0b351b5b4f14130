"""Checks that need the finished construct tree, run when the app synthesizes.

Some mistakes only show once everything is wired: an app container added to the task after
the sidecar, an application service created without Service Connect, a second gateway
claiming the same alias. Each check here is a ``node.add_validation``: synth fails with its
message, naming the construct and the setting to change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsii
from aws_cdk import Aspects, IAspect, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk.aws_cloudwatch import IAlarm
from constructs import Construct, IConstruct, IValidation

from otel_fargate.monitoring.gates import gate_service
from otel_fargate.names import SERVICE_CONNECT_PROXY_MEMORY_MIB
from otel_fargate.task.fargate import as_int, reserved


@jsii.implements(IValidation)
class _Check:
    """An IValidation that runs ``check`` and reports what it returns."""

    def __init__(self, check: Callable[[], list[str]]) -> None:
        self._check = check

    def validate(self) -> list[str]:
        """The problems found; empty when there are none."""
        return self._check()


def add_check(scope: Construct, check: Callable[[], list[str]]) -> None:
    """Run ``check`` at synth on ``scope``; each string it returns fails synth."""
    scope.node.add_validation(_Check(check))


def task_fits(task_definition: ecs.TaskDefinition, *, service_connect: bool) -> list[str]:
    """The final task's containers (plus the Service Connect proxy, when the task's services
    use Service Connect) fit its memory and CPU.
    """
    service_connect = service_connect or any(
        service_connect_of(service) is not None for service in services_of(task_definition)
    )
    task_memory = as_int(getattr(task_definition, "memory_mib", None))
    task_cpu = as_int(getattr(task_definition, "cpu", None))
    used_cpu, used_memory = reserved(task_definition)
    proxy = SERVICE_CONNECT_PROXY_MEMORY_MIB if service_connect else 0
    problems: list[str] = []
    if task_memory is not None and used_memory + proxy > task_memory:
        beside = f" plus {proxy} MiB for the Service Connect proxy" if proxy else ""
        problems.append(
            f"memory_mib: the containers of task {task_definition.node.path} reserve "
            f"{used_memory} MiB{beside}, more than the task's {task_memory} MiB; give the task "
            f"more memory or its containers less, got {used_memory + proxy} MiB in all"
        )
    if task_cpu is not None and used_cpu > task_cpu:
        problems.append(
            f"cpu: the containers of task {task_definition.node.path} reserve {used_cpu} CPU "
            f"units, more than the task's {task_cpu}"
        )
    return problems


def services_of(task_definition: ecs.TaskDefinition) -> list[ecs.BaseService]:
    """Every ECS service in the app that runs ``task_definition``."""
    root = task_definition.node.root
    return [
        node
        for node in root.node.find_all()
        if isinstance(node, ecs.BaseService) and node.task_definition is task_definition
    ]


def service_connect_of(service: ecs.BaseService) -> Any:
    """The service's resolved Service Connect configuration, or None when it has none."""
    # The typed property cannot be read back while the L2 fills it lazily; the resource's
    # properties as a whole can.
    properties = Stack.of(service).resolve(jsii.get(service.node.default_child, "cfnProperties"))
    config = properties.get("serviceConnectConfiguration") if isinstance(properties, dict) else None
    return config if isinstance(config, dict) and config.get("enabled") else None


@jsii.implements(IAspect)
class _ServicesWaitFor:
    """Makes every service running ``task_definition`` depend on ``needs`` (its collector's
    export policy and log groups), so tasks start only once the collector may write.
    """

    def __init__(self, task_definition: ecs.TaskDefinition, needs: list[IConstruct]) -> None:
        self._task_definition = task_definition
        self._needs = needs

    def visit(self, node: IConstruct) -> None:
        """Add the dependencies to a service of the task definition."""
        if isinstance(node, ecs.BaseService) and node.task_definition is self._task_definition:
            for need in self._needs:
                node.node.add_dependency(need)


def services_wait_for(task_definition: ecs.TaskDefinition, needs: list[IConstruct]) -> None:
    """Every service of ``task_definition``, wherever it is created, depends on ``needs``."""
    if needs:
        Aspects.of(task_definition.node.root).add(_ServicesWaitFor(task_definition, needs))


@jsii.implements(IAspect)
class _GatedBy:
    """Gates the deployments of every service running ``task_definition`` on ``alarms``."""

    def __init__(self, task_definition: ecs.TaskDefinition, alarms: list[IAlarm]) -> None:
        self._task_definition = task_definition
        self._alarms = alarms

    def visit(self, node: IConstruct) -> None:
        """Enable the deployment alarms on a service of the task definition."""
        if isinstance(node, ecs.BaseService) and node.task_definition is self._task_definition:
            gate_service(node, self._alarms)


def services_gated_by(task_definition: ecs.TaskDefinition, alarms: list[IAlarm]) -> None:
    """Every service of ``task_definition``, wherever it is created, rolls its deployments
    back when one of ``alarms`` fires.
    """
    Aspects.of(task_definition.node.root).add(_GatedBy(task_definition, alarms))


#: ECS refuses a task definition larger than 64 KiB (RegisterTaskDefinition).
TASK_DEFINITION_LIMIT_BYTES = 64 * 1024


def definition_size(task_definition: ecs.TaskDefinition) -> list[str]:
    """The container definitions, as CloudFormation will send them, fit ECS's 64 KiB limit.

    The size is that of the resolved ``ContainerDefinitions`` JSON (intrinsics counted as they
    stand in the template); the message names the largest environment values, where a rendered
    collector configuration (``OTEL_FARGATE_CONFIG``) usually is.
    """
    cfn = task_definition.node.default_child
    definitions = Stack.of(task_definition).resolve(getattr(cfn, "container_definitions", None))
    size = len(json.dumps(definitions, separators=(",", ":")).encode())
    if size <= TASK_DEFINITION_LIMIT_BYTES:
        return []
    values = [
        (len(json.dumps(item.get("value")).encode()), f"{container.get('name')}.{item.get('name')}")
        for container in definitions or []
        for item in container.get("environment") or []
    ]
    largest = ", ".join(f"{where} ({bytes_} bytes)" for bytes_, where in sorted(values)[::-1][:3])
    return [
        f"task {task_definition.node.path}: its container definitions take {size} bytes, more "
        f"than the {TASK_DEFINITION_LIMIT_BYTES} ECS accepts (the deploy would fail); the "
        f"largest environment values: {largest}. Shorten the collector configuration "
        f"(overrides, replacement) or move values to a file or a secret"
    ]
