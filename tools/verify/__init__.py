"""Check that a deployed otel-fargate environment is healthy.

Everything is discovered from the environment's CloudFormation stacks
(``otel-fargate-<env>-*``): their ECS services, the collector log groups named in those
services' task definitions, their alarms and their Cloud Map namespaces. Each check is a small
function returning :class:`CheckResult`; :func:`verify_environment` runs them all with one
injected ``boto3.Session``.

Problems that stop the checks from running at all (no credentials, no region, no stacks,
throttling that outlasts the retries, access denied) raise :class:`VerifyError`; the CLI
prints its message as one line and exits 2.

The modules, one concern each: :mod:`~tools.verify.aws` (clients, retries, errors),
:mod:`~tools.verify.cloudformation` (discovery, stack status), :mod:`~tools.verify.ecs`
(deployments, task counts, collector health), :mod:`~tools.verify.cloudmap` (Service
Connect), :mod:`~tools.verify.logs` (collector errors), :mod:`~tools.verify.alarms`,
:mod:`~tools.verify.report` (results and output) and :mod:`~tools.verify.runner`.
"""

from __future__ import annotations

from tools.verify.alarms import check_alarms
from tools.verify.aws import MAX_ATTEMPTS, Clients, VerifyError
from tools.verify.cloudformation import (
    GATEWAY_STACK_SUFFIX,
    STACK_NAME_PREFIX,
    Discovered,
    check_stack,
    discover,
)
from tools.verify.cloudmap import GATEWAY_DISCOVERY_NAME, check_service_connect
from tools.verify.ecs import check_collector_health, check_deployment, check_task_counts
from tools.verify.logs import (
    ERROR_FILTER_PATTERN,
    LOG_WINDOW_MINUTES,
    MAX_QUOTED_LINES,
    check_log_errors,
    error_lines,
)
from tools.verify.report import CheckResult, all_ok, format_json, format_table
from tools.verify.runner import verify_environment

__all__ = [
    "ERROR_FILTER_PATTERN",
    "GATEWAY_DISCOVERY_NAME",
    "GATEWAY_STACK_SUFFIX",
    "LOG_WINDOW_MINUTES",
    "MAX_ATTEMPTS",
    "MAX_QUOTED_LINES",
    "STACK_NAME_PREFIX",
    "CheckResult",
    "Clients",
    "Discovered",
    "VerifyError",
    "all_ok",
    "check_alarms",
    "check_collector_health",
    "check_deployment",
    "check_log_errors",
    "check_service_connect",
    "check_stack",
    "check_task_counts",
    "discover",
    "error_lines",
    "format_json",
    "format_table",
    "verify_environment",
]
