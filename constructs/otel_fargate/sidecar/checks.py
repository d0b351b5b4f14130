"""Checks of an agent's task that need the finished construct tree."""

from __future__ import annotations

from aws_cdk import Stack, Token
from aws_cdk import aws_ecs as ecs

from otel_fargate.names import GATEWAY_ALIAS
from otel_fargate.task.synth import service_connect_of, services_of


def agent_reaches_gateway(task_definition: ecs.TaskDefinition, namespace_arn: str) -> list[str]:
    """Every service running an agent's task resolves ``otel-gateway`` through Service
    Connect in the gateway's namespace.
    """
    problems: list[str] = []
    expected = Stack.of(task_definition).resolve(namespace_arn)
    for service in services_of(task_definition):
        config = service_connect_of(service)
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
