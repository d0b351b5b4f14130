"""Rule: names that become AWS resources or IAM grants hold no variable and no reserved prefix.

Every name :mod:`.iam` reads out of the final configuration ends up in a CloudFormation resource
or a policy: a log group the stack creates or grants on, a region in an ARN, a CloudWatch
namespace the dashboard and alarms read. The collector expands a ``${...}`` in them only at start,
but the stack creates and grants what it reads at synth, so the running collector would write
where nothing was granted (and ``${...}`` in an ARN is an IAM policy variable). Plain
``environment=`` variables are filled in before the names are read (the collector sees the same
values), and a CDK token as the CDK writes it (``${Token[...]}``) is resolved by CloudFormation;
anything else is refused. Log streams are granted as ``log-stream:*`` of their group, so a stream
name may hold a variable.

CloudWatch Logs reserves two prefixes: ``aws/`` (``CreateLogGroup`` refuses it) and ``/aws/``,
where AWS services keep their own groups (``/aws/lambda/...``, ``/aws/ecs/...``). A group under
either is written only when ``existing_log_groups`` names it (then nobody creates it and the
grant is on that group, or on that pattern: ADOT's ``/aws/ecs/containerinsights/{ClusterName}/
performance``); a placeholder in the first segment after the prefix (``/aws/{TaskId}``) is
refused outright: the grant would widen to every group of the prefix.
"""

from __future__ import annotations

import re

from otel_fargate.errors import ConfigError

#: A CDK token as the CDK writes it into a string.
_CDK_TOKEN = re.compile(r"\$\{Token\[[A-Za-z0-9_.\-]+\]\}")
#: Prefixes CloudWatch Logs reserves to AWS.
RESERVED_LOG_GROUP_PREFIXES = ("/aws/", "aws/")
#: The region variables ECS sets to the task's own region.
_TASK_REGION = re.compile(r"^\$\{(?:env:)?AWS_(?:DEFAULT_)?REGION\}$")


def aws_name(value: object, *, setting: str, names: str) -> str | None:
    """``value`` when it is a string without ``${`` (CDK tokens aside); None when no string.

    ``names`` says what the value becomes in AWS, for the message.
    """
    if not isinstance(value, str):
        return None
    if "${" in _CDK_TOKEN.sub("", value):
        raise ConfigError(
            f"{setting}: names {names}, which the stack creates or grants at synth, so it cannot "
            f"hold a variable the collector expands only at start (the grant would name "
            f"something else than what the collector writes); write the name itself, or pass "
            f"the variable through environment= (filled in at synth), got {value!r}"
        )
    return value


def aws_region(value: object, *, setting: str) -> str | None:
    """The region an exporter names; None for the task's own (unset, or ``${env:AWS_REGION}``,
    which ECS sets to the task's region).
    """
    if isinstance(value, str) and _TASK_REGION.fullmatch(value):
        return None
    return aws_name(value, setting=setting, names="the region of an IAM grant")


def is_reserved_log_group(name: str) -> bool:
    """Whether ``name`` is under a prefix CloudWatch Logs reserves to AWS."""
    return name.startswith(RESERVED_LOG_GROUP_PREFIXES)


def _widens_to_reserved(name: str) -> bool:
    """Whether the grant of a name with placeholders covers a whole reserved prefix: its first
    placeholder comes before the end of the first segment after the prefix (``/aws/{TaskId}``,
    ``/aws/ecs{TaskId}/x`` grant ``/aws/*``, ``/aws/ecs*``: every service's groups).
    """
    literal = _CDK_TOKEN.sub("", name)
    brace = literal.find("{")
    if brace < 0:
        return False
    prefix = next(p for p in RESERVED_LOG_GROUP_PREFIXES if literal.startswith(p))
    return "/" not in literal[len(prefix) : brace]


def check_reserved_log_group(name: str, *, setting: str, existing: frozenset[str]) -> None:
    """Refuse a group under a reserved prefix unless ``existing`` names it exactly, and a
    name whose placeholders would widen the grant to a whole reserved prefix in any case.
    """
    if not is_reserved_log_group(name):
        return
    if _widens_to_reserved(name):
        raise ConfigError(
            f"{setting}: a placeholder this early under a prefix reserved to AWS "
            f"({', '.join(RESERVED_LOG_GROUP_PREFIXES)}) would widen the IAM grant to every "
            f"group of that prefix, AWS services' own among them; use a prefix of your own such "
            f"as /app/, got {name!r} (no opt-out)"
        )
    if name not in existing:
        raise ConfigError(
            f"{setting}: {name!r} is under a prefix reserved to AWS "
            f"({', '.join(RESERVED_LOG_GROUP_PREFIXES)}): CloudWatch Logs refuses to create "
            f"aws/ groups, and /aws/ groups belong to AWS services; write a group of your own, "
            f"or, to write a group that exists already, name it in existing_log_groups "
            f"(log_group_exists=True on a typed exporter)"
        )
