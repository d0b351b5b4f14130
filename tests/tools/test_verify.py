"""``otel-fargate verify`` against moto: every check passing and every failure mode.

moto holds the stacks, the ECS cluster/service/task definition, the log group, the alarm and
the Cloud Map namespace. Where moto cannot represent something, a thin wrapper around the
session replaces that one call (see ``FakeSession`` and the comment at each override).
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.tools.conftest import REGION
from tools import verify
from tools.cli import main

pytestmark = pytest.mark.usefixtures("aws_test_env")

ENV = "dev"
COLLECTOR_LOG_GROUP = "/otel-fargate/dev/gateway/collector"
ALARM = "otel-fargate-dev-gateway-memory-high"

Override = Callable[..., dict[str, Any]]


def _gateway_template() -> dict[str, Any]:
    return {
        "Resources": {
            "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": "otel-dev"}},
            "CollectorLogs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": COLLECTOR_LOG_GROUP},
            },
            # an exporter's destination: holds application logs, never read by verify
            "ExportLogs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": "/otel-fargate/dev/app-logs"},
            },
            "Task": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "Family": "otel-gateway",
                    "RequiresCompatibilities": ["FARGATE"],
                    "NetworkMode": "awsvpc",
                    "Cpu": "512",
                    "Memory": "1024",
                    "ContainerDefinitions": [
                        {
                            "Name": "otel-collector",
                            "Image": "collector",
                            "Memory": 1024,
                            "Essential": True,
                            "LogConfiguration": {
                                "LogDriver": "awslogs",
                                "Options": {
                                    "awslogs-group": {"Ref": "CollectorLogs"},
                                    "awslogs-region": REGION,
                                    "awslogs-stream-prefix": "gateway",
                                },
                            },
                        }
                    ],
                },
            },
            "Service": {
                "Type": "AWS::ECS::Service",
                "Properties": {
                    "Cluster": {"Ref": "Cluster"},
                    "ServiceName": "gateway",
                    "TaskDefinition": {"Ref": "Task"},
                    "DesiredCount": 2,
                    "LaunchType": "FARGATE",
                },
            },
        }
    }


def _network_template() -> dict[str, Any]:
    return {
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "otel-dev-alarms"}}
        }
    }


class _Paginator:
    def __init__(self, fn: Override) -> None:
        self._fn = fn

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield self._fn(**kwargs)


class _Client:
    """A real (moto) client with some operations replaced."""

    def __init__(self, real: Any, overrides: dict[str, Override]) -> None:
        self._real = real
        self._overrides = overrides

    def get_paginator(self, operation: str) -> Any:
        if operation in self._overrides:
            return _Paginator(self._overrides[operation])
        return self._real.get_paginator(operation)

    def __getattr__(self, name: str) -> Any:
        if name in self._overrides:
            return self._overrides[name]
        return getattr(self._real, name)


class FakeSession:
    """A boto3 session whose clients are moto's, with per-operation overrides."""

    def __init__(self, overrides: dict[str, dict[str, Callable[[Any], Override]]]) -> None:
        self._session = boto3.Session(region_name=REGION)
        self._overrides = overrides
        self.region_name = REGION
        self.clients: dict[str, Any] = {}

    def client(self, name: str, **kwargs: Any) -> Any:
        real = self._session.client(name, **kwargs)  # type: ignore[call-overload]
        self.clients[name] = real
        bound = {op: make(real) for op, make in self._overrides.get(name, {}).items()}
        return _Client(real, bound)


