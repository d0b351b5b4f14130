"""Checks that need the finished construct tree, run when the app synthesizes.

Some mistakes only show once everything is wired: an app container added to the task after
the sidecar, an application service created without Service Connect, a second gateway
claiming the same alias. Each check here is a ``node.add_validation``: synth fails with its
message, naming the construct and the setting to change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsii
from aws_cdk import Aspects, IAspect, Stack, Token
from aws_cdk import aws_ecs as ecs
from constructs import Construct, IConstruct, IValidation

from .app_wiring import as_int, reserved
from .names import GATEWAY_ALIAS, SERVICE_CONNECT_PROXY_MEMORY_MIB


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
        _service_connect(service) is not None for service in _services_of(task_definition)
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


def _services_of(task_definition: ecs.TaskDefinition) -> list[ecs.BaseService]:
    root = task_definition.node.root
    return [
        node
        for node in root.node.find_all()
        if isinstance(node, ecs.BaseService) and node.task_definition is task_definition
    ]


def _service_connect(service: ecs.BaseService) -> Any:
    # The typed property cannot be read back while the L2 fills it lazily; the resource's
    # properties as a whole can.
    properties = Stack.of(service).resolve(jsii.get(service.node.default_child, "cfnProperties"))
    config = properties.get("serviceConnectConfiguration") if isinstance(properties, dict) else None
    return config if isinstance(config, dict) and config.get("enabled") else None


def agent_reaches_gateway(task_definition: ecs.TaskDefinition, namespace_arn: str) -> list[str]:
    """Every service running an agent's task resolves ``otel-gateway`` through Service
    Connect in the gateway's namespace.
    """
    problems: list[str] = []
    expected = Stack.of(task_definition).resolve(namespace_arn)
    for service in _services_of(task_definition):
        config = _service_connect(service)
        if config is None:
            problems.append(
                f"service_connect_configuration: service {service.node.path} runs an agent that "
                f"forwards to {GATEWAY_ALIAS}, which only Service Connect resolves; pass "
                f"service_connect_configuration=gateway.service_connect_client(), got none"
            )
        elif not Token.is_unresolved(namespace_arn) or expected is not None:
            given = config.get("namespace")
            if given is not None and given != expected:
                problems.append(
                    f"service_connect_configuration.namespace: service {service.node.path} uses "
                    f"another namespace than its agent's gateway; pass "
                    f"gateway.service_connect_client(), got {given!r}"
                )
    return problems


def one_gateway_per_namespace(gateway: Construct, namespace: IConstruct) -> list[str]:
    """No other gateway claims ``otel-gateway`` in the same Service Connect namespace."""
    from .gateway import CollectorGateway

    others = [
        node.node.path
        for node in gateway.node.root.node.find_all()
        if isinstance(node, CollectorGateway)
        and node is not gateway
        and node.namespace.node.path == namespace.node.path
    ]
    if not others:
        return []
    return [
        f"namespace: {gateway.node.path} and {', '.join(others)} both claim the Service Connect "
        f"alias {GATEWAY_ALIAS} in namespace {namespace.node.path}; agents could not tell them "
        f"apart. Give one of them its own namespace, got the same namespace twice"
    ]


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
