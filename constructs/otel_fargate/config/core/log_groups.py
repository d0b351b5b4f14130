"""Log group names the AWS log exporters may be given."""

from __future__ import annotations

import re

from otel_fargate.errors import ConfigError

#: The placeholders the AWS log exporters fill from resource attributes.
LOG_GROUP_PLACEHOLDERS = frozenset(
    {
        "ClusterName",
        "ContainerInstanceId",
        "InstanceId",
        "NodeName",
        "PodName",
        "ServiceName",
        "TaskDefinitionFamily",
        "TaskId",
    }
)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
#: How the CDK writes an unresolved token into a string (CloudFormation resolves it).
_CDK_TOKEN = re.compile(r"\$\{Token\[[^\]]*\]\}")
_STATIC_PREFIX = re.compile(r"^/?[^/{}]+/")


def check_log_group_name(name: str, *, setting: str, retention: object = None) -> None:
    """A log group named with placeholders must start with a static path segment (the IAM grant
    is scoped to it), use only placeholders the exporters fill, and set no retention (the
    exporter would need ``logs:PutRetentionPolicy`` on every group the pattern matches).
    """
    found = _PLACEHOLDER.findall(_CDK_TOKEN.sub("", name))
    if not found:
        return
    unknown = sorted(set(found) - LOG_GROUP_PLACEHOLDERS)
    if unknown:
        raise ConfigError(
            f"{setting}: {{{unknown[0]}}} is not a placeholder the exporters fill (known: "
            f"{', '.join('{' + p + '}' for p in sorted(LOG_GROUP_PLACEHOLDERS))}), got {name!r}"
        )
    if not _STATIC_PREFIX.match(name):
        raise ConfigError(
            f"{setting}: a name with placeholders needs a static prefix such as /app/ before "
            f"the first one, or its IAM grant would cover every log group, got {name!r}"
        )
    if retention is not None:
        raise ConfigError(
            f"{setting}: retention cannot be set on a group named with placeholders (the "
            f"exporter would need logs:PutRetentionPolicy on every group it matches); use a "
            f"fixed name, which the stack creates with its retention, got {name!r}"
        )
