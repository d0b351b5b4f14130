"""Checks of an agent's task that need the finished construct tree.

A Service Connect namespace has three identities: its name, its ARN and its id. ECS takes the
name or the ARN as a service's namespace, and the CDK fills a service that names none
(``ServiceConnectProps()``) with the cluster default's *name*, while
``gateway.service_connect_client()`` passes the *ARN*. Each identity may be a literal, a
token of a namespace created in the app, an imported attribute or a cross-stack reference.
The agent's service is refused only when its namespace provably differs from the gateway's:
both sides are known and agree on no identity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from aws_cdk import Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import IConstruct

from otel_fargate.names import GATEWAY_ALIAS
from otel_fargate.task.synth import service_connect_of, services_of

_ARN = re.compile(r"^arn:[^:]+:servicediscovery:[^:]*:[^:]*:namespace/(?P<id>ns-[A-Za-z0-9]+)$")
_ID = re.compile(r"^ns-[A-Za-z0-9]+$")
_KINDS = ("name", "arn", "id")


@dataclass(frozen=True)
class NamespaceIdentity:
    """A namespace's name, ARN and id as one stack resolves them (a literal string, or the
    CloudFormation expression of a token), and the construct when the app creates it.
    """

    name: Any
    arn: Any
    id: Any
    created: str | None

    @classmethod
    def of(cls, namespace: servicediscovery.INamespace, stack: Stack) -> NamespaceIdentity:
        """``namespace`` as ``stack`` sees it."""
        child = namespace.node.default_child
        return cls(
            name=stack.resolve(namespace.namespace_name),
            arn=stack.resolve(namespace.namespace_arn),
            id=stack.resolve(namespace.namespace_id),
            created=namespace.node.path if child is not None else None,
        )

    def values(self) -> list[Any]:
        """Every identity, in the order name, ARN, id."""
        return [getattr(self, kind) for kind in _KINDS]

    def known(self, kind: str) -> str | None:
        """The identity ``kind`` when it is a literal, else None; an id also from a literal ARN."""
        value = getattr(self, kind)
        if isinstance(value, str):
            return value
        arn = _ARN.match(self.arn) if kind == "id" and isinstance(self.arn, str) else None
        return arn.group("id") if arn is not None else None

    def differs_from(self, other: NamespaceIdentity) -> bool:
        """Provably another namespace: two namespaces the app creates, or a known identity
        that disagrees (a name, an ARN or an id names one namespace only).
        """
        if self.created is not None and self.created == other.created:
            return False
        if any(
            mine is not None and mine == theirs
            for mine in self.values()
            for theirs in other.values()
        ):
            return False
        if self.created is not None and other.created is not None:
            return True
        return any(
            self.known(kind) is not None
            and other.known(kind) is not None
            and self.known(kind) != other.known(kind)
            for kind in _KINDS
        )


def namespaces_in(root: IConstruct, stack: Stack) -> list[NamespaceIdentity]:
    """Every Cloud Map namespace in the app, created or imported, as ``stack`` sees it."""
    return [
        NamespaceIdentity.of(cast(servicediscovery.INamespace, node), stack)
        for node in root.node.find_all()
        if _is_namespace(node)
    ]


def _is_namespace(node: IConstruct) -> bool:
    """Whether ``node`` is a Cloud Map namespace (jsii offers no isinstance for interfaces)."""
    attributes = ("namespace_arn", "namespace_id", "namespace_name")
    try:
        return all(hasattr(node, attr) for attr in attributes)
    except RuntimeError:  # a jsii property that throws
        return False


def given_identity(given: Any, known: list[NamespaceIdentity]) -> NamespaceIdentity | None:
    """What a service's resolved ``namespace`` tells of its namespace: the namespace of the app
    it refers to, a literal name, ARN or id, or None when nothing is known (a parameter, an
    import of another stack's output).
    """
    for identity in known:
        if any(value is not None and value == given for value in identity.values()):
            return identity
    if not isinstance(given, str):
        return None
    arn = _ARN.match(given)
    if arn is not None:
        return NamespaceIdentity(name=None, arn=given, id=arn.group("id"), created=None)
    if _ID.match(given):
        return NamespaceIdentity(name=None, arn=None, id=given, created=None)
    return NamespaceIdentity(name=given, arn=None, id=None, created=None)


def agent_reaches_gateway(
    task_definition: ecs.TaskDefinition, namespace: servicediscovery.INamespace
) -> list[str]:
    """Every service running an agent's task resolves ``otel-gateway`` through Service
    Connect, in a namespace that is not provably another than the gateway's ``namespace``.
    """
    problems: list[str] = []
    for service in services_of(task_definition):
        config = service_connect_of(service)
        if config is None:
            problems.append(
                f"service_connect_configuration: service {service.node.path} runs an agent that "
                f"forwards to {GATEWAY_ALIAS}, which only Service Connect resolves; pass "
                f"service_connect_configuration=gateway.service_connect_client(), got none"
            )
            continue
        given = config.get("namespace")
        if given is None:
            continue
        stack = Stack.of(service)
        expected = NamespaceIdentity.of(namespace, stack)
        found = given_identity(given, namespaces_in(task_definition.node.root, stack))
        if found is not None and found.differs_from(expected):
            problems.append(
                f"service_connect_configuration.namespace: service {service.node.path} uses "
                f"another namespace than its agent's gateway ({_describe(expected)}); pass "
                f"gateway.service_connect_client(), got {given!r}"
            )
    return problems


def _describe(identity: NamespaceIdentity) -> str:
    known = [identity.known(kind) for kind in ("name", "arn")]
    shown = [value for value in known if value is not None]
    return " / ".join(shown) if shown else (identity.created or "an imported namespace")
