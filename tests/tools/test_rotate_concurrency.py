"""``rotate-token`` run twice at once, interrupted and resumed, with agents sending throughout.

moto holds the secrets and the ECS services (see ``test_rotate``). :class:`Fleet` adds what
moto does not model: each service's tasks, which read their secrets when they start (as ECS
does), a rolling deployment that starts new tasks and stops the old ones only when it
completes, and agents that keep sending to every running gateway task. A send is refused when
the agent's token is not one of the gateway task's two tokens; the fleet checks every pair
after every task change, and a load thread keeps sending between changes.

moto lets a staging label sit on two versions at once; Secrets Manager refuses to attach a
label that another version holds unless ``RemoveFromVersionId`` names it, "If the label is
attached and you either do not specify this parameter, or the version ID does not match, then
the operation fails"
(https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecretVersionStage.html).
:func:`_as_secrets_manager_does` makes moto's operation do that, one call at a time.
"""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.tools.test_rotate import OLD_TOKEN, UNUSED_PREVIOUS, Env, _run
from tools import rotate
from tools.rotate.lock import LOCK_STAGE, holder_of
from tools.verify.aws import Clients

pytestmark = pytest.mark.usefixtures("aws_test_env")

GATEWAY, AGENTS = "otel-gateway", ("demo", "checkout")
#: generous: both cores may be busy with other work
DEADLINE = 120.0


def _as_secrets_manager_does(env: Env) -> None:
    serial = threading.Lock()

    def update_secret_version_stage(real: Any, **kwargs: Any) -> dict[str, Any]:
        with serial:
            if kwargs.get("MoveToVersionId") and not kwargs.get("RemoveFromVersionId"):
                stages = real.describe_secret(SecretId=kwargs["SecretId"])["VersionIdsToStages"]
                held = [
                    v
                    for v, labels in stages.items()
                    if kwargs["VersionStage"] in labels and v != kwargs["MoveToVersionId"]
                ]
                if held:
                    raise ClientError(
                        {"Error": {"Code": "InvalidParameterException", "Message": "attached"}},
                        "UpdateSecretVersionStage",
                    )
            return dict(real.update_secret_version_stage(**kwargs))

    env.overrides[("secretsmanager", "update_secret_version_stage")] = update_secret_version_stage


