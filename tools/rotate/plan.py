"""What a rotation touches: the services, the two token secrets, and how it can fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from otel_fargate.names import GATEWAY_TOKEN_ENV, GATEWAY_TOKEN_PREVIOUS_ENV

from tools.verify.aws import VerifyError


class RotateError(VerifyError):
    """The rotation could not start: nothing was changed."""


class RotationFailed(Exception):
    """The rotation was refused or failed part-way; the message says what state it left."""


@dataclass(frozen=True)
class Service:
    """An ECS service and the task definition it runs."""

    cluster: str
    arn: str
    name: str
    task_definition: str

    @property
    def label(self) -> str:
        return f"{self.name} (cluster {self.cluster})"


@dataclass(frozen=True)
class Secret:
    """A token secret: how the gateway's task definition names it, its ARN and name."""

    value_from: str
    arn: str
    name: str

    def read_by(self, value_from: str) -> bool:
        """Whether an ECS secret's ``valueFrom`` is this secret (or a key of it).

        ECS takes a secret's name, its full ARN (ending in ``-`` and six random characters)
        or its partial ARN (without them), each optionally followed by a JSON key, stage and
        version; a reference from another stack resolves to one of these.
        """
        if value_from in (self.arn, self.name, self.value_from):
            return True
        if not value_from.startswith("arn:"):
            return False
        theirs, mine = value_from.split(":"), self.arn.split(":")
        return len(theirs) >= 7 and theirs[:6] == mine[:6] and theirs[6] in (mine[6], self.name)


@dataclass(frozen=True)
class Plan:
    """What a rotation will touch."""

    current: Secret
    previous: Secret
    #: the current token (kept out of the repr) and when it was written
    current_value: str = field(repr=False)
    written: datetime
    #: the version id of the current token (a resumed rotation knows whether it promoted)
    current_version: str
    gateways: tuple[Service, ...]
    agents: tuple[Service, ...]


def describe_plan(plan: Plan) -> list[str]:
    """The plan as lines for the operator (names only, never a token)."""
    agents = ", ".join(a.label for a in plan.agents) or (
        f"none (no other ECS service in the region reads {plan.current.name})"
    )
    return [
        f"  current token:  {plan.current.name} ({GATEWAY_TOKEN_ENV})",
        f"  previous token: {plan.previous.name} ({GATEWAY_TOKEN_PREVIOUS_ENV}, gateways only)",
        "  gateways:       " + ", ".join(g.label for g in plan.gateways),
        "  agents:         " + agents,
    ]
