"""Rotate an environment's gateway bearer token without refusing any agent.

The gateway accepts two tokens, ``OTEL_GATEWAY_TOKEN`` (the current one, which agents send)
and ``OTEL_GATEWAY_TOKEN_PREVIOUS``; ECS reads both secrets when a task starts, and agents
read only the current one. :func:`rotate_token`:

1. finds the gateway services of ``otel-fargate-<env>-gateway`` and, in their task
   definitions, the two secrets they read; then every ECS service of the region (all
   clusters) whose task definition reads the current secret: the agents. Nothing is changed
   when something is missing, and not at all with ``dry_run``;
2. refuses (unless ``force``) while an agent task runs that was created before the current
   token was written: it may hold an older token, which the gateways stop accepting;
3. writes a new random token into the *previous* secret, redeploys the gateways and waits
   until every rollout has completed: every gateway now accepts the current and the new
   token, while every agent, even one starting now, still gets the current one;
4. promotes: the current secret gets the new token, the previous secret the old one;
5. redeploys the agents and waits until they are stable.

An agent never holds a token a running gateway refuses: before step 4 agents get the old
token, which every gateway accepts; after it they get the new one, which every gateway
accepts since step 3. Only a gateway task starting in the instant between the two writes of
step 4 would read the new token twice; it accepts the agents again once they have been
redeployed. When a gateway rollout fails, nothing has been promoted and the agents keep the
current token, so the rotation can simply be run again.

Problems that stop the rotation before anything is written raise :class:`RotateError`
(exit 2, like ``verify``); a refused, failed or timed-out rotation, and any AWS error after
the first write, raise :class:`RotationFailed` (exit 1), whose message says what state it
left.

One run at a time: steps 3 to 5 run under a lock, a staging label on the previous-token
secret taken by compare-and-set (:mod:`~tools.rotate.lock`); a second run refuses naming the
holder, or waits (``wait``); an interrupted run keeps the lock and is continued (``resume``).

The modules: :mod:`~tools.rotate.plan` (what a rotation touches and its errors),
:mod:`~tools.rotate.lock` (the lock),
:mod:`~tools.rotate.lookup` (steps 1 and 2: finding the services and secrets),
:mod:`~tools.rotate.rollout` (redeploying and waiting) and :mod:`~tools.rotate.rotation`
(the steps in order).
"""

from __future__ import annotations

from tools.rotate.lookup import discover, stale_agents
from tools.rotate.plan import (
    Plan,
    RotateError,
    RotationFailed,
    Secret,
    Service,
    describe_plan,
)
from tools.rotate.rollout import (
    DEFAULT_TIMEOUT_SECONDS,
    POLL_SECONDS,
    Rollout,
    Waiting,
    redeploy,
    rollout_state,
    wait_for,
)
from tools.rotate.rotation import NOT_PROMOTED, PROMOTED, TOKEN_BYTES, new_token, rotate_token

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "NOT_PROMOTED",
    "POLL_SECONDS",
    "PROMOTED",
    "TOKEN_BYTES",
    "Plan",
    "Rollout",
    "RotateError",
    "RotationFailed",
    "Secret",
    "Service",
    "Waiting",
    "describe_plan",
    "discover",
    "new_token",
    "redeploy",
    "rollout_state",
    "rotate_token",
    "stale_agents",
    "wait_for",
]
