"""Least-privilege IAM for a collector, derived from what its configuration exports.

Only what the rendered configuration uses is granted:

* ``XRayExporter``: ``xray:PutTraceSegments`` on ``*`` (X-Ray has no resource-level
  permissions), and ``xray:PutTelemetryRecords`` only when its ``telemetry`` is enabled.
* ``AwsOtlpExporter`` for traces (X-Ray OTLP endpoint): ``xray:PutSpans`` on ``*``.
* ``CloudWatchEmfExporter``, ``CloudWatchLogsExporter``, the collector's own metrics and
  ``AwsOtlpExporter`` for logs: ``logs:CreateLogStream`` and ``logs:PutLogEvents`` on the log
  groups they write (in the exporter's region when it names one). The stack creates those
  groups, with their retention, when it can: a fixed name in the stack's own region. A group it
  cannot create (a name with per-task placeholders, another region) is created by the
  exporter, which then also gets ``logs:CreateLogGroup`` on it, and ``logs:PutRetentionPolicy``
  only for a fixed name with a retention (a name with placeholders may set none, so no
  wildcard ever allows changing retention).
  The AWS OTLP logs endpoint writes only to a group and stream that already exist.
* ``AwsOtlpExporter`` for metrics (CloudWatch OTLP endpoint): ``cloudwatch:PutMetricData``; it
  has no resource-level permissions.
* ``ecs_observer`` (the Prometheus scraper's discovery): ``ecs:ListTasks`` and
  ``ecs:ListServices`` on ``*`` with the ``ecs:cluster`` condition naming the cluster,
  ``ecs:DescribeTasks`` (and ``ecs:DescribeServices`` only with ``services`` filters) under
  the same condition, and ``ecs:DescribeTaskDefinition`` on ``*`` (it has no
  resource-level permissions). The container-instance and EC2 reads serve EC2 launch type
  tasks only and are not granted.

Secrets are not granted here: ECS ``secrets`` grant the execution role read access to exactly
the secrets and parameters the container uses.

CloudWatch EMF goes through CloudWatch Logs (``PutLogEvents``), not ``PutMetricData``, so an EMF
exporter needs no CloudWatch metrics permission at all.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aws_cdk import ArnFormat, Stack, Token
from aws_cdk import aws_iam as iam
from constructs import Construct

from otel_fargate.config.model.component_iam import COMPONENT_IAM
from otel_fargate.task._nag import acknowledge

_XRAY_SEGMENT_ACTIONS = ["xray:PutTraceSegments"]
_XRAY_TELEMETRY_ACTIONS = ["xray:PutTelemetryRecords"]
_XRAY_OTLP_ACTIONS = ["xray:PutSpans"]
_LOGS_WRITE_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]


def _arn_pattern(name: str) -> str:
    """Turn exporter placeholders such as ``{TaskId}`` into IAM wildcards (tokens pass as-is)."""
    if Token.is_unresolved(name):
        return name
    return re.sub(r"\{[^}]*\}", "*", name)


def _log_group_arn(stack: Stack, group: Any) -> str:
    return stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name=_arn_pattern(group.name),
        region=group.region,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def is_static_log_group(name: str) -> bool:
    """True when ``name`` is a fixed name: no exporter placeholders and no CDK token."""
    return not Token.is_unresolved(name) and "{" not in name


def stack_creates_log_group(stack: Stack, group: Any) -> bool:
    """True when the stack creates ``group`` (a ``LogGroupWrite``) with its retention.

    That is a group the exporter would otherwise create, with a fixed name, in the stack's
    own region.
    """
    same_region = group.region is None or (
        not Token.is_unresolved(stack.region) and group.region == stack.region
    )
    return bool(group.creates_group) and is_static_log_group(group.name) and same_region


def policy_statements(stack: Stack, needs: Any) -> list[iam.PolicyStatement]:
    """Statements for a collector whose config needs ``needs`` (``RenderedConfig.iam``)."""
    statements: list[iam.PolicyStatement] = []
    xray_actions: list[str] = []
    if needs.xray_write:
        xray_actions += _XRAY_SEGMENT_ACTIONS
    if needs.xray_telemetry:
        xray_actions += _XRAY_TELEMETRY_ACTIONS
    if needs.xray_otlp_spans:
        xray_actions += _XRAY_OTLP_ACTIONS
    if xray_actions:
        statements.append(
            iam.PolicyStatement(sid="XRayWrite", actions=xray_actions, resources=["*"])
        )
    groups = sorted(needs.log_groups_written, key=lambda g: (g.name, g.region or ""))
    if groups:
        arns = sorted({_log_group_arn(stack, g) for g in groups})
        statements.append(
            iam.PolicyStatement(
                sid="LogsWrite",
                actions=_LOGS_WRITE_ACTIONS,
                resources=[*arns, *(f"{arn}:log-stream:*" for arn in arns)],
            )
        )
    created_by_exporter = sorted(
        {
            _log_group_arn(stack, g)
            for g in groups
            if g.creates_group and not stack_creates_log_group(stack, g)
        }
    )
    if created_by_exporter:
        statements.append(
            iam.PolicyStatement(
                sid="LogsCreate", actions=["logs:CreateLogGroup"], resources=created_by_exporter
            )
        )
    retained_by_exporter = sorted(
        {
            _log_group_arn(stack, g)
            for g in groups
            if g.creates_group and not stack_creates_log_group(stack, g) and g.retention_days
        }
    )
    if retained_by_exporter:
        # only fixed names get here: a name with placeholders may not set a retention
        statements.append(
            iam.PolicyStatement(
                sid="LogsRetention",
                actions=["logs:PutRetentionPolicy"],
                resources=retained_by_exporter,
            )
        )
    statements.extend(_discovery_statements(stack, needs))
    if needs.put_metric_data:
        statements.append(
            iam.PolicyStatement(
                sid="MetricsWrite", actions=["cloudwatch:PutMetricData"], resources=["*"]
            )
        )
    return statements


_XRAY_SAMPLING_ACTIONS = list(COMPONENT_IAM["receivers"]["awsxray"].actions)



def _discovery_statements(stack: Stack, needs: Any) -> list[iam.PolicyStatement]:
    """X-Ray sampling reads, Prometheus remote write, and ECS target discovery."""
    statements: list[iam.PolicyStatement] = []
    if needs.xray_sampling:
        statements.append(
            iam.PolicyStatement(sid="XRaySampling", actions=_XRAY_SAMPLING_ACTIONS, resources=["*"])
        )
    if needs.aps_workspaces:
        workspaces = sorted(
            "*"
            if workspace == "*"
            else stack.format_arn(
                service="aps", resource="workspace", resource_name=workspace, region=region
            )
            for region, workspace in needs.aps_workspaces
        )
        statements.append(
            iam.PolicyStatement(
                sid="PrometheusRemoteWrite",
                actions=["aps:RemoteWrite"],
                resources=["*"] if "*" in workspaces else workspaces,
            )
        )
    statements.extend(ecs_discovery_statements(stack, needs.ecs_discovery))
    return statements


def ecs_discovery_statements(stack: Stack, clusters: Any) -> list[iam.PolicyStatement]:
    """The ECS reads of ``ecs_observer`` target discovery, scoped to the clusters it lists.

    A cluster the configuration does not name at synth (``*``) gets the reads on ``*``.
    """
    if not clusters:
        return []
    if any(d.cluster == "*" for d in clusters):
        actions = ["ecs:ListTasks", "ecs:ListServices", "ecs:DescribeTasks"]
        actions += ["ecs:DescribeTaskDefinition"]
        actions += ["ecs:DescribeServices"] if any(d.services for d in clusters) else []
        return [iam.PolicyStatement(sid="EcsDiscovery", actions=actions, resources=["*"])]
    arns = [_cluster_arn(stack, d.cluster, d.region) for d in clusters]
    statements = [
        iam.PolicyStatement(
            sid="EcsDiscoveryList",
            actions=["ecs:ListTasks", "ecs:ListServices"],
            resources=["*"],
            conditions={"ArnEquals": {"ecs:cluster": arns}},
        ),
        iam.PolicyStatement(
            sid="EcsDiscoveryTasks",
            actions=["ecs:DescribeTasks"],
            resources=[_in_cluster(stack, arn, "task") for arn in arns],
            conditions={"ArnEquals": {"ecs:cluster": arns}},
        ),
        iam.PolicyStatement(
            sid="EcsDiscoveryDefinitions", actions=["ecs:DescribeTaskDefinition"], resources=["*"]
        ),
    ]
    described = [arn for d, arn in zip(clusters, arns, strict=True) if d.services]
    if described:
        statements.append(
            iam.PolicyStatement(
                sid="EcsDiscoveryServices",
                actions=["ecs:DescribeServices"],
                resources=[_in_cluster(stack, arn, "service") for arn in described],
                conditions={"ArnEquals": {"ecs:cluster": described}},
            )
        )
    return statements


def _cluster_arn(stack: Stack, cluster: str, region: str | None) -> str:
    """``cluster`` (a name or an ARN) as the cluster's ARN."""
    if cluster.startswith("arn:"):
        return cluster
    return stack.format_arn(
        service="ecs", resource="cluster", resource_name=cluster, region=region
    )


