"""Least-privilege IAM for a collector, derived from what its configuration exports.

Only what the rendered configuration uses is granted:

* ``XRayExporter``: ``xray:PutTraceSegments`` and ``xray:PutTelemetryRecords`` on ``*`` (X-Ray
  has no resource-level permissions).
* ``AwsOtlpExporter`` for traces (X-Ray OTLP endpoint): ``xray:PutSpans`` on ``*``.
* ``CloudWatchEmfExporter``, ``CloudWatchLogsExporter``, the collector's own metrics and
  ``AwsOtlpExporter`` for logs: ``logs:CreateLogStream``, ``logs:PutLogEvents`` and
  ``logs:DescribeLogStreams`` on the log groups they write, which the construct creates with
  their retention. Groups named with per-task placeholders are created by the exporter, which
  then also gets ``logs:CreateLogGroup`` and ``logs:PutRetentionPolicy`` on them.
* ``AwsOtlpExporter`` for metrics (CloudWatch OTLP endpoint): ``cloudwatch:PutMetricData`` with a
  ``cloudwatch:namespace`` condition.

Secrets are not granted here: ECS ``secrets`` grant the execution role read access to exactly
the secrets and parameters the container uses.

CloudWatch EMF goes through CloudWatch Logs (``PutLogEvents``), not ``PutMetricData``, so an EMF
exporter needs no CloudWatch metrics permission at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from aws_cdk import ArnFormat, Stack, Token
from aws_cdk import aws_iam as iam
from constructs import Construct

from ._nag import acknowledge

_XRAY_SEGMENT_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
_XRAY_OTLP_ACTIONS = ["xray:PutSpans"]
_LOGS_WRITE_ACTIONS = ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]


def _arn_pattern(name: str) -> str:
    """Turn exporter placeholders such as ``{TaskId}`` into IAM wildcards."""
    return re.sub(r"\{[^}]*\}", "*", name)


def _log_group_arns(stack: Stack, names: Iterable[str]) -> list[str]:
    arns: list[str] = []
    for name in sorted({_arn_pattern(n) for n in names}):
        base = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        arns += [base, f"{base}:log-stream:*"]
    return arns


def is_static_log_group(name: str) -> bool:
    """True when ``name`` has no exporter placeholders, so CloudFormation can create the group."""
    return "{" not in name


def policy_statements(stack: Stack, needs: Any) -> list[iam.PolicyStatement]:
    """Statements for a collector whose config needs ``needs`` (``RenderedConfig.iam``)."""
    statements: list[iam.PolicyStatement] = []
    xray_actions: list[str] = []
    if needs.xray_write:
        xray_actions += _XRAY_SEGMENT_ACTIONS
    if needs.xray_otlp_spans:
        xray_actions += _XRAY_OTLP_ACTIONS
    if xray_actions:
        statements.append(
            iam.PolicyStatement(sid="XRayWrite", actions=xray_actions, resources=["*"])
        )
    log_groups = [group.name for group in needs.log_groups_written]
    if log_groups:
        statements.append(
            iam.PolicyStatement(
                sid="LogsWrite",
                actions=_LOGS_WRITE_ACTIONS,
                resources=_log_group_arns(stack, log_groups),
            )
        )
    # Groups whose names hold per-task placeholders cannot be created by CloudFormation:
    # the exporter creates them, and only those.
    created_by_exporter = [
        group.name
        for group in needs.log_groups_written
        if group.creates_group and not is_static_log_group(group.name)
    ]
    if created_by_exporter:
        statements.append(
            iam.PolicyStatement(
                sid="LogsCreate",
                actions=["logs:CreateLogGroup", "logs:PutRetentionPolicy"],
                resources=_log_group_arns(stack, created_by_exporter)[::2],
            )
        )
    if needs.put_metric_data and needs.metric_namespaces:
        statements.append(
            iam.PolicyStatement(
                sid="MetricsWrite",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={
                    "StringEquals": {"cloudwatch:namespace": sorted(set(needs.metric_namespaces))}
                },
            )
        )
    return statements


def grant_collector_permissions(scope: Construct, role: iam.IRole, needs: Any) -> None:
    """Attach the statements for ``needs`` to ``role`` and acknowledge the unavoidable wildcards."""
    statements = policy_statements(Stack.of(scope), needs)
    if not statements:
        return
    policy = iam.Policy(scope, "ExportPolicy", statements=statements)
    policy.attach_to_role(role)
    if needs.xray_write or needs.xray_otlp_spans:
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords/PutSpans support no resource-level "
            "permissions; the statement lists only the write actions the configured exporter "
            "calls.",
        )
    stack = Stack.of(scope)
    for arn in _log_group_arns(stack, [g.name for g in needs.log_groups_written])[1::2]:
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{_nag_form(stack, arn)}]",
            "Log streams are created by the exporter at run time; the wildcard covers only "
            "streams inside a log group the configured exporters write.",
        )
    if needs.put_metric_data and needs.metric_namespaces:
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:PutMetricData supports no resource-level permissions; it is "
            "limited by a cloudwatch:namespace condition instead.",
        )


def _nag_form(stack: Stack, arn: str) -> str:
    """``arn`` as cdk-nag prints it in a finding id (pseudo parameters as ``<AWS::...>``)."""
    region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
    account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
    tail = arn.split(":logs:", 1)[1].split(":", 2)[2]
    return f"arn:<AWS::Partition>:logs:{region}:{account}:{tail}"