class Fleet:
    """Tasks that read their tokens when they start, rolling deployments, and agents sending."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.lock = threading.Lock()
        self.sent = self.refused = 0
        self.refusals: list[str] = []
        self.tasks = {name: [self._start(name) for _ in range(2)] for name in (GATEWAY, *AGENTS)}
        self.starting: dict[str, list[frozenset[str]]] = {}
        self.looks: dict[str, int] = {}
        #: set to hold every rollout's completion until it is set (a run kept mid-way)
        self.gate = threading.Event()
        self.gate.set()
        env.overrides[("ecs", "update_service")] = self.update_service
        env.overrides[("ecs", "describe_services")] = self.describe_services

    def _start(self, name: str) -> frozenset[str]:
        value = self.env.value
        if name == GATEWAY:
            return frozenset({value(self.env.current_arn), value(self.env.previous_arn)})
        return frozenset({value(self.env.current_arn)})

    def _check(self) -> None:
        """Every running agent task sends to every running gateway task (lock held)."""
        gateways = self.tasks[GATEWAY] + self.starting.get(GATEWAY, [])
        for agent in AGENTS:
            for task in self.tasks[agent] + self.starting.get(agent, []):
                (token,) = task
                for gateway in gateways:
                    self.sent += 1
                    if token not in gateway:
                        self.refused += 1
                        self.refusals.append(f"{agent} refused by a gateway task")

    def update_service(self, real: Any, **kwargs: Any) -> dict[str, Any]:
        name = str(kwargs["service"]).rsplit("/", 1)[-1]
        answer = dict(real.update_service(**kwargs))
        with self.lock:
            self.starting[name] = [self._start(name) for _ in range(2)]
            self.looks[name] = 0
            self._check()
        return answer

    def describe_services(self, real: Any, **kwargs: Any) -> dict[str, Any]:
        page: dict[str, Any] = real.describe_services(**kwargs)
        for service in page["services"]:
            name = service["serviceName"]
            with self.lock:
                if name not in self.starting:
                    continue
                self.looks[name] += 1
                done = self.looks[name] > 1 and self.gate.is_set()
                if done:  # the rollout completes: the old tasks stop
                    self.tasks[name] = self.starting.pop(name)
                    self._check()
            if not done:
                service["deployments"][0]["rolloutState"] = "IN_PROGRESS"
        return page

    def send(self, stop: threading.Event) -> None:
        while not stop.wait(0.002):
            with self.lock:
                self._check()


@pytest.fixture
def env() -> Iterator[Env]:
    with mock_aws():
        environment = Env()
        _as_secrets_manager_does(environment)
        yield environment


@pytest.fixture
def fleet(env: Env) -> Iterator[Fleet]:
    fleet = Fleet(env)
    stop = threading.Event()
    load = threading.Thread(target=fleet.send, args=(stop,), daemon=True)
    load.start()
    yield fleet
    stop.set()
    load.join(DEADLINE)


def _waiting() -> rotate.Waiting:
    return rotate.Waiting(timeout=DEADLINE, interval=0.01, sleep=time.sleep)


class _Out(io.StringIO):
    """Output that tells when a line containing ``watch`` was written."""

    def __init__(self, watch: str, seen: threading.Event | None = None) -> None:
        super().__init__()
        self.watch = watch
        self.seen = seen if seen is not None else threading.Event()
        self.wrote = False

    def write(self, text: str) -> int:
        if self.watch in text:
            self.wrote = True
            self.seen.set()
        return super().write(text)


def _in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def body() -> None:
        try:
            target()
        except BaseException as error:  # reported by the test
            errors.append(error)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, errors


def _lock_is_free(env: Env) -> bool:
    previous = rotate.Secret(env.previous_arn, env.previous_arn, "previous")
    return holder_of(Clients(env.session()), previous) is None


# ------------------------------------------------------------------------------ two runs at once


def test_two_concurrent_runs_take_turns_and_no_send_is_refused(env: Env, fleet: Fleet) -> None:
    # GIVEN two rotations started together, each waiting for the lock, and whichever holds it
    #       first kept mid-rollout until the other is seen waiting
    someone_waits = threading.Event()
    outs = {name: _Out("waiting for the rotation lock", someone_waits) for name in ("a", "b")}
    start = threading.Barrier(2)
    fleet.gate.clear()

    def run(name: str) -> Callable[[], None]:
        def body() -> None:
            start.wait(DEADLINE)
            rotate.rotate_token(
                env.session(),
                "dev",
                out=outs[name],
                wait=True,
                waiting=_waiting(),
                token_factory=lambda: name * 48,
            )

        return body

    threads = [_in_thread(run(name)) for name in outs]
    # WHEN one of them waits for the other
    assert someone_waits.wait(DEADLINE)
    fleet.gate.set()
    for thread, _ in threads:
        thread.join(DEADLINE)
    # THEN both finished, one after the other
    assert [errors for _, errors in threads] == [[], []]
    waited = [n for n, o in outs.items() if o.wrote]
    assert len(waited) == 1
    first = "b" if waited == ["a"] else "a"
    assert re.search(
        r"waiting for the rotation lock: run [0-9a-f-]{36} by \S+@\S+ pid \d+, started ",
        outs[waited[0]].getvalue(),
    )
    # AND the second run's token is current, the first one's is the previous
    assert env.value(env.current_arn) == waited[0] * 48
    assert env.value(env.previous_arn) == first * 48
    # AND no agent's send was refused by any gateway, at any moment, under load
    print(f"sends checked: {fleet.sent}, refused: {fleet.refused}")
    assert fleet.refused == 0, fleet.refusals[:3]
    assert fleet.sent > 100
    assert _lock_is_free(env)


def test_a_second_run_without_wait_is_refused_naming_the_holder(env: Env, fleet: Fleet) -> None:
    # GIVEN a rotation kept in its gateway rollout
    fleet.gate.clear()
    first_out = _Out("2/4 redeploying the gateways")
    first, errors = _in_thread(
        lambda: rotate.rotate_token(env.session(), "dev", out=first_out, waiting=_waiting())
    )
    assert first_out.seen.wait(DEADLINE)
    staged = env.value(env.previous_arn)
    # WHEN a second one starts
    code, _, err = _run(env)
    # THEN it is refused (exit 1), names the lock and its holder, and changes no token
    assert code == 1
    assert re.fullmatch(
        rf"error: another rotation holds the lock \(staging label {LOCK_STAGE} on secret "
        r"GatewayTokenPrevious2A7D-def\): run [0-9a-f-]{36} by \S+@\S+ pid \d+, started "
        r"\S+\. No token was changed\. Wait for it \(--wait\), or, if that run was interrupted, "
        r"continue it with --resume\n",
        err,
    ), err
    assert (env.value(env.current_arn), env.value(env.previous_arn)) == (OLD_TOKEN, staged)
    # AND the first run finishes undisturbed
    fleet.gate.set()
    first.join(DEADLINE)
    assert errors == []
    assert env.value(env.current_arn) == staged
    assert fleet.refused == 0
    assert _lock_is_free(env)


# ------------------------------------------------------------------------------ interrupted runs


class Interrupted(Exception):
    """What a crash, a lost connection or Ctrl-C looks like to the command."""


def _fail_once(env: Env, key: tuple[str, str], when: Callable[[dict[str, Any]], bool]) -> None:
    wrapped = env.overrides.get(key)
    fired: list[bool] = []

    def call(real: Any, **kwargs: Any) -> Any:
        if not fired and when(kwargs):
            fired.append(True)
            raise Interrupted(f"interrupted at {key[1]}")
        if wrapped is not None:
            return wrapped(real, **kwargs)
        return getattr(real, key[1])(**kwargs)

    env.overrides[key] = call


def _token_write(env: Env, arn_of: Callable[[Env], str]) -> Callable[[dict[str, Any]], bool]:
    return lambda k: k["SecretId"] == arn_of(env) and "VersionStages" not in k


POINTS = {
    "redeploying the gateways": (("ecs", "update_service"), lambda e: lambda k: True),
    "promoting": (
        ("secretsmanager", "put_secret_value"),
        lambda e: _token_write(e, lambda x: x.current_arn),
    ),
    "between the two promotion writes": (
        ("secretsmanager", "put_secret_value"),
        lambda e: (
            lambda k: (
                k["SecretId"] == e.previous_arn
                and "VersionStages" not in k
                and k["SecretString"] == OLD_TOKEN
            )
        ),
    ),
    "redeploying the agents": (
        ("ecs", "update_service"),
        lambda e: lambda k: "checkout" in k["service"],
    ),
}


@pytest.mark.parametrize("point", list(POINTS))
def test_an_interrupted_run_is_resumed_to_completion(env: Env, fleet: Fleet, point: str) -> None:
    # GIVEN a rotation interrupted while it was <point>
    key, when = POINTS[point]
    _fail_once(env, key, when(env))
    made: list[str] = []

    def token() -> str:
        made.append("n" * 48)
        return made[-1]

    with pytest.raises(Interrupted):
        rotate.rotate_token(
            env.session(), "dev", out=io.StringIO(), waiting=_waiting(), token_factory=token
        )
    # WHEN a new run starts, it is refused and pointed at --resume
    code, _, err = _run(env)
    assert code == 1
    assert "another rotation holds the lock" in err and "continue it with --resume" in err
    # AND --resume continues the interrupted run
    resumed = io.StringIO()
    rotate.rotate_token(env.session(), "dev", out=resumed, resume=True, waiting=_waiting())
    out = resumed.getvalue()
    assert re.search(r"resuming run [0-9a-f-]{36} by ", out)
    # THEN the token staged by the interrupted run is current, the old one previous
    assert made == ["n" * 48]
    assert (env.value(env.current_arn), env.value(env.previous_arn)) == ("n" * 48, OLD_TOKEN)
    # AND every agent was redeployed after the promotion, and no send was refused
    assert all(task == frozenset({"n" * 48}) for a in AGENTS for task in fleet.tasks[a])
    assert fleet.refused == 0, fleet.refusals[:3]
    assert _lock_is_free(env)


def test_resume_without_an_interrupted_run_is_a_usage_error(env: Env) -> None:
    code, _, err = _run(env, "--resume")
    assert code == 2
    assert err == (
        f"error: --resume: no rotation holds the lock (staging label {LOCK_STAGE} on secret "
        "GatewayTokenPrevious2A7D-def); nothing to resume, run rotate-token without --resume\n"
    )
    assert (env.value(env.current_arn), env.value(env.previous_arn)) == (OLD_TOKEN, UNUSED_PREVIOUS)


def test_a_failed_gateway_rollout_gives_the_lock_back(env: Env) -> None:
    def refused(real: Any, **kwargs: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "ServiceNotActiveException", "Message": "gone"}}, "UpdateService"
        )

    env.overrides[("ecs", "update_service")] = refused
    code, _, err = _run(env)
    assert code == 1 and "Nothing was promoted" in err
    # nothing to continue: the next run starts over instead of being refused
    assert _lock_is_free(env)


def test_a_lock_refused_with_no_holder_stops_instead_of_spinning(env: Env) -> None:
    # GIVEN Secrets Manager refusing the lock label although no version holds it
    def refused(real: Any, **kwargs: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "InvalidParameterException", "Message": "too many labels"}},
            "UpdateSecretVersionStage",
        )

    env.overrides[("secretsmanager", "update_secret_version_stage")] = refused
    # WHEN a rotation starts THEN it gives up after three attempts, changing no token
    code, _, err = _run(env)
    assert (code, err) == (
        2,
        f"error: Secrets Manager refused the staging label {LOCK_STAGE} on "
        "GatewayTokenPrevious2A7D-def while no version holds it; no token was changed\n",
    )
    attempts = [c for c in env.calls if c[1] == "update_secret_version_stage"]
    assert len(attempts) == 3
    assert (env.value(env.current_arn), env.value(env.previous_arn)) == (OLD_TOKEN, UNUSED_PREVIOUS)