def _in_cluster(stack: Stack, cluster_arn: str, kind: str) -> str:
    """The ARN pattern of every ``kind`` (task, service) in the cluster's account and region;
    the ``ecs:cluster`` condition keeps it to the cluster (a pattern naming the cluster would
    carry another stack's export into the finding id of every acknowledgment).
    """
    parts = stack.split_arn(cluster_arn, ArnFormat.SLASH_RESOURCE_NAME)
    return stack.format_arn(
        service="ecs", resource=kind, resource_name="*", region=parts.region, account=parts.account
    )


def grant_collector_permissions(scope: Construct, role: iam.IRole, needs: Any) -> iam.Policy | None:
    """Attach the statements for ``needs`` to ``role``, acknowledging the unavoidable wildcards.

    Returns the policy (``None`` when nothing is needed), so that services can wait for it.
    """
    stack = Stack.of(scope)
    statements = policy_statements(stack, needs)
    if not statements:
        return None
    policy = iam.Policy(scope, "ExportPolicy", statements=statements)
    policy.attach_to_role(role)
    if any("*" in statement.resources for statement in statements):
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords/PutSpans and the sampling reads, "
            "CloudWatch PutMetricData, the ECS/EC2 list and describe calls of target discovery, "
            "and remote write to a workspace the endpoint does not name at synth support or "
            "allow no narrower resource; the statements list only the actions the configured "
            "components call.",
        )
    for statement in statements:
        for resource in statement.resources:
            if "*" in resource and resource != "*":
                form = _nag_form(stack, resource)
                acknowledge(
                    policy,
                    f"AwsSolutions-IAM5[Resource::{form}]",
                    "ecs_observer describes the tasks (services) it lists, whose ids it learns at "
                    "run time; the ecs:cluster condition keeps them to the scraped cluster."
                    if ":ecs:" in form
                    else "Log streams (and groups named per task) are created by the exporter at "
                    "run time; the wildcard stays inside the log-group names the exporters write.",
                )
    return policy


def _nag_form(stack: Stack, value: str) -> str:
    """``value`` as cdk-nag prints it in a finding id: references as ``<LogicalId>``."""
    resolved = stack.resolve(value)
    if isinstance(resolved, str):
        return resolved
    parts = resolved.get("Fn::Join", ["", [resolved]])[1] if isinstance(resolved, dict) else []
    text = ""
    for part in parts:
        if isinstance(part, str):
            text += part
        elif "Ref" in part:
            text += f"<{part['Ref']}>"
        elif "Fn::GetAtt" in part:
            text += f"<{'.'.join(part['Fn::GetAtt'])}>"
        else:
            text += "<" + json.dumps(part, sort_keys=True) + ">"
    return text
