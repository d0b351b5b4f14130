"""Run every check of ``verify`` against one environment."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from tools.verify.alarms import alarm_check
from tools.verify.aws import Clients
from tools.verify.cloudformation import (
    GATEWAY_STACK_SUFFIX,
    STACK_NAME_PREFIX,
    check_stack,
    discover,
)
from tools.verify.cloudmap import service_connect
from tools.verify.ecs import service_checks
from tools.verify.logs import log_checks
from tools.verify.report import CheckResult

if TYPE_CHECKING:
    import boto3


def verify_environment(
    session: boto3.Session,
    env: str,
    *,
    region: str | None = None,
    now: float | None = None,
) -> list[CheckResult]:
    """Run every check against environment ``env``.

    :param session: the boto3 session to use (credentials and, unless ``region``, region).
    :param region: AWS region. default: the session's region.
    :param now: current time in seconds since the epoch. default: the clock.
    :raises VerifyError: the checks could not run.
    """
    clients = Clients(session, region=region)
    current = now if now is not None else time.time()
    found = discover(clients, env)
    results: list[CheckResult] = [check_stack(stack) for stack in found.stacks]
    task_definitions, sc_namespaces = service_checks(clients, found.ecs_services, results)
    stack_names = {str(s["StackName"]) for s in found.stacks}
    if f"{STACK_NAME_PREFIX.format(env=env)}{GATEWAY_STACK_SUFFIX}" in stack_names:
        results.append(service_connect(clients, found.namespaces, sc_namespaces))
    results.extend(log_checks(clients, task_definitions, current, bool(found.ecs_services)))
    results.append(alarm_check(clients, found.alarms))
    return results