class Env:
    """A deployed environment in moto, healthy until a test breaks it."""

    def __init__(self) -> None:
        self.cfn = boto3.client("cloudformation", region_name=REGION)
        self.ecs = boto3.client("ecs", region_name=REGION)
        self.logs = boto3.client("logs", region_name=REGION)
        self.cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        self.sd = boto3.client("servicediscovery", region_name=REGION)
        self.cfn.create_stack(
            StackName="otel-fargate-dev-network", TemplateBody=json.dumps(_network_template())
        )
        self.cfn.create_stack(
            StackName="otel-fargate-dev-gateway", TemplateBody=json.dumps(_gateway_template())
        )
        # another environment's stack: never looked at
        self.cfn.create_stack(
            StackName="otel-fargate-prod-network", TemplateBody=json.dumps(_network_template())
        )
        self.cloudwatch.put_metric_alarm(
            AlarmName=ALARM,
            MetricName="otelcol_process_memory_rss",
            Namespace="OtelFargate/Collector",
            Statistic="Maximum",
            Period=60,
            EvaluationPeriods=5,
            Threshold=966367641.6,
            ComparisonOperator="GreaterThanThreshold",
        )
        self.cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="test")
        self.sd.create_http_namespace(Name="otel-dev")
        (namespace,) = self.sd.list_namespaces()["Namespaces"]
        self.namespace_id: str = namespace["Id"]
        self.gateway_service_id: str = self.sd.create_service(
            Name="otel-gateway", NamespaceId=self.namespace_id
        )["Service"]["Id"]
        self.log("info", "Everything is ready. Begin running and processing data.")
        task_definition = self.ecs.list_task_definitions()["taskDefinitionArns"][0]
        self.ecs.run_task(
            cluster="otel-dev",
            taskDefinition=task_definition,
            count=2,
            launchType="FARGATE",
            startedBy="ecs-svc/gateway",
            networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
        )
        self.health = "HEALTHY"
        self.stack_status: dict[str, str] = {}
        self.extra_deployment = False
        self.overrides: dict[str, dict[str, Callable[[Any], Override]]] = {
            "cloudformation": {
                "list_stack_resources": self._list_stack_resources,
                "describe_stacks": self._describe_stacks,
            },
            "ecs": {
                "describe_tasks": self._describe_tasks,
                "describe_services": self._describe_services,
                "list_service_deployments": self._list_service_deployments,
                "describe_service_deployments": self._describe_service_deployments,
            },
        }
        #: The last deployment ECS records for every service (moto keeps none).
        self.last_deployment: dict[str, Any] = {"status": "SUCCESSFUL"}

    def register_gateway_instances(self, count: int = 2) -> None:
        for i in range(count):
            self.sd.register_instance(
                ServiceId=self.gateway_service_id,
                InstanceId=f"task-{i}",
                Attributes={"AWS_INSTANCE_IPV4": f"10.0.0.{i + 10}"},
            )

    def log(self, level: str, msg: str, *, group: str = COLLECTOR_LOG_GROUP) -> None:
        stream = "gateway/otel-collector/task-0"
        with contextlib.suppress(ClientError):  # the stream exists from an earlier line
            self.logs.create_log_stream(logGroupName=group, logStreamName=stream)
        self.logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[
                {
                    "timestamp": int(time.time() * 1000),
                    "message": json.dumps({"level": level, "msg": msg, "ts": time.time()}),
                }
            ],
        )

    # moto's CloudFormation has no AWS::CloudWatch::Alarm or AWS::ServiceDiscovery::*
    # resources: the alarm and namespace are created through their APIs and listed here.
    def _list_stack_resources(self, real: Any) -> Override:
        def call(**kwargs: Any) -> dict[str, Any]:
            page: dict[str, Any] = real.list_stack_resources(**kwargs)
            if kwargs["StackName"] == "otel-fargate-dev-gateway":
                page["StackResourceSummaries"] += [
                    {
                        "LogicalResourceId": "MemoryHighAlarm",
                        "PhysicalResourceId": ALARM,
                        "ResourceType": "AWS::CloudWatch::Alarm",
                        "ResourceStatus": "CREATE_COMPLETE",
                    },
                    {
                        "LogicalResourceId": "Namespace",
                        "PhysicalResourceId": self.namespace_id,
                        "ResourceType": "AWS::ServiceDiscovery::HttpNamespace",
                        "ResourceStatus": "CREATE_COMPLETE",
                    },
                ]
            return page

        return call

    # moto cannot put a stack into a failed state such as UPDATE_ROLLBACK_COMPLETE.
    def _describe_stacks(self, real: Any) -> Override:
        def call(**kwargs: Any) -> dict[str, Any]:
            page: dict[str, Any] = real.describe_stacks(**kwargs)
            for stack in page["Stacks"]:
                if stack["StackName"] in self.stack_status:
                    stack["StackStatus"] = self.stack_status[stack["StackName"]]
                    stack["StackStatusReason"] = "Resource handler returned message: boom"
            return page

        return call

    # moto's tasks have no container healthStatus (ECS fills it from the health check).
    def _describe_tasks(self, real: Any) -> Override:
        def call(**kwargs: Any) -> dict[str, Any]:
            page: dict[str, Any] = real.describe_tasks(**kwargs)
            for task in page["tasks"]:
                task["lastStatus"] = "RUNNING"
                task["containers"] = [
                    {"name": "otel-collector", "healthStatus": self.health, "lastStatus": "RUNNING"}
                ]
            return page

        return call

    # moto models one deployment per service; a rollout in progress has two.
    def _describe_services(self, real: Any) -> Override:
        def call(**kwargs: Any) -> dict[str, Any]:
            page: dict[str, Any] = real.describe_services(**kwargs)
            if self.extra_deployment:
                for service in page["services"]:
                    service["deployments"][0]["rolloutState"] = "IN_PROGRESS"
                    service["deployments"].append(
                        {"status": "ACTIVE", "rolloutState": "COMPLETED", "taskDefinition": "x"}
                    )
            return page

        return call

    # moto has no service deployments (ListServiceDeployments, DescribeServiceDeployments).
    def _list_service_deployments(self, real: Any) -> Override:
        def call(**kwargs: Any) -> dict[str, Any]:
            real.describe_services(cluster=kwargs["cluster"], services=[kwargs["service"]])
            arn = f"arn:aws:ecs:{REGION}:123456789012:service-deployment/{kwargs['service']}/2"
            older = f"arn:aws:ecs:{REGION}:123456789012:service-deployment/{kwargs['service']}/1"
            return {
                "serviceDeployments": [
                    {"serviceDeploymentArn": older, "createdAt": "2026-12-01T10:00:00Z"},
                    {"serviceDeploymentArn": arn, "createdAt": "2026-12-05T10:00:00Z"},
                ]
            }

        return call

    def _describe_service_deployments(self, real: Any) -> Override:
        def call(**kwargs: Any) -> dict[str, Any]:
            (arn,) = kwargs["serviceDeploymentArns"]
            assert arn.endswith("/2"), "verify must describe the newest deployment"
            return {"serviceDeployments": [{"serviceDeploymentArn": arn, **self.last_deployment}]}

        return call

    def session(self) -> FakeSession:
        return FakeSession(self.overrides)


