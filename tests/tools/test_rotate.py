"""``python -m tools.cli rotate-token`` against moto: the secrets, the order, the waiting, errors.

moto holds the secrets, the ECS clusters, services and task definitions, and the gateway
stack. Where moto cannot represent something (the ECS service a stack lists, a rollout in
progress or failed, the tasks of a service), a thin wrapper around the session replaces that
one call; every call the command makes (paginated ones included) is recorded, so the tests can
check their order and the permissions they need.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.tools.conftest import REGION
from tools import rotate
from tools.cli import main

pytestmark = pytest.mark.usefixtures("aws_test_env")

OLD_TOKEN = "old-token-0123456789abcdefghijklmnopqrstuvwxyzABCD"
UNUSED_PREVIOUS = "unused-previous-token-0123456789abcdefghijklmnop"
GATEWAY_STACK = "otel-fargate-dev-gateway"

Call = tuple[str, str, dict[str, Any]]
Override = Callable[..., dict[str, Any]]


class _Client:
    """A moto client whose calls are recorded, with some operations replaced."""

    def __init__(self, real: Any, service: str, env: Env) -> None:
        self._real = real
        self._service = service
        self._env = env

    def get_paginator(self, operation: str) -> Any:
        client = self

        class Paginator:
            def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
                client._env.calls.append((client._service, operation, kwargs))
                override = client._env.overrides.get((client._service, operation))
                if override is not None:
                    yield override(client._real, **kwargs)
                    return
                yield from client._real.get_paginator(operation).paginate(**kwargs)

        return Paginator()

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._real, name)
        if not callable(real) or name.startswith("_"):
            return real

        def call(**kwargs: Any) -> Any:
            self._env.calls.append((self._service, name, kwargs))
            override = self._env.overrides.get((self._service, name))
            if override is not None:
                return override(self._real, **kwargs)
            return real(**kwargs)

        return call


class _Session:
    def __init__(self, env: Env) -> None:
        self._env = env
        self._session = boto3.Session(region_name=REGION)
        self.region_name = REGION

    def client(self, name: str, **kwargs: Any) -> Any:
        real = self._session.client(name, **kwargs)  # type: ignore[call-overload]
        return _Client(real, name, self._env)


def _secret_container(name: str, secrets: dict[str, str]) -> dict[str, Any]:
    return {
        "name": name,
        "image": "collector",
        "memory": 512,
        "secrets": [{"name": key, "valueFrom": value} for key, value in secrets.items()],
    }


class Env:
    """An environment in moto: a gateway reading two tokens, agents in two clusters."""

    def __init__(self, *, gateway_reads_previous: bool = True) -> None:
        self.calls: list[Call] = []
        self.overrides: dict[tuple[str, str], Override] = {}
        self.sm = boto3.client("secretsmanager", region_name=REGION)
        self.ecs = boto3.client("ecs", region_name=REGION)
        self.current_arn = self.sm.create_secret(
            Name="GatewayToken1F3C8BB1-abc", SecretString=OLD_TOKEN
        )["ARN"]
        self.previous_arn = self.sm.create_secret(
            Name="GatewayTokenPrevious2A7D-def", SecretString=UNUSED_PREVIOUS
        )["ARN"]
        self.other_arn = self.sm.create_secret(Name="vendor/key", SecretString="k")["ARN"]
        gateway_secrets = {"OTEL_GATEWAY_TOKEN": self.current_arn}
        if gateway_reads_previous:
            gateway_secrets["OTEL_GATEWAY_TOKEN_PREVIOUS"] = self.previous_arn
        self.gateway = self._service("otel-dev", "otel-gateway", gateway_secrets)
        self.demo = self._service("otel-dev", "demo", {"OTEL_GATEWAY_TOKEN": self.current_arn})
        # an agent in another stack and cluster, naming the secret by its name
        self.checkout = self._service(
            "apps", "checkout", {"OTEL_GATEWAY_TOKEN": "GatewayToken1F3C8BB1-abc"}
        )
        # a service that reads another secret only: never redeployed
        self.unrelated = self._service("apps", "unrelated", {"VENDOR_KEY": self.other_arn})
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName=GATEWAY_STACK,
            TemplateBody=json.dumps(
                {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}}}
            ),
        )
        # moto's CloudFormation creates no ECS service from a template that could read secrets
        # the way ECS does: the gateway service is listed as a resource of the stack here
        self.overrides[("cloudformation", "list_stack_resources")] = self._stack_resources

    def _service(self, cluster: str, name: str, secrets: dict[str, str]) -> str:
        self.ecs.create_cluster(clusterName=cluster)
        definition = self.ecs.register_task_definition(
            family=name, containerDefinitions=[_secret_container("otel-collector", secrets)]
        )["taskDefinition"]["taskDefinitionArn"]
        return str(
            self.ecs.create_service(
                cluster=cluster, serviceName=name, taskDefinition=definition, desiredCount=2
            )["service"]["serviceArn"]
        )

    def _stack_resources(self, real: Any, **kwargs: Any) -> dict[str, Any]:
        page: dict[str, Any] = real.list_stack_resources(**kwargs)
        if kwargs["StackName"] == GATEWAY_STACK:
            page["StackResourceSummaries"].append(
                {
                    "LogicalResourceId": "GatewayService",
                    "PhysicalResourceId": self.gateway,
                    "ResourceType": "AWS::ECS::Service",
                    "ResourceStatus": "CREATE_COMPLETE",
                }
            )
        return page

    def value(self, arn: str) -> str:
        return str(self.sm.get_secret_value(SecretId=arn)["SecretString"])

    def session(self) -> _Session:
        return _Session(self)

    def writes_and_deploys(self) -> list[tuple[str, str]]:
        """The changes made, in order: (put_secret_value, secret) and (update_service, name)."""
        found = []
        for service, operation, kwargs in self.calls:
            if (service, operation) == ("secretsmanager", "put_secret_value"):
                if "VersionStages" in kwargs:  # a lock record, never a token
                    continue
                which = "current" if kwargs["SecretId"] == self.current_arn else "previous"
                found.append(("put", which))
            elif (service, operation) == ("ecs", "update_service"):
                found.append(("deploy", str(kwargs["service"]).rsplit("/", 1)[-1]))
        return found


@pytest.fixture
def env() -> Iterator[Env]:
    with mock_aws():
        yield Env()


def _run(env: Env, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["rotate-token", "--env", "dev", *args],
        session_factory=lambda **_: env.session(),
        stdout=out,
        stderr=err,
    )
    return code, out.getvalue(), err.getvalue()


def _unchanged(env: Env) -> None:
    assert env.value(env.current_arn) == OLD_TOKEN
    assert env.value(env.previous_arn) == UNUSED_PREVIOUS
    assert env.writes_and_deploys() == []


# ------------------------------------------------------------------------------ success


def test_rotation_writes_a_new_current_token_and_keeps_the_old_one_as_previous(env: Env) -> None:
    # WHEN the token of dev is rotated
    code, out, err = _run(env, "--region", REGION)
    # THEN the current secret holds a new random 48-character token, the previous the old one
    assert (code, err) == (0, "")
    new = env.value(env.current_arn)
    assert re.fullmatch(r"[A-Za-z0-9_-]{48}", new), new
    assert new not in (OLD_TOKEN, UNUSED_PREVIOUS)
    assert env.value(env.previous_arn) == OLD_TOKEN
    # AND no token is ever printed
    for token in (new, OLD_TOKEN, UNUSED_PREVIOUS):
        assert token not in out
    assert out.splitlines()[-1] == (
        "rotated: the gateways accept the new and the old token, the agents send the new one"
    )


def test_the_order_is_new_token_then_gateways_then_promotion_then_agents(env: Env) -> None:
    code, out, _ = _run(env)
    assert code == 0, out
    # the new token is staged where only the gateway reads it, the gateway redeployed, the
    # token promoted, and only then the agents (both clusters; the unrelated service never)
    assert env.writes_and_deploys() == [
        ("put", "previous"),
        ("deploy", "otel-gateway"),
        ("put", "current"),
        ("put", "previous"),
        ("deploy", "demo"),
        ("deploy", "checkout"),
    ]
    assert "agents:         demo (cluster otel-dev), checkout (cluster apps)" in out
    assert "gateways:       otel-gateway (cluster otel-dev)" in out


def test_the_staged_token_is_the_one_promoted(env: Env) -> None:
    tokens = iter(["n" * 48])
    out = io.StringIO()
    rotate.rotate_token(env.session(), "dev", out=out, token_factory=lambda: next(tokens))
    puts = [k for s, o, k in env.calls if o == "put_secret_value" and "VersionStages" not in k]
    assert [(p["SecretId"], p["SecretString"]) for p in puts] == [
        (env.previous_arn, "n" * 48),
        (env.current_arn, "n" * 48),
        (env.previous_arn, OLD_TOKEN),
    ]


def test_new_tokens_are_48_url_safe_characters() -> None:
    tokens = {rotate.new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{48}", t) for t in tokens)


def test_dry_run_changes_nothing(env: Env) -> None:
    code, out, err = _run(env, "--dry-run")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "dry run: nothing changed"
    assert "current token:  GatewayToken1F3C8BB1-abc (OTEL_GATEWAY_TOKEN)" in out
    _unchanged(env)


def test_the_plan_never_shows_the_token(env: Env) -> None:
    plan = rotate.rotate_token(env.session(), "dev", out=io.StringIO(), dry_run=True)
    assert plan.current_value == OLD_TOKEN
    assert OLD_TOKEN not in repr(plan)
    assert (plan.current.arn, plan.previous.arn) == (env.current_arn, env.previous_arn)


# ------------------------------------------------------------------------------ waiting


class Rollouts:
    """describe_services replaced: each service's new deployment runs for ``polls`` looks,
    beside the old one, then ends as ``outcome`` (COMPLETED, FAILED, or ROLLED_BACK)."""

    def __init__(self, env: Env, polls: dict[str, int], outcome: dict[str, str]) -> None:
        self.env = env
        self.polls = polls
        self.outcome = outcome
        self.looks: dict[str, int] = {}
        env.overrides[("ecs", "describe_services")] = self

    def __call__(self, real: Any, **kwargs: Any) -> dict[str, Any]:
        page: dict[str, Any] = real.describe_services(**kwargs)
        deployed = {
            str(k["service"]).rsplit("/", 1)[-1]
            for s, o, k in self.env.calls
            if o == "update_service"
        }
        for service in page["services"]:
            name = service["serviceName"]
            if name not in deployed:
                continue
            self.looks[name] = self.looks.get(name, 0) + 1
            primary = service["deployments"][0]
            old = {
                "id": "ecs-svc/old",
                "status": "ACTIVE",
                "rolloutState": "COMPLETED",
                "createdAt": primary["createdAt"] - timedelta(days=1),
            }
            if self.looks[name] <= self.polls.get(name, 0):
                primary["rolloutState"] = "IN_PROGRESS"
                service["deployments"].append(old)
            elif self.outcome.get(name) == "FAILED":
                primary["rolloutState"] = "FAILED"
                primary["rolloutStateReason"] = (
                    "ECS deployment circuit breaker: tasks failed to start."
                )
                service["deployments"].append(old)
            elif self.outcome.get(name) == "ROLLED_BACK":
                service["deployments"] = [{**old, "status": "PRIMARY"}]
        return page


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def _rotate(env: Env, clock: Clock, **kwargs: Any) -> str:
    out = io.StringIO()
    rotate.rotate_token(
        env.session(),
        "dev",
        out=out,
        waiting=rotate.Waiting(timeout=600, interval=15, sleep=clock.sleep, clock=clock),
        **kwargs,
    )
    return out.getvalue()


def test_agents_are_redeployed_only_after_the_gateway_rollout_completed(env: Env) -> None:
    # GIVEN a gateway rollout that takes three looks, and agents' rollouts that take one
    rollouts = Rollouts(env, {"otel-gateway": 3, "demo": 1, "checkout": 1}, {})
    clock = Clock()
    # WHEN the token is rotated
    out = _rotate(env, clock)
    # THEN it polled the gateway every 15 s until it was stable (3 looks in progress, then
    # done), and promoted and redeployed the agents only after that
    assert rollouts.looks["otel-gateway"] == 4
    gateway_done = max(
        i
        for i, (s, o, k) in enumerate(env.calls)
        if o == "describe_services" and any("otel-gateway" in a for a in k["services"])
    )
    first_agent = min(
        i
        for i, (s, o, k) in enumerate(env.calls)
        if o == "update_service" and "otel-gateway" not in k["service"]
    )
    promotion = [
        i
        for i, (s, o, k) in enumerate(env.calls)
        if o == "put_secret_value" and k["SecretId"] == env.current_arn
    ]
    assert gateway_done < promotion[0] < first_agent
    assert clock.sleeps == [15.0] * 4  # 3 for the gateway, 1 for the agents
    assert out.index("otel-gateway (cluster otel-dev): rollout COMPLETED") < out.index("3/4")
    assert "demo (cluster otel-dev): rollout COMPLETED" in out


def test_a_failed_gateway_rollout_stops_before_the_promotion(env: Env) -> None:
    Rollouts(env, {"otel-gateway": 1}, {"otel-gateway": "FAILED"})
    with pytest.raises(rotate.RotationFailed) as failed:
        _rotate(env, Clock())
    message = str(failed.value)
    assert message.startswith(
        "gateway rollout failed: otel-gateway (cluster otel-dev): rollout FAILED: ECS "
        "deployment circuit breaker: tasks failed to start."
    )
    assert "Nothing was promoted: agents keep the current token" in message
    # the agents' token is untouched, only the gateway's second slot holds the staged one
    assert env.value(env.current_arn) == OLD_TOKEN
    assert env.value(env.previous_arn) not in (OLD_TOKEN, UNUSED_PREVIOUS)
    assert env.writes_and_deploys() == [("put", "previous"), ("deploy", "otel-gateway")]


def test_a_rolled_back_gateway_is_a_failure(env: Env) -> None:
    Rollouts(env, {}, {"otel-gateway": "ROLLED_BACK"})
    with pytest.raises(
        rotate.RotationFailed,
        match=r"otel-gateway \(cluster otel-dev\): rolled back to an earlier deployment",
    ):
        _rotate(env, Clock())
    assert env.value(env.current_arn) == OLD_TOKEN


def test_a_gateway_rollout_past_the_timeout_is_a_failure(env: Env) -> None:
    Rollouts(env, {"otel-gateway": 1000}, {})
    clock = Clock()
    code_out = io.StringIO()
    with pytest.raises(
        rotate.RotationFailed, match=r"otel-gateway \(cluster otel-dev\): not stable within 600 s"
    ):
        rotate.rotate_token(
            env.session(),
            "dev",
            out=code_out,
            waiting=rotate.Waiting(timeout=600, interval=15, sleep=clock.sleep, clock=clock),
        )
    assert clock.now == 600
    assert env.value(env.current_arn) == OLD_TOKEN


def test_a_failed_agent_rollout_is_reported_after_the_promotion(env: Env) -> None:
    Rollouts(env, {"checkout": 1}, {"checkout": "FAILED"})
    with pytest.raises(rotate.RotationFailed) as failed:
        _rotate(env, Clock())
    assert str(failed.value).startswith(
        "agent rollout failed: checkout (cluster apps): rollout FAILED"
    )
    assert "rotate-token --resume redeploys the agents again" in str(failed.value)
    assert "The lock stays with run " in str(failed.value)
    assert env.value(env.previous_arn) == OLD_TOKEN


def test_a_failed_rollout_exits_1(env: Env) -> None:
    Rollouts(env, {}, {"otel-gateway": "FAILED"})
    code, out, err = _run(env)
    assert code == 1
    assert err.startswith("error: gateway rollout failed: otel-gateway")
    assert err.count("\n") == 1
    assert "2/4 redeploying the gateways (timeout 1800 s)" in out


def test_the_options_reach_the_rotation(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def rotate_token(session: Any, name: str, **kwargs: Any) -> None:
        seen.update(kwargs, env=name)

    monkeypatch.setattr(rotate, "rotate_token", rotate_token)
    code, _, _ = _run(env, "--region", REGION, "--timeout", "90", "--dry-run", "--force")
    assert code == 0
    assert (seen["env"], seen["region"], seen["dry_run"], seen["force"]) == (
        "dev",
        REGION,
        True,
        True,
    )
    assert seen["waiting"].timeout == 90
    assert seen["waiting"].interval == rotate.POLL_SECONDS == 15


# ------------------------------------------------------------------------------ refusals


def _stale_tasks(env: Env, age: timedelta) -> None:
    written = env.sm.get_secret_value(SecretId=env.current_arn)["CreatedDate"]

    def list_tasks(real: Any, **kwargs: Any) -> dict[str, Any]:
        return {"taskArns": [f"arn:aws:ecs:{REGION}:123456789012:task/{kwargs['cluster']}/t1"]}

    def describe_tasks(real: Any, **kwargs: Any) -> dict[str, Any]:
        return {"tasks": [{"taskArn": a, "createdAt": written - age} for a in kwargs["tasks"]]}

    env.overrides[("ecs", "list_tasks")] = list_tasks
    env.overrides[("ecs", "describe_tasks")] = describe_tasks


def test_agent_tasks_older_than_the_current_token_refuse_the_rotation(env: Env) -> None:
    # GIVEN agent tasks created before the current token was written (an interrupted rotation,
    # a manual put-secret-value): they may still send an older token
    _stale_tasks(env, timedelta(hours=1))
    code, _, err = _run(env)
    # THEN nothing is changed and the command says which services to redeploy
    assert code == 1
    assert err.startswith(
        "error: agent tasks created before the current token was written are running"
    )
    assert "demo (cluster otel-dev): 1 of 1 tasks; checkout (cluster apps): 1 of 1 tasks" in err
    assert "nothing was changed" in err
    _unchanged(env)


def test_force_rotates_despite_old_agent_tasks(env: Env) -> None:
    _stale_tasks(env, timedelta(hours=1))
    code, _, err = _run(env, "--force")
    assert (code, err) == (0, "")
    assert env.value(env.previous_arn) == OLD_TOKEN


def test_agent_tasks_newer_than_the_token_are_fine(env: Env) -> None:
    _stale_tasks(env, -timedelta(minutes=5))
    code, _, err = _run(env)
    assert (code, err) == (0, "")


def test_a_gateway_without_the_previous_token_is_refused() -> None:
    # GIVEN a gateway deployed before it read two tokens
    with mock_aws():
        old = Env(gateway_reads_previous=False)
        code, out, err = _run(old)
        assert code == 2
        assert err == (
            "error: otel-gateway reads OTEL_GATEWAY_TOKEN but no OTEL_GATEWAY_TOKEN_PREVIOUS: "
            "deploy the gateway stack first (cdk deploy) so that the gateway accepts two tokens\n"
        )
        assert out == ""
        _unchanged(old)


def test_an_unknown_environment_is_a_usage_error(env: Env) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["rotate-token", "--env", "staging"],
        session_factory=lambda **_: env.session(),
        stdout=out,
        stderr=err,
    )
    assert code == 2
    assert err.getvalue() == (
        "error: no CloudFormation stack otel-fargate-staging-gateway (check --env and --region)\n"
    )


def test_a_stack_operation_in_progress_is_refused(env: Env) -> None:
    def describe_stacks(real: Any, **kwargs: Any) -> dict[str, Any]:
        page: dict[str, Any] = real.describe_stacks(**kwargs)
        page["Stacks"][0]["StackStatus"] = "UPDATE_IN_PROGRESS"
        return page

    env.overrides[("cloudformation", "describe_stacks")] = describe_stacks
    code, _, err = _run(env)
    assert code == 2
    assert err == (
        "error: stack otel-fargate-dev-gateway is UPDATE_IN_PROGRESS; rotate the token when no "
        "stack operation is running\n"
    )
    _unchanged(env)


def test_a_token_read_from_a_json_key_is_refused(env: Env) -> None:
    def describe_task_definition(real: Any, **kwargs: Any) -> dict[str, Any]:
        page: dict[str, Any] = real.describe_task_definition(**kwargs)
        for container in page["taskDefinition"]["containerDefinitions"]:
            for secret in container.get("secrets", []):
                if secret["name"] == "OTEL_GATEWAY_TOKEN":
                    secret["valueFrom"] += ":token::"
        return page

    env.overrides[("ecs", "describe_task_definition")] = describe_task_definition
    code, _, err = _run(env)
    assert code == 2
    assert "which is not a whole Secrets Manager secret" in err
    _unchanged(env)


def test_access_denied_on_the_first_write_changes_nothing(env: Env) -> None:
    def refused(real: Any, **kwargs: Any) -> dict[str, Any]:
        if "VersionStages" in kwargs:  # the lock record
            return dict(real.put_secret_value(**kwargs))
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}},
            "PutSecretValue",
        )

    env.overrides[("secretsmanager", "put_secret_value")] = refused
    code, _, err = _run(env)
    assert code == 2
    assert err == (
        "error: AWS refused the request while writing secret GatewayTokenPrevious2A7D-def: "
        "AccessDeniedException: not allowed\n"
    )
    assert env.value(env.current_arn) == OLD_TOKEN
    assert env.value(env.previous_arn) == UNUSED_PREVIOUS
    assert not [c for c in env.calls if c[1] == "update_service"]


def test_a_failed_second_promotion_write_says_what_to_do(env: Env) -> None:
    puts: list[str] = []

    def put(real: Any, **kwargs: Any) -> dict[str, Any]:
        if "VersionStages" not in kwargs:  # not the lock record
            puts.append(kwargs["SecretId"])
        if len(puts) == 3:
            raise ClientError(
                {"Error": {"Code": "InternalServiceError", "Message": "try again"}},
                "PutSecretValue",
            )
        return dict(real.put_secret_value(**kwargs))

    env.overrides[("secretsmanager", "put_secret_value")] = put
    code, _, err = _run(env)
    assert code == 1
    assert "GatewayToken1F3C8BB1-abc holds the new token, but writing the old one into" in err
    assert "run rotate-token --resume, which writes it again and redeploys the agents" in err
    assert not [c for c in env.calls if c[1] == "update_service" and "demo" in c[2]["service"]]


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("otel-gateway", "Nothing was promoted: agents keep the current token"),
        ("checkout", "The new token is current and the gateways accept it and the old one"),
    ],
)
def test_an_aws_error_while_redeploying_says_what_state_it_left(
    env: Env, service: str, expected: str
) -> None:
    def update_service(real: Any, **kwargs: Any) -> dict[str, Any]:
        if kwargs["service"].endswith("/" + service):
            raise ClientError(
                {"Error": {"Code": "ServiceNotActiveException", "Message": "gone"}},
                "UpdateService",
            )
        return dict(real.update_service(**kwargs))

    env.overrides[("ecs", "update_service")] = update_service
    code, _, err = _run(env)
    # exit 1, not 2: something was already written
    assert code == 1
    assert f"AWS error while redeploying {service}: ServiceNotActiveException: gone" in err
    assert expected in err


# ------------------------------------------------------------------------------ usage


@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_a_bad_timeout_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["rotate-token", "--env", "dev", "--timeout", value])
    assert code == 2
    assert "--timeout: must be a whole number of seconds > 0" in capsys.readouterr().err


def test_missing_env_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rotate-token"]) == 2
    assert "the following arguments are required: --env" in capsys.readouterr().err


def test_missing_credentials_are_reported_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    out, err = io.StringIO(), io.StringIO()
    code = main(["rotate-token", "--env", "dev", "--region", REGION], stdout=out, stderr=err)
    assert code == 2
    assert err.getvalue().startswith("error: no AWS credentials found")
    assert err.getvalue().count("\n") == 1


def test_the_help_states_the_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rotate-token", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "redeploy the gateway services and wait until they are stable" in text
    assert text.index("gateway services") < text.index("(the agents)")


# ------------------------------------------------------------------------------ the caller's IAM


def _iam_action(service: str, operation: str) -> str:
    return f"{service}:{''.join(part.capitalize() for part in operation.split('_'))}"


def test_the_readme_lists_exactly_the_permissions_a_rotation_calls(env: Env) -> None:
    # GIVEN agent tasks running (so their age is checked) and the README's list for the caller
    from tests.readme import iam_actions, paragraph

    _stale_tasks(env, -timedelta(minutes=5))
    documented = paragraph("The caller needs `cloudformation:DescribeStacks`")
    # WHEN a whole rotation runs
    code, _, err = _run(env)
    assert (code, err) == (0, "")
    called = {_iam_action(service, operation) for service, operation, _ in env.calls}
    # THEN the README names exactly the actions it called
    assert iam_actions(documented) == called
    # AND on the secrets the README says: both tokens read and written, the previous one
    #     described and its staging labels moved (the lock)
    on = {
        operation: {k["SecretId"] for s, o, k in env.calls if o == operation}
        for operation in (
            "get_secret_value",
            "describe_secret",
            "put_secret_value",
            "update_secret_version_stage",
        )
    }
    assert on["get_secret_value"] == {env.current_arn, env.previous_arn}
    assert on["describe_secret"] == {env.previous_arn}
    assert on["put_secret_value"] == {env.current_arn, env.previous_arn}
    assert on["update_secret_version_stage"] == {env.previous_arn}
    for action, where in (
        ("secretsmanager:GetSecretValue", "and `secretsmanager:PutSecretValue` on both tokens"),
        ("secretsmanager:UpdateSecretVersionStage", "on the previous one (the lock)"),
    ):
        assert f"`{action}` {where}" in documented


# ------------------------------------------------------------------------------ how agents name it


def test_agents_are_found_by_full_arn_partial_arn_name_and_key(env: Env) -> None:
    # GIVEN agents that name the current token as ECS accepts it: the full ARN (also what a
    #       cross-stack reference resolves to), the partial ARN (no random suffix), the name,
    #       and a key of the full or partial ARN; and services naming look-alike secrets
    full = env.current_arn
    partial = full.rsplit("-", 1)[0]
    assert partial.endswith(":secret:GatewayToken1F3C8BB1-abc")
    lookalike = env.sm.create_secret(Name="GatewayToken1F3C8BB1-abcd", SecretString="x")["ARN"]
    named = {
        "by-partial-arn": partial,
        "by-partial-arn-key": partial + ":token::",
        "by-full-arn-key": full + ":token::",
        "imported": full,
    }
    for name, value_from in named.items():
        env._service("apps", name, {"OTEL_GATEWAY_TOKEN": value_from})
    env._service("apps", "lookalike-arn", {"OTEL_GATEWAY_TOKEN": lookalike})
    env._service("apps", "lookalike-partial", {"OTEL_GATEWAY_TOKEN": lookalike.rsplit("-", 1)[0]})
    env._service("apps", "other-region", {"T": partial.replace(REGION, "us-east-1")})
    # WHEN the rotation plans
    plan = rotate.rotate_token(env.session(), "dev", out=io.StringIO(), dry_run=True)
    # THEN every way of naming it is found, and no look-alike
    assert sorted(a.name for a in plan.agents) == sorted(["demo", "checkout", *named])


def test_a_gateway_naming_its_tokens_by_partial_arn_is_rotated(env: Env) -> None:
    def describe_task_definition(real: Any, **kwargs: Any) -> dict[str, Any]:
        page: dict[str, Any] = real.describe_task_definition(**kwargs)
        for container in page["taskDefinition"]["containerDefinitions"]:
            for secret in container.get("secrets", []):
                if secret["valueFrom"] in (env.current_arn, env.previous_arn):
                    secret["valueFrom"] = secret["valueFrom"].rsplit("-", 1)[0]
        return page

    env.overrides[("ecs", "describe_task_definition")] = describe_task_definition
    code, out, err = _run(env)
    assert (code, err) == (0, "")
    assert env.value(env.previous_arn) == OLD_TOKEN
    assert "agents:         demo (cluster otel-dev), checkout (cluster apps)" in out
