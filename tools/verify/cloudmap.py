"""Cloud Map: the gateway's Service Connect name is registered and has instances."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from otel_fargate.names import GATEWAY_ALIAS

from tools.verify.aws import Clients, aws_call, list_all
from tools.verify.report import CheckResult

GATEWAY_DISCOVERY_NAME: Final = GATEWAY_ALIAS


def check_service_connect(
    namespace_ids: Sequence[str],
    services_by_namespace: Mapping[str, Sequence[Mapping[str, Any]]],
    instances_by_service: Mapping[str, int],
) -> CheckResult:
    """The ``otel-gateway`` Cloud Map service exists in a namespace and has instances."""
    name = f"service connect {GATEWAY_DISCOVERY_NAME}"
    if not namespace_ids:
        return CheckResult(name, False, "no Cloud Map namespace found in the stacks")
    for namespace_id in namespace_ids:
        for service in services_by_namespace.get(namespace_id, []):
            if service.get("Name") == GATEWAY_DISCOVERY_NAME:
                count = instances_by_service.get(str(service["Id"]), 0)
                return CheckResult(
                    name,
                    count > 0,
                    f"{count} instances registered in namespace {namespace_id}",
                )
    return CheckResult(
        name,
        False,
        f"no Cloud Map service {GATEWAY_DISCOVERY_NAME!r} in namespace {', '.join(namespace_ids)}",
    )


def service_connect(
    clients: Clients, stack_namespaces: Sequence[str], deployment_namespaces: Sequence[str]
) -> CheckResult:
    """Look up the gateway's Cloud Map service and its instances, then check them."""
    namespace_ids = list(dict.fromkeys(stack_namespaces))
    if not namespace_ids and deployment_namespaces:
        # Service Connect reports the namespace ARN: ...:namespace/ns-xxxx
        namespace_ids = list(dict.fromkeys(a.rsplit("/", 1)[-1] for a in deployment_namespaces))
    services_by_namespace: dict[str, list[dict[str, Any]]] = {}
    instances: dict[str, int] = {}
    for namespace_id in namespace_ids:
        services = aws_call(
            f"listing the Cloud Map services of {namespace_id}",
            list_all,
            clients.servicediscovery,
            "list_services",
            "Services",
            Filters=[{"Name": "NAMESPACE_ID", "Values": [namespace_id], "Condition": "EQ"}],
        )
        services_by_namespace[namespace_id] = services
        for service in services:
            if service.get("Name") != GATEWAY_DISCOVERY_NAME:
                continue
            service_id = str(service["Id"])
            instances[service_id] = len(
                aws_call(
                    f"listing the instances of {GATEWAY_DISCOVERY_NAME}",
                    list_all,
                    clients.servicediscovery,
                    "list_instances",
                    "Instances",
                    ServiceId=service_id,
                )
            )
    return check_service_connect(namespace_ids, services_by_namespace, instances)