def _run(session: Any, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["verify", *args],
        session_factory=lambda **_: session,
        stdout=out,
        stderr=err,
    )
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def env() -> Iterator[Env]:
    with mock_aws():
        deployed = Env()
        deployed.register_gateway_instances()
        yield deployed


def _rows(output: str) -> dict[str, str]:
    """CHECK -> RESULT of the table."""
    rows = {}
    for line in output.splitlines()[2:-1]:
        name, _, rest = line.partition("  ")
        rows[name.strip()] = rest.split()[0]
    return rows


# ------------------------------------------------------------------------------ passing


def test_healthy_environment_passes_every_check(env: Env) -> None:
    # WHEN verify runs against the healthy environment
    code, out, err = _run(env.session(), "--env", ENV, "--region", REGION)
    # THEN every check is listed as ok and the exit code is 0
    assert code == 0, out + err
    assert err == ""
    assert out.splitlines()[0] == f"otel-fargate environment {ENV} ({REGION})"
    assert out.splitlines()[-1] == "all checks passed"
    assert _rows(out) == {
        "stack otel-fargate-dev-gateway": "ok",
        "stack otel-fargate-dev-network": "ok",
        "deployment gateway": "ok",
        "last deployment gateway": "ok",
        "tasks gateway": "ok",
        "collector health gateway": "ok",
        "service connect otel-gateway": "ok",
        f"log errors {COLLECTOR_LOG_GROUP}": "ok",
        "alarms": "ok",
    }
    assert "running 2 / desired 2" in out
    assert "2 otel-collector containers HEALTHY" in out
    assert "2 instances registered" in out
    assert "otel-fargate-prod" not in out


def test_json_output_is_machine_readable(env: Env) -> None:
    code, out, _ = _run(env.session(), "--env", ENV, "--json")
    document = json.loads(out)
    assert code == 0
    assert document["environment"] == ENV
    assert document["region"] == REGION
    assert document["ok"] is True
    assert {"name": "alarms", "ok": True, "detail": "1 alarms, none in ALARM"} in document["checks"]
    assert all(set(c) == {"name", "ok", "detail"} for c in document["checks"])


