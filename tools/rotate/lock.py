"""One rotation at a time: a lock held as a staging label on the previous-token secret.

Secrets Manager attaches a staging label to at most one version of a secret, and
``UpdateSecretVersionStage`` refuses to attach a label that another version holds unless the
caller names that version (``RemoveFromVersionId``); naming a version that no longer holds it
fails too. That is a compare-and-set:

* acquire: write the run's record (holder, start time) as a new version of the previous-token
  secret under :data:`PENDING_STAGE` (never ``AWSCURRENT``: the gateways keep reading what they
  read), then attach :data:`LOCK_STAGE` to that version with no ``RemoveFromVersionId``. Of two
  runs, only one succeeds; the other finds the holder's record;
* release: remove :data:`LOCK_STAGE` from the run's own version (``RemoveFromVersionId``).

The label stays where it is when a run is interrupted (a crash, Ctrl-C, a lost connection):
the next run refuses and names the holder, and ``--resume`` takes the lock over and continues
that run, whose versions are named after its run id (:func:`version_id`).
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, TextIO

from botocore.exceptions import ClientError

from tools.rotate.plan import RotateError, RotationFailed, Secret
from tools.rotate.rollout import Waiting
from tools.verify.aws import Clients, VerifyError, aws_call

#: The staging label that holds the lock.
LOCK_STAGE: Final = "otel-fargate-rotation-lock"
#: The label a run's record is written under before it tries to take the lock.
PENDING_STAGE: Final = "otel-fargate-rotation-pending"


@dataclass(frozen=True)
class Holder:
    """A run that holds (or held) the lock: its id, who started it, when, and its version."""

    run: str
    who: str
    started: str
    version: str

    def describe(self) -> str:
        return f"run {self.run} by {self.who}, started {self.started}"


def version_id(run: str, step: str) -> str:
    """The version id a run gives its write for ``step``: a rerun finds what was written."""
    return str(uuid.uuid5(uuid.UUID(run), step))


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"


def holder_of(clients: Clients, secret: Secret) -> Holder | None:
    """The run holding the lock on ``secret``, or None when it is free."""
    described = aws_call(
        f"describing secret {secret.name}",
        clients.secretsmanager.describe_secret,
        SecretId=secret.arn,
    )
    for version, stages in described.get("VersionIdsToStages", {}).items():
        if LOCK_STAGE not in stages:
            continue
        value = aws_call(
            f"reading the rotation lock of {secret.name}",
            clients.secretsmanager.get_secret_value,
            SecretId=secret.arn,
            VersionId=version,
        ).get("SecretString", "")
        try:
            record = json.loads(value)
        except ValueError:
            record = {}
        record = record if isinstance(record, dict) else {}
        return Holder(
            run=str(record.get("run", version)),
            who=str(record.get("who", "an unknown holder")),
            started=str(record.get("started", "at an unknown time")),
            version=str(version),
        )
    return None


def _lock_stage(clients: Clients, secret: Secret, **kwargs: Any) -> bool:
    """Move :data:`LOCK_STAGE` as told; False when Secrets Manager refuses the move."""
    try:
        aws_call(
            f"moving the rotation lock of {secret.name}",
            clients.secretsmanager.update_secret_version_stage,
            SecretId=secret.arn,
            VersionStage=LOCK_STAGE,
            **kwargs,
        )
    except VerifyError as error:
        cause = error.__cause__
        if isinstance(cause, ClientError) and (
            cause.response.get("Error", {}).get("Code") == "InvalidParameterException"
        ):
            return False
        raise
    return True


def refusal(secret: Secret, holder: Holder) -> str:
    return (
        f"another rotation holds the lock (staging label {LOCK_STAGE} on secret {secret.name}): "
        f"{holder.describe()}. No token was changed. Wait for it (--wait), or, if that run was "
        "interrupted, continue it with --resume"
    )


def acquire(
    clients: Clients, secret: Secret, *, wait: bool, waiting: Waiting, out: TextIO
) -> Holder:
    """Take the lock for a new run; with ``wait``, poll until it is free (up to the timeout).

    Raises:
        RotationFailed: another run holds the lock (and ``wait`` is off, or it stayed held).
    """
    run = str(uuid.uuid4())
    started = datetime.now(UTC).isoformat(timespec="seconds")
    mine = Holder(run=run, who=_who(), started=started, version=version_id(run, "lock"))
    record = {"run": run, "who": mine.who, "started": started}
    aws_call(
        f"writing the rotation lock record into {secret.name}",
        clients.secretsmanager.put_secret_value,
        SecretId=secret.arn,
        ClientRequestToken=mine.version,
        SecretString=json.dumps(record),
        VersionStages=[PENDING_STAGE],
    )
    deadline = waiting.clock() + waiting.timeout
    told: str | None = None
    unexplained = 0
    while not _lock_stage(clients, secret, MoveToVersionId=mine.version):
        holder = holder_of(clients, secret)
        if holder is None:  # released between our attempt and our look: try again, twice
            unexplained += 1
            if unexplained > 2:
                raise RotateError(
                    f"Secrets Manager refused the staging label {LOCK_STAGE} on {secret.name} "
                    "while no version holds it; no token was changed"
                )
            continue
        if not wait:
            raise RotationFailed(refusal(secret, holder))
        if waiting.clock() >= deadline:
            raise RotationFailed(
                f"still locked after {waiting.timeout:g} s: " + refusal(secret, holder)
            )
        if told != holder.run:
            print(f"waiting for the rotation lock: {holder.describe()}", file=out)
            told = holder.run
        waiting.sleep(waiting.interval)
    print(f"locked: {mine.describe()} (staging label {LOCK_STAGE} on {secret.name})", file=out)
    return mine


def take_over(clients: Clients, secret: Secret, *, out: TextIO) -> Holder:
    """``--resume``: the interrupted run that holds the lock, which this process continues.

    Raises:
        RotateError: no run holds the lock: there is nothing to resume.
    """
    holder = holder_of(clients, secret)
    if holder is None:
        raise RotateError(
            f"--resume: no rotation holds the lock (staging label {LOCK_STAGE} on secret "
            f"{secret.name}); nothing to resume, run rotate-token without --resume"
        )
    print(f"resuming {holder.describe()}", file=out)
    return holder


def release(clients: Clients, secret: Secret, holder: Holder) -> None:
    """Give the lock back; it is not an error when this run no longer holds it."""
    _lock_stage(clients, secret, RemoveFromVersionId=holder.version)
