"""Checks of a gateway that need the finished construct tree."""

from __future__ import annotations

from typing import Any

from constructs import Construct, IConstruct

from otel_fargate.names import GATEWAY_ALIAS


def one_gateway_per_namespace(
    gateway: Construct, namespace: IConstruct, *, kind: type[Any]
) -> list[str]:
    """No other gateway (a construct of ``kind``) claims ``otel-gateway`` in the same Service
    Connect namespace.
    """
    others = [
        node.node.path
        for node in gateway.node.root.node.find_all()
        if isinstance(node, kind)
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