def test_clients_use_the_standard_retry_mode(env: Env) -> None:
    session = env.session()
    _run(session, "--env", ENV)
    assert set(session.clients) >= {"cloudformation", "ecs", "logs", "cloudwatch"}
    for client in session.clients.values():
        assert client.meta.config.retries["mode"] == "standard"
        assert client.meta.config.retries["total_max_attempts"] == verify.MAX_ATTEMPTS


# ------------------------------------------------------------------------------ failures


def _failed(out: str) -> dict[str, str]:
    return {name: result for name, result in _rows(out).items() if result != "ok"}


def test_failed_stack_fails(env: Env) -> None:
    env.stack_status["otel-fargate-dev-network"] = "UPDATE_ROLLBACK_COMPLETE"
    code, out, _ = _run(env.session(), "--env", ENV)
    assert code == 1
    assert _failed(out) == {"stack otel-fargate-dev-network": "FAIL"}
    assert "UPDATE_ROLLBACK_COMPLETE: Resource handler returned message: boom" in out
    assert out.splitlines()[-1] == "1 of 9 checks failed"


def test_stack_still_updating_fails(env: Env) -> None:
    env.stack_status["otel-fargate-dev-gateway"] = "UPDATE_IN_PROGRESS"
    code, out, _ = _run(env.session(), "--env", ENV)
    assert code == 1
    assert _failed(out) == {"stack otel-fargate-dev-gateway": "FAIL"}


def test_deployment_in_progress_fails(env: Env) -> None:
    env.extra_deployment = True
    code, out, _ = _run(env.session(), "--env", ENV)
    assert code == 1
    assert _failed(out) == {"deployment gateway": "FAIL"}
    assert "2 deployments (PRIMARY:IN_PROGRESS, ACTIVE:COMPLETED); expected one PRIMARY" in out


def test_running_below_desired_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a service created while only one task runs (moto then reports the rollout
    # IN_PROGRESS as well)
    with mock_aws():
        monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "1")
        degraded = Env()
        degraded.register_gateway_instances()
        code, out, _ = _run(degraded.session(), "--env", ENV)
    assert code == 1
    assert _failed(out) == {"deployment gateway": "FAIL", "tasks gateway": "FAIL"}
    assert "running 1 / desired 2, pending 1" in out
    assert "rollout IN_PROGRESS" in out


def test_unhealthy_collector_container_fails(env: Env) -> None:
    env.health = "UNHEALTHY"
    code, out, _ = _run(env.session(), "--env", ENV)
    assert code == 1
    assert _failed(out) == {"collector health gateway": "FAIL"}
    assert "2 of 2 otel-collector containers not HEALTHY" in out
    assert "=UNHEALTHY" in out


def test_missing_cloud_map_instances_fail() -> None:
    with mock_aws():
        bare = Env()  # no instance registered for otel-gateway
        code, out, _ = _run(bare.session(), "--env", ENV)
    assert code == 1
    assert _failed(out) == {"service connect otel-gateway": "FAIL"}
    assert "0 instances registered" in out


def test_error_lines_in_the_collector_log_fail(env: Env) -> None:
    env.log("error", "Exporting failed. Dropping data.")
    env.log("warn", "a warning is not an error")
    env.log("error", "an application error", group="/otel-fargate/dev/app-logs")
    code, out, _ = _run(env.session(), "--env", ENV)
    assert code == 1
    assert _failed(out) == {f"log errors {COLLECTOR_LOG_GROUP}": "FAIL"}
    assert "1 ERROR lines in the last 15 min, e.g. Exporting failed. Dropping data." in out
    assert "an application error" not in out


def test_alarm_in_alarm_state_fails(env: Env) -> None:
    env.cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="test")
    code, out, _ = _run(env.session(), "--env", ENV, "--json")
    document = json.loads(out)
    assert code == 1
    assert document["ok"] is False
    failed = [c for c in document["checks"] if not c["ok"]]
    assert failed == [{"name": "alarms", "ok": False, "detail": f"1 of 1 in ALARM: {ALARM}"}]


# ------------------------------------------------------------------------- cannot run


def test_no_stacks_for_the_environment_is_a_usage_error(env: Env) -> None:
    code, out, err = _run(env.session(), "--env", "staging")
    assert code == 2
    assert out == ""
    assert err == (
        "error: no CloudFormation stacks named otel-fargate-staging-* found for environment "
        "'staging' (check --env and --region)\n"
    )


