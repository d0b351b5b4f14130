"""The rotation itself: stage a new token, roll the gateways, promote it, roll the agents.

Each step says, when it fails, what state it left (:class:`RotationFailed`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final, TextIO

from otel_fargate.names import stack_name

from tools.rotate.lookup import discover, stale_agents
from tools.rotate.plan import Plan, RotationFailed, Secret, Service, describe_plan
from tools.rotate.rollout import Waiting, redeploy, wait_for
from tools.verify.aws import Clients, VerifyError, aws_call

if TYPE_CHECKING:
    import boto3

#: Length of a generated token: ``secrets.token_urlsafe(36)`` gives 48 characters of
#: ``A-Z a-z 0-9 - _``, as long as the token the stack generates.
TOKEN_BYTES: Final = 36


def new_token() -> str:
    """A new random token: 48 URL-safe characters."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def _put(clients: Clients, secret: Secret, value: str) -> None:
    aws_call(
        f"writing secret {secret.name}",
        clients.secretsmanager.put_secret_value,
        SecretId=secret.arn,
        SecretString=value,
    )


#: What a failure before the promotion leaves: safe, and the command can be run again.
NOT_PROMOTED: Final = (
    "Nothing was promoted: agents keep the current token, which every gateway accepts; fix "
    "the cause and run rotate-token again"
)
#: What a failure while redeploying the agents leaves.
PROMOTED: Final = (
    "The new token is current and the gateways accept it and the old one, so agent tasks "
    "still running are accepted; redeploy those services before the next rotation, which "
    "refuses to start while they run"
)


def _roll(clients: Clients, services: Sequence[Service], wait: Waiting, out: TextIO) -> list[str]:
    """Redeploy ``services`` and wait for them; an AWS error becomes a failure too."""
    try:
        return wait_for(clients, redeploy(clients, services), wait, out)
    except VerifyError as error:
        return [str(error)]


def _roll_gateways(clients: Clients, plan: Plan, wait: Waiting, out: TextIO) -> None:
    print(f"2/4 redeploying the gateways (timeout {wait.timeout:g} s)", file=out)
    failures = _roll(clients, plan.gateways, wait, out)
    if failures:
        raise RotationFailed("gateway rollout failed: " + "; ".join(failures) + ". " + NOT_PROMOTED)


def _promote(clients: Clients, plan: Plan, token: str, out: TextIO) -> None:
    try:
        _put(clients, plan.current, token)
    except VerifyError as error:
        raise RotationFailed(f"{error}. {NOT_PROMOTED}") from error
    try:
        _put(clients, plan.previous, plan.current_value)
    except VerifyError as error:
        raise RotationFailed(
            f"{plan.current.name} holds the new token, but writing the old one into "
            f"{plan.previous.name} failed ({error}); gateways starting now would refuse agents "
            "that still send the old token: redeploy the agents (they get the new token, which "
            "every gateway accepts), then run rotate-token again"
        ) from error
    print(
        f"3/4 promoted: {plan.current.name} holds the new token, {plan.previous.name} the old one",
        file=out,
    )


def _roll_agents(clients: Clients, plan: Plan, wait: Waiting, out: TextIO) -> None:
    print(f"4/4 redeploying the agents (timeout {wait.timeout:g} s)", file=out)
    failures = _roll(clients, plan.agents, wait, out)
    if failures:
        raise RotationFailed("agent rollout failed: " + "; ".join(failures) + ". " + PROMOTED)


def rotate_token(
    session: boto3.Session,
    env: str,
    *,
    out: TextIO,
    region: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    waiting: Waiting | None = None,
    token_factory: Callable[[], str] = new_token,
) -> Plan:
    """Rotate the gateway token of environment ``env``: new token, gateways, then agents.

    :param force: rotate even while agent tasks created before the current token was
        written are running (they would be refused once the rotation is done).
    :param waiting: how long and how often to look at the rollouts. default: ``Waiting()``.
    :raises RotateError: nothing was changed (missing stack, secrets, AWS access); an AWS
        error after the first write raises RotationFailed instead.
    :raises RotationFailed: refused, or a step failed; the message says what state it left.
    """
    clients = Clients(session, region=region)
    wait = waiting if waiting is not None else Waiting()
    plan = discover(clients, env)
    print(f"rotate-token {env}: stack {stack_name(env, 'gateway')}", file=out)
    for line in describe_plan(plan):
        print(line, file=out)
    stale = [] if force else stale_agents(clients, plan)
    if stale:
        raise RotationFailed(
            "agent tasks created before the current token was written are running and may hold "
            "an older token, which the gateways would stop accepting: "
            + "; ".join(stale)
            + ". Redeploy those services first (aws ecs update-service --force-new-deployment), "
            "or pass --force; nothing was changed"
        )
    if dry_run:
        print("dry run: nothing changed", file=out)
        return plan
    token = token_factory()
    _put(clients, plan.previous, token)
    print(f"1/4 staged a new token in {plan.previous.name}", file=out)
    _roll_gateways(clients, plan, wait, out)
    _promote(clients, plan, token, out)
    _roll_agents(clients, plan, wait, out)
    print(
        "rotated: the gateways accept the new and the old token, the agents send the new one",
        file=out,
    )
    return plan
