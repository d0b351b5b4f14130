"""The rotation itself: stage a new token, roll the gateways, promote it, roll the agents.

One run at a time holds the lock (:mod:`~tools.rotate.lock`). Every write names its version
after the run id, so a run that was interrupted can be continued (``resume``): what it wrote
is found and kept, and the steps after it run. Each step says, when it fails, what state it
left (:class:`RotationFailed`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TextIO

from botocore.exceptions import ClientError
from otel_fargate.names import stack_name

from tools.rotate.lock import Holder, acquire, holder_of, release, take_over, version_id
from tools.rotate.lookup import discover, stale_agents
from tools.rotate.plan import Plan, RotationFailed, Secret, describe_plan
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


#: What a failure before the promotion leaves: safe, and the command can be run again.
NOT_PROMOTED: Final = (
    "Nothing was promoted: agents keep the current token, which every gateway accepts; fix "
    "the cause and run rotate-token again"
)
#: What a failure while redeploying the agents leaves.
PROMOTED: Final = (
    "The new token is current and the gateways accept it and the old one, so agent tasks "
    "still running are accepted; rotate-token --resume redeploys the agents again"
)


class _Restartable(RotationFailed):
    """A failure that leaves nothing for a rerun to continue: the lock is given back."""


@dataclass(frozen=True)
class _Run:
    """One run: what it touches, the lock it holds, how it waits and where it reports."""

    clients: Clients
    plan: Plan
    lock: Holder
    wait: Waiting
    out: TextIO

    def version(self, step: str) -> str:
        return version_id(self.lock.run, step)

    def say(self, line: str) -> None:
        print(line, file=self.out)


def _put(run: _Run, secret: Secret, value: str, step: str) -> None:
    aws_call(
        f"writing secret {secret.name}",
        run.clients.secretsmanager.put_secret_value,
        SecretId=secret.arn,
        SecretString=value,
        ClientRequestToken=run.version(step),
    )


def _read(run: _Run, secret: Secret, **which: str) -> dict[str, Any] | None:
    """A version of ``secret`` (by ``VersionId`` or ``VersionStage``); None when there is none."""
    try:
        found: dict[str, Any] = aws_call(
            f"reading secret {secret.name}",
            run.clients.secretsmanager.get_secret_value,
            SecretId=secret.arn,
            **which,
        )
    except VerifyError as error:
        cause = error.__cause__
        if isinstance(cause, ClientError) and (
            cause.response.get("Error", {}).get("Code") == "ResourceNotFoundException"
        ):
            return None
        raise
    return found


def _stage(run: _Run, token_factory: Callable[[], str]) -> str:
    """Step 1: the new token into the previous secret; when resumed, the one staged before."""
    staged = _read(run, run.plan.previous, VersionId=run.version("staged"))
    if staged is not None:
        run.say(f"1/4 the new token is already staged in {run.plan.previous.name}")
        return str(staged["SecretString"])
    token = token_factory()
    _put(run, run.plan.previous, token, "staged")  # fails as RotateError: nothing written
    run.say(f"1/4 staged a new token in {run.plan.previous.name}")
    return token


def _roll(run: _Run, services: Any) -> list[str]:
    """Redeploy ``services`` and wait for them; an AWS error becomes a failure too."""
    try:
        return wait_for(run.clients, redeploy(run.clients, services), run.wait, run.out)
    except VerifyError as error:
        return [str(error)]


def _roll_gateways(run: _Run) -> None:
    # also when resumed: whether a gateway task started before or after the staged write
    # cannot be told from timestamps safely, and one more rollout costs only time
    run.say(f"2/4 redeploying the gateways (timeout {run.wait.timeout:g} s)")
    failures = _roll(run, run.plan.gateways)
    if failures:
        raise _Restartable("gateway rollout failed: " + "; ".join(failures) + ". " + NOT_PROMOTED)


def _promote(run: _Run, token: str) -> None:
    plan = run.plan
    if plan.current_version == run.version("current"):
        before = _read(run, plan.current, VersionStage="AWSPREVIOUS")
        old = str(before["SecretString"]) if before is not None else ""
    else:
        old = plan.current_value
        try:
            _put(run, plan.current, token, "current")
        except VerifyError as error:
            raise _Restartable(f"{error}. {NOT_PROMOTED}") from error
    try:
        if _read(run, plan.previous, VersionId=run.version("previous")) is None:
            if not old:
                raise VerifyError(f"{plan.current.name} holds no previous version")
            _put(run, plan.previous, old, "previous")
    except VerifyError as error:
        raise RotationFailed(
            f"{plan.current.name} holds the new token, but writing the old one into "
            f"{plan.previous.name} failed ({error}); gateways starting now would refuse agents "
            "that still send the old token: run rotate-token --resume, which writes it again "
            "and redeploys the agents (they get the new token, which every gateway accepts)"
        ) from error
    run.say(
        f"3/4 promoted: {plan.current.name} holds the new token, {plan.previous.name} the old one"
    )


def _roll_agents(run: _Run) -> None:
    run.say(f"4/4 redeploying the agents (timeout {run.wait.timeout:g} s)")
    failures = _roll(run, run.plan.agents)
    if failures:
        raise RotationFailed("agent rollout failed: " + "; ".join(failures) + ". " + PROMOTED)


def _refuse_stale(clients: Clients, plan: Plan) -> None:
    stale = stale_agents(clients, plan)
    if stale:
        raise _Restartable(
            "agent tasks created before the current token was written are running and may hold "
            "an older token, which the gateways would stop accepting: "
            + "; ".join(stale)
            + ". Redeploy those services first (aws ecs update-service --force-new-deployment), "
            "or pass --force; nothing was changed"
        )


def _steps(run: _Run, token_factory: Callable[[], str]) -> None:
    token = _stage(run, token_factory)
    if run.plan.current_version != run.version("current"):  # not yet promoted
        _roll_gateways(run)
    _promote(run, token)
    _roll_agents(run)


def _print_plan(plan: Plan, env: str, out: TextIO) -> None:
    print(f"rotate-token {env}: stack {stack_name(env, 'gateway')}", file=out)
    for line in describe_plan(plan):
        print(line, file=out)


def rotate_token(
    session: boto3.Session,
    env: str,
    *,
    out: TextIO,
    region: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    wait: bool = False,
    resume: bool = False,
    waiting: Waiting | None = None,
    token_factory: Callable[[], str] = new_token,
) -> Plan:
    """Rotate the gateway token of environment ``env``: new token, gateways, then agents.

    :param force: rotate even while agent tasks created before the current token was
        written are running (they would be refused once the rotation is done).
    :param wait: when another run holds the lock, wait for it (up to the timeout of
        ``waiting``) instead of refusing.
    :param resume: continue the interrupted run that holds the lock.
    :param waiting: how long and how often to look at the rollouts and the lock. default:
        ``Waiting()``.
    :raises RotateError: nothing was changed (missing stack, secrets, AWS access); an AWS
        error after the first write raises RotationFailed instead.
    :raises RotationFailed: refused, or a step failed; the message says what state it left.
    """
    clients = Clients(session, region=region)
    patience = waiting if waiting is not None else Waiting()
    plan = discover(clients, env)
    if dry_run:
        _print_plan(plan, env, out)
        holder = holder_of(clients, plan.previous)
        print(f"  lock:           {holder.describe() if holder else 'free'}", file=out)
        print("dry run: nothing changed", file=out)
        return plan
    if resume:
        lock = take_over(clients, plan.previous, out=out)
    else:
        lock = acquire(clients, plan.previous, wait=wait, waiting=patience, out=out)
    # what another run changed while this one waited for the lock is read again
    run = _Run(clients, discover(clients, env), lock, patience, out)
    _print_plan(run.plan, env, out)
    try:
        if not (force or resume):
            _refuse_stale(clients, run.plan)
        _steps(run, token_factory)
    except (_Restartable, VerifyError):
        # nothing promoted: a new run starts over, so the lock is given back
        release(clients, run.plan.previous, lock)
        raise
    except RotationFailed as failed:
        raise RotationFailed(
            f"{failed}. The lock stays with run {lock.run}: rotate-token --resume continues it"
        ) from failed
    release(clients, run.plan.previous, lock)
    run.say("rotated: the gateways accept the new and the old token, the agents send the new one")
    return run.plan