def test_throttling_after_retries_is_reported_in_one_line(env: Env) -> None:
    def throttled(real: Any) -> Override:
        def call(**kwargs: Any) -> dict[str, Any]:
            raise ClientError(
                {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "DescribeStacks"
            )

        return call

    env.overrides["cloudformation"]["describe_stacks"] = throttled
    code, out, err = _run(env.session(), "--env", ENV)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: AWS throttled the requests while listing CloudFormation stacks")
    assert "(Throttling) after 8 attempts" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "AccessDenied",
            "error: AWS refused the request while listing CloudFormation stacks: "
            "AccessDenied: not allowed\n",
        ),
        (
            "ValidationError",
            "error: AWS error while listing CloudFormation stacks: ValidationError: not allowed\n",
        ),
    ],
)
def test_other_aws_errors_are_reported_in_one_line(env: Env, code: str, expected: str) -> None:
    def refused(real: Any) -> Override:
        def call(**kwargs: Any) -> dict[str, Any]:
            raise ClientError({"Error": {"Code": code, "Message": "not allowed"}}, "DescribeStacks")

        return call

    env.overrides["cloudformation"]["describe_stacks"] = refused
    exit_code, out, err = _run(env.session(), "--env", ENV)
    assert exit_code == 2
    assert out == ""
    assert err == expected


def test_missing_credentials_are_reported_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN no credentials anywhere, and an endpoint on loopback should anything be sent
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    out, err = io.StringIO(), io.StringIO()
    # WHEN verify runs with a real boto3 session
    code = main(["verify", "--env", ENV, "--region", REGION], stdout=out, stderr=err)
    # THEN one line on stderr, exit 2
    assert code == 2
    assert out.getvalue() == ""
    assert err.getvalue().startswith("error: no AWS credentials found")
    assert err.getvalue().count("\n") == 1


def test_missing_region_is_reported_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    out, err = io.StringIO(), io.StringIO()
    code = main(["verify", "--env", ENV], stdout=out, stderr=err)
    assert code == 2
    assert err.getvalue() == "error: no AWS region configured; pass --region or set AWS_REGION\n"


def test_missing_env_argument_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["verify"])
    assert code == 2
    assert "the following arguments are required: --env" in capsys.readouterr().err


def test_a_deployment_rolled_back_by_an_alarm_names_the_alarm(env: Env) -> None:
    # GIVEN the gateway's last deployment rolled back because a deployment gate fired
    env.last_deployment = {
        "status": "ROLLBACK_SUCCESSFUL",
        "alarms": {
            "status": "TRIGGERED",
            "alarmNames": ["gw-deploy-awsxray", "gw-deploy-awsemf"],
            "triggeredAlarmNames": ["gw-deploy-awsxray"],
        },
        "rollback": {"reason": "Service deployment rolled back because of an alarm"},
    }
    # WHEN verify runs
    code, out, _ = _run(env.session(), "--env", ENV, "--region", REGION)
    # THEN the check fails and names the status and the alarm that fired
    assert code == 1
    assert _failed(out)["last deployment gateway"] == "FAIL"
    assert "ROLLBACK_SUCCESSFUL: alarm gw-deploy-awsxray fired during the deployment" in out


def test_a_deployment_rolled_back_by_the_circuit_breaker_says_so(env: Env) -> None:
    env.last_deployment = {
        "status": "ROLLBACK_SUCCESSFUL",
        "alarms": {"status": "MONITORING", "alarmNames": ["a"], "triggeredAlarmNames": []},
        "deploymentCircuitBreaker": {"status": "TRIGGERED", "failureCount": 4, "threshold": 3},
    }
    code, out, _ = _run(env.session(), "--env", ENV, "--region", REGION, "--json")
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert code == 1
    assert checks["last deployment gateway"]["detail"] == (
        "ROLLBACK_SUCCESSFUL: circuit breaker: 4 tasks failed to start or pass their health "
        "check (threshold 3)"
    )


def test_a_deployment_in_the_json_report_carries_its_cause(env: Env) -> None:
    env.last_deployment = {"status": "ROLLBACK_FAILED", "statusReason": "no previous revision"}
    code, out, _ = _run(env.session(), "--env", ENV, "--region", REGION, "--json")
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert code == 1
    assert checks["last deployment gateway"]["ok"] is False
    assert checks["last deployment gateway"]["detail"] == "ROLLBACK_FAILED: no previous revision"
