"""ECS rolling deployments: force a new deployment of services and wait until they are stable."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, TextIO

from tools.rotate.plan import Service
from tools.verify.aws import Clients, aws_call

#: Seconds between two looks at a rollout (the ECS ``services_stable`` waiter's interval).
POLL_SECONDS: Final = 15.0
#: How long one phase (the gateways, then the agents) may take to roll out.
DEFAULT_TIMEOUT_SECONDS: Final = 1800


@dataclass(frozen=True)
class Rollout:
    """A deployment this command started."""

    service: Service
    deployment: str
    created: datetime | None


def redeploy(clients: Clients, services: Iterable[Service]) -> list[Rollout]:
    """Force a new deployment of every service; the tasks it starts read the secrets anew."""
    rollouts = []
    for service in services:
        answer = aws_call(
            f"redeploying {service.name}",
            clients.ecs.update_service,
            cluster=service.cluster,
            service=service.arn,
            forceNewDeployment=True,
        )
        primary = _primary(answer["service"])
        rollouts.append(Rollout(service, str(primary.get("id")), primary.get("createdAt")))
    return rollouts


def _primary(service: Mapping[str, Any]) -> dict[str, Any]:
    found = [d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"]
    return dict(found[0]) if found else {}


def rollout_state(rollout: Rollout, service: Mapping[str, Any] | None) -> str | None:
    """None while the rollout runs, ``"COMPLETED"`` when stable, else why it failed.

    Stable: the service runs one deployment, started by this rollout or after it, whose
    rollout has completed, with as many tasks running as desired. A deployment started
    after ours (another deploy) also starts its tasks after the secrets were written.
    """
    if service is None or service.get("status") != "ACTIVE":
        return "the service is no longer ACTIVE"
    deployments = list(service.get("deployments", []))
    primary = _primary(service)
    ours = next((d for d in deployments if d.get("id") == rollout.deployment), None)
    newer = primary.get("id") == rollout.deployment or (
        rollout.created is not None
        and primary.get("createdAt") is not None
        and primary["createdAt"] >= rollout.created
    )
    if not newer:
        failed = ours is not None and ours.get("rolloutState") == "FAILED"
        reason = ours.get("rolloutStateReason") if failed and ours else None
        return f"rollout FAILED: {reason}" if reason else "rolled back to an earlier deployment"
    if primary.get("rolloutState") == "FAILED":
        return f"rollout FAILED: {primary.get('rolloutStateReason', 'no reason given')}"
    stable = len(deployments) == 1 and service.get("runningCount") == service.get("desiredCount")
    done = primary.get("rolloutState", "COMPLETED") == "COMPLETED"
    return "COMPLETED" if stable and done else None


@dataclass(frozen=True)
class Waiting:
    """How to wait: the deadline per phase, the poll interval, and the clock."""

    timeout: float = DEFAULT_TIMEOUT_SECONDS
    interval: float = POLL_SECONDS
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def wait_for(
    clients: Clients, rollouts: Sequence[Rollout], waiting: Waiting, out: TextIO
) -> list[str]:
    """Poll until every rollout completed; return the failures (empty: all completed).

    A rollout still running at the deadline is a failure.
    """
    deadline = waiting.clock() + waiting.timeout
    pending = list(rollouts)
    failures: list[str] = []
    while True:
        current = _current_services(clients, pending)
        still: list[Rollout] = []
        for rollout in pending:
            state = rollout_state(rollout, current.get(rollout.service.arn))
            if state is None:
                still.append(rollout)
            elif state == "COMPLETED":
                print(f"    {rollout.service.label}: rollout COMPLETED", file=out)
            else:
                failures.append(f"{rollout.service.label}: {state}")
        if not still:
            return failures
        if waiting.clock() >= deadline:
            return failures + [
                f"{r.service.label}: not stable within {waiting.timeout:g} s" for r in still
            ]
        waiting.sleep(waiting.interval)
        pending = still


def _current_services(clients: Clients, rollouts: Sequence[Rollout]) -> dict[str, dict[str, Any]]:
    by_cluster: dict[str, list[str]] = {}
    for rollout in rollouts:
        by_cluster.setdefault(rollout.service.cluster, []).append(rollout.service.arn)
    found: dict[str, dict[str, Any]] = {}
    for cluster, arns in by_cluster.items():
        for start in range(0, len(arns), 10):
            described = aws_call(
                f"watching the rollouts in cluster {cluster}",
                clients.ecs.describe_services,
                cluster=cluster,
                services=arns[start : start + 10],
            )
            found.update({str(s["serviceArn"]): s for s in described.get("services", [])})
    return found
