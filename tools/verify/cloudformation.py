"""CloudFormation: the environment's stacks, what they contain, and their status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from otel_fargate.names import stack_name

from tools.verify.aws import Clients, VerifyError, aws_call, list_all, stack_resources
from tools.verify.report import CheckResult

STACK_NAME_PREFIX: Final = stack_name("{env}", "")
GATEWAY_STACK_SUFFIX: Final = "gateway"


@dataclass
class Discovered:
    """What the environment's stacks contain."""

    stacks: list[dict[str, Any]] = field(default_factory=list)
    ecs_services: list[str] = field(default_factory=list)
    log_groups: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)


def discover(clients: Clients, env: str) -> Discovered:
    """The environment's stacks and the resources the checks need."""
    prefix = STACK_NAME_PREFIX.format(env=env)
    stacks = aws_call(
        "listing CloudFormation stacks",
        list_all,
        clients.cloudformation,
        "describe_stacks",
        "Stacks",
    )
    stacks = [s for s in stacks if str(s["StackName"]).startswith(prefix)]
    if not stacks:
        raise VerifyError(
            f"no CloudFormation stacks named {prefix}* found for environment {env!r} "
            "(check --env and --region)"
        )
    found = Discovered(stacks=sorted(stacks, key=lambda s: str(s["StackName"])))
    for stack in found.stacks:
        name = stack["StackName"]
        resources = stack_resources(clients, name)
        for resource in resources:
            kind = resource.get("ResourceType", "")
            physical = resource.get("PhysicalResourceId")
            if not physical:
                continue
            if kind == "AWS::ECS::Service":
                found.ecs_services.append(physical)
            elif kind == "AWS::Logs::LogGroup":
                found.log_groups.append(physical)
            elif kind == "AWS::CloudWatch::Alarm":
                found.alarms.append(physical)
            elif kind in (
                "AWS::ServiceDiscovery::HttpNamespace",
                "AWS::ServiceDiscovery::PrivateDnsNamespace",
                "AWS::ServiceDiscovery::PublicDnsNamespace",
            ):
                found.namespaces.append(physical)
    return found


def check_stack(stack: Mapping[str, Any]) -> CheckResult:
    """A stack is healthy when its status is ``*_COMPLETE`` and not a rollback."""
    status = str(stack.get("StackStatus", "UNKNOWN"))
    ok = status.endswith("_COMPLETE") and "ROLLBACK" not in status
    reason = stack.get("StackStatusReason")
    detail = status if ok or not reason else f"{status}: {reason}"
    return CheckResult(f"stack {stack['StackName']}", ok, detail)
