"""What each component the library knows calls in AWS, or why it calls nothing.

The task role is derived from the final configuration (:mod:`otel_fargate.config.policy.iam`); this
table is the reviewable statement of that derivation, component by component, and a test
holds every component the presets render or ADOT's samples use to an entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class ComponentIam:
    """The AWS actions a component's calls need, or the reason it needs none.

    Attributes:
        actions: IAM actions granted when the component runs (possibly conditionally, as
            ``when`` says).
        when: the condition under which they are granted; empty: always.
        reason: why no action is needed (with no ``actions``).
    """

    actions: tuple[str, ...] = ()
    when: str = ""
    reason: str = ""


_NOTHING_LOCAL = "works inside the task (receives, transforms or listens locally)"
_LOGS_WRITE = ("logs:CreateLogStream", "logs:PutLogEvents")
_LOGS_CREATE = (*_LOGS_WRITE, "logs:CreateLogGroup", "logs:PutRetentionPolicy")
_LOGS_CREATE_WHEN = (
    "on its log group; CreateLogGroup only when the exporter must create it (a name with "
    "placeholders, another region), PutRetentionPolicy only then for a fixed name with a retention"
)

#: Component type -> what it needs, by section.
COMPONENT_IAM: Final[dict[str, dict[str, ComponentIam]]] = {
    "receivers": {
        "otlp": ComponentIam(reason=_NOTHING_LOCAL),
        "prometheus": ComponentIam(reason="scrapes targets over HTTP, no AWS API"),
        "statsd": ComponentIam(reason=_NOTHING_LOCAL),
        "fluent_forward": ComponentIam(reason=_NOTHING_LOCAL),
        "fluentforward": ComponentIam(reason=_NOTHING_LOCAL),
        "awsecscontainermetrics": ComponentIam(
            reason="reads the task metadata endpoint, which needs no credentials"
        ),
        "awsxray": ComponentIam(
            actions=(
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ),
            when="in a pipeline: its proxy (always started) forwards the SDKs' sampling calls",
        ),
        "awscontainerinsightreceiver": ComponentIam(
            reason="refused on Fargate (config/model/fargate_limits.py)"
        ),
    },
    "processors": {
        kind: ComponentIam(reason=_NOTHING_LOCAL)
        for kind in (
            "attributes",
            "batch",
            "filter",
            "memory_limiter",
            "metricstransform",
            "metrics_transform",
            "resource",
            "tail_sampling",
            "transform",
        )
    }
    | {
        kind: ComponentIam(reason="reads the ECS task metadata endpoint and the environment")
        for kind in ("resource_detection", "resourcedetection")
    },
    "exporters": {
        "awsxray": ComponentIam(
            actions=("xray:PutTraceSegments", "xray:PutTelemetryRecords"),
            when="PutTelemetryRecords only with telemetry.enabled",
        ),
        "awsemf": ComponentIam(actions=_LOGS_CREATE, when=_LOGS_CREATE_WHEN),
        "awscloudwatchlogs": ComponentIam(actions=_LOGS_CREATE, when=_LOGS_CREATE_WHEN),
        "otlp_http": ComponentIam(
            actions=("xray:PutSpans", "cloudwatch:PutMetricData", *_LOGS_WRITE),
            when="only signed with sigv4auth for AWS's OTLP endpoints, by signal",
        ),
        **{
            kind: ComponentIam(
                actions=("aps:RemoteWrite",),
                when="signed with sigv4auth; on the workspace its endpoint names",
            )
            for kind in ("prometheus_remote_write", "prometheusremotewrite")
        },
        "otlp_grpc": ComponentIam(reason="sends to a non-AWS endpoint (credentials are secrets)"),
        "otlp": ComponentIam(reason="sends to a non-AWS endpoint (credentials are secrets)"),
        "otlphttp": ComponentIam(reason="as otlp_http"),
        "load_balancing": ComponentIam(reason="sends OTLP to other collectors"),
        "debug": ComponentIam(reason="writes to the collector's own log (stdout)"),
    },
    "extensions": {
        "health_check": ComponentIam(reason=_NOTHING_LOCAL),
        "pprof": ComponentIam(reason=_NOTHING_LOCAL),
        "zpages": ComponentIam(reason=_NOTHING_LOCAL),
        "file_storage": ComponentIam(reason="writes the task's volume"),
        "bearertokenauth": ComponentIam(reason="checks a token from an ECS secret"),
        "oauth2client": ComponentIam(reason="calls a non-AWS token endpoint"),
        "sigv4auth": ComponentIam(
            reason="signs requests with the task role; the signed calls are granted on the exporter"
        ),
        "awsproxy": ComponentIam(
            actions=(
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ),
            when="enabled: it forwards the X-Ray SDKs' sampling calls",
        ),
        "ecs_observer": ComponentIam(
            actions=(
                "ecs:ListTasks",
                "ecs:ListServices",
                "ecs:DescribeTasks",
                "ecs:DescribeTaskDefinition",
                "ecs:DescribeServices",
            ),
            when="enabled: it lists the cluster's tasks to find scrape targets, scoped to the "
            "cluster it names; DescribeServices only with services filters (its "
            "DescribeContainerInstances and ec2:DescribeInstances serve EC2 launch type tasks "
            "only, and are not granted)",
        ),
    },
}
