"""The Prometheus scraper with the real collector: ``ecs_observer`` discovers tasks in moto,
writes the file-SD file, and the ``prometheus`` receiver scrapes each running target once.

Runs on the tests' ECS collector (docker/test-ecs-manifest.yaml, 0.165): the image's release has
``ecs_observer``, but the module proxy here does not serve it at that release. The keys these
tests use are the same at both releases (tests/library/test_ecs_keys_carry_over.py).

``ecs_observer`` calls ECS through the AWS SDK's default configuration, so ``AWS_ENDPOINT_URL``
and fake credentials send its ListTasks/DescribeTasks/DescribeTaskDefinition/ListServices calls
to a moto server this test runs in-process. Two things of moto's backend are patched in-process,
both so moto answers as ECS does for what these tests need:

* the private IPv4 address moto gives an awsvpc task's network interface (its attachment's
  ``privateIPv4Address``, which ``ecs_observer`` makes the target's host) is 127.0.0.1, so the
  only traffic the scrapes send goes to the small Prometheus endpoints this test serves on
  loopback (targets of one task are told apart by their ports);
* ``ListTasks`` without ``desiredStatus`` lists RUNNING tasks only, as ECS's does (moto lists
  stopped tasks too), so a stopped task disappears as it does in ECS;
* a task's container answers its ``cpu`` and ``memory`` as strings, as ECS's API does (moto
  answers numbers, which the SDK refuses to decode), and a task's status stays RUNNING until
  it is stopped (moto advances it on every describe).

The app pipelines run without ``resource_detection``, which the 0.165 test build does not have.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto.ecs import models as ecs_models
from moto.moto_api import state_manager
from moto.server import ThreadedMotoServer
from otel_fargate.config import (
    CollectorConfigOptions,
    ContainerMetrics,
    EcsScrapeReceiver,
    OtlpExporter,
    render,
)
from otel_fargate.config.core.yamlio import dump_yaml
from otel_fargate.names import SCRAPE_JOB_LABEL, SCRAPE_PATH_LABEL, SCRAPE_PORT_LABEL

from tests.e2e.harness import (
    MetricPoint,
    OtlpSink,
    Ports,
    ProcessRunner,
    collector_env,
    free_port,
    loopback_overrides,
    start_collector,
    wait_until,
)
from tests.e2e.test_container_metrics import _without_resource_detection
from tests.e2e.test_validate import validate

pytestmark = pytest.mark.e2e

REGION = "eu-west-1"
CLUSTER = "shop"
REFRESH = 10
SCRAPE = 5
#: Generous for a loaded 2-core machine.
WAIT = 120
METRIC = "e2e_scraped_requests"


class MetricsEndpoint:
    """A Prometheus text endpoint on 127.0.0.1 that records when it is scraped."""

    def __init__(self, name: str, path: str = "/metrics") -> None:
        self.name, self.path = name, path
        self.scrapes: list[float] = []
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                if self.path != endpoint.path:
                    self.send_response(404)
                    self.end_headers()
                    return
                endpoint.scrapes.append(time.monotonic())
                body = (
                    f"# TYPE {METRIC}_total counter\n"
                    f'{METRIC}_total{{endpoint="{endpoint.name}"}} {len(endpoint.scrapes)}\n'
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class FakeEcs:
    """A moto server with a VPC, a subnet and the cluster; tasks run on 127.0.0.1."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._patches = _patch_moto()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        client = {"endpoint_url": self.endpoint, "region_name": REGION,
                  "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        self.ecs = boto3.client("ecs", **client)
        ec2 = boto3.client("ec2", **client)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        self.subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        self.group = ec2.create_security_group(
            GroupName="targets", Description="e2e", VpcId=vpc)["GroupId"]
        self.ecs.create_cluster(clusterName=CLUSTER)

    def run(self, family: str, port: int, labels: dict[str, str]) -> str:
        """Register ``family`` (one container publishing ``port``) and run one Fargate task."""
        self.ecs.register_task_definition(
            family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
            cpu="256", memory="512",
            containerDefinitions=[{
                "name": family, "image": "public.ecr.aws/docker/library/busybox:1.36",
                "memoryReservation": 512,
                "portMappings": [{"containerPort": port, "hostPort": port, "protocol": "tcp"}],
                "dockerLabels": labels,
            }],
        )
        task = self.ecs.run_task(
            cluster=CLUSTER, taskDefinition=family, launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": [self.subnet],
                                                  "securityGroups": [self.group]}},
        )["tasks"][0]
        details = task["attachments"][0]["details"]
        assert {"name": "privateIPv4Address", "value": "127.0.0.1"} in details
        return str(task["taskArn"])

    def stop(self, task_arn: str) -> None:
        self.ecs.stop_task(cluster=CLUSTER, task=task_arn, reason="e2e")

    def close(self) -> None:
        self._server.stop()
        for undo in self._patches:
            undo()


def _patch_moto() -> list[Any]:
    """Task interfaces on 127.0.0.1; ListTasks lists RUNNING tasks by default (as ECS does)."""
    backend = ecs_models.EC2ContainerServiceBackend
    original_ip, original_list = ecs_models.random_private_ip, backend.list_tasks

    def list_tasks(
        self: Any, cluster_str: Any = None, container_instance: Any = None, family: Any = None,
        started_by: Any = None, service_name: Any = None, desiredStatus: Any = None,
    ) -> Any:
        return original_list(self, cluster_str, container_instance, family, started_by,
                             service_name, desiredStatus if desiredStatus else "RUNNING")

    original_init = ecs_models.Container.__init__

    def container_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.cpu = str(self.cpu) if self.cpu is not None else None
        self.memory = str(self.memory) if self.memory is not None else None

    ecs_models.random_private_ip = lambda *a, **k: "127.0.0.1"
    backend.list_tasks = list_tasks
    ecs_models.Container.__init__ = container_init
    # tasks stay RUNNING until stopped (moto advances a task's status on every describe)
    state_manager.set_transition(model_name="ecs::task", transition={"progression": "manual", "times": 10**9})

    def undo_ip() -> None:
        ecs_models.random_private_ip = original_ip

    def undo_list() -> None:
        backend.list_tasks = original_list

    def undo_container() -> None:
        ecs_models.Container.__init__ = original_init
        state_manager.unset_transition(model_name="ecs::task")

    return [undo_ip, undo_list, undo_container]


@pytest.fixture()
def fake_ecs() -> Iterator[FakeEcs]:
    server = FakeEcs()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture()
def endpoints() -> Iterator[dict[str, MetricsEndpoint]]:
    served = {"a": MetricsEndpoint("a"), "b": MetricsEndpoint("b", "/custom"),
              "unmarked": MetricsEndpoint("unmarked")}
    try:
        yield served
    finally:
        for endpoint in served.values():
            endpoint.close()


def scraper_config(sink: OtlpSink, ports: Ports, result_file: Path) -> tuple[Any, dict[str, Any]]:
    """The scraper's rendered configuration, as the 0.165 test build runs it."""
    rendered = render(CollectorConfigOptions(
        preset="sidecar",
        exporters=(OtlpExporter(name="sink", protocol="http", endpoint=sink.endpoint),),
        receivers=(EcsScrapeReceiver(
            cluster_name=CLUSTER, refresh_interval_seconds=REFRESH,
            scrape_interval_seconds=SCRAPE, scrape_timeout_seconds=SCRAPE,
            result_file=str(result_file),
        ),),
        health_check_endpoint=f"127.0.0.1:{ports.health}",
        self_telemetry_namespace=None,
        container_metrics=ContainerMetrics(enabled=False),
        environment_name="e2e",
        service_name="e2e-scraper",
        overrides=loopback_overrides(ports),
    ))
    return rendered, _without_resource_detection(rendered.config)


def aws_env(fake: FakeEcs) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": fake.endpoint, "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_EC2_METADATA_DISABLED": "true"}


def file_targets(path: Path) -> dict[str, str]:
    """The targets of the file-SD file: address → metrics path."""
    if not path.exists():
        return {}
    groups = yaml.safe_load(path.read_text()) or []
    return {t: g["labels"]["__metrics_path__"] for g in groups for t in g["targets"]}


def scraped(points: list[MetricPoint]) -> list[MetricPoint]:
    return [p for p in points if p.name.startswith(METRIC)]


def test_the_scraper_configuration_validates_on_the_0_165_collector(
    ecs_collector_binary: Path, keeping_sink: OtlpSink, tmp_path: Path,
) -> None:
    # GIVEN the scraper's rendered configuration
    _, config = scraper_config(keeping_sink, Ports.allocate(), tmp_path / "targets.yaml")
    # WHEN the collector that carries ecs_observer and prometheus validates it
    result = validate(ecs_collector_binary, dump_yaml(config))
    # THEN it is accepted
    assert result.returncode == 0, result.stderr


def test_each_running_marked_target_is_scraped_once_and_a_stopped_one_is_dropped(
    ecs_collector_binary: Path, processes: ProcessRunner, keeping_sink: OtlpSink,
    fake_ecs: FakeEcs, endpoints: dict[str, MetricsEndpoint], tmp_path: Path,
) -> None:
    a, b, unmarked = endpoints["a"], endpoints["b"], endpoints["unmarked"]
    # GIVEN a marked task and an unmarked one running in the cluster
    fake_ecs.run("shop-a", a.port, {SCRAPE_PORT_LABEL: str(a.port), SCRAPE_PATH_LABEL: "/metrics",
                                    SCRAPE_JOB_LABEL: "shop-a"})
    fake_ecs.run("shop-unmarked", unmarked.port, {})
    # AND the scraper running
    ports = Ports.allocate()
    result_file = tmp_path / "targets.yaml"
    rendered, config = scraper_config(keeping_sink, ports, result_file)
    env = collector_env(rendered, **aws_env(fake_ecs))
    env["OTEL_FARGATE_CONFIG"] = dump_yaml(config)
    start_collector(processes, ecs_collector_binary, rendered, ports, name="scraper", env=env)
    wait_until(lambda: file_targets(result_file) == {a.address: "/metrics"},
               timeout=WAIT, interval=0.5, what="the marked task in the file-SD file")
    # WHEN a second marked task starts (another path, no job label)
    task_b = fake_ecs.run("shop-b", b.port, {SCRAPE_PORT_LABEL: str(b.port),
                                             SCRAPE_PATH_LABEL: "/custom"})
    # THEN the file lists exactly the running marked targets, with their paths
    wait_until(lambda: file_targets(result_file) == {a.address: "/metrics", b.address: "/custom"},
               timeout=WAIT, interval=0.5, what="both marked tasks in the file-SD file")
    # AND both are scraped and their series reach the sink with their job and ECS labels
    keeping_sink.wait_for(
        lambda s: {p.attributes.get("endpoint") for p in scraped(list(s.points))} >= {"a", "b"},
        timeout=WAIT, what="series of both targets")
    window_start = time.monotonic()
    wait_until(lambda: time.monotonic() - window_start >= 6 * SCRAPE, timeout=WAIT, interval=0.5,
               what="six scrape intervals")
    window = time.monotonic() - window_start
    points = scraped(list(keeping_sink.state.points))
    first = next(p for p in points if p.attributes.get("endpoint") == "a")
    print("scraped point:", first)
    assert first.resource.get("service.name") == "shop-a"
    assert first.attributes.get("ecs_task_family") == "shop-a"
    assert first.attributes.get("ecs_launch_type") == "FARGATE"
    assert next(p for p in points if p.attributes.get("endpoint") == "b").resource.get(
        "service.name") == "ecs"
    # AND no target is scraped twice: each endpoint saw at most one scrape per interval
    for endpoint in (a, b):
        in_window = [t for t in endpoint.scrapes if t >= window_start]
        assert len(in_window) <= window / SCRAPE + 1, (endpoint.name, len(in_window), window)
        gaps = [later - earlier for earlier, later in zip(endpoint.scrapes, endpoint.scrapes[1:], strict=False)]
        assert min(gaps) > SCRAPE / 2, (endpoint.name, gaps)
    # AND no series point arrived twice (one series, one timestamp, one point)
    keys = [(p.name, p.resource.get("service.instance.id"), tuple(sorted(p.attributes.items())),
             p.time_unix_nano) for p in points]
    assert len(keys) == len(set(keys))
    # AND the unmarked task is never scraped
    assert unmarked.scrapes == []
    print(f"scrapes in {window:.0f}s: a={len([t for t in a.scrapes if t >= window_start])} "
          f"b={len([t for t in b.scrapes if t >= window_start])}; points={len(points)}")
    # WHEN the second task stops
    fake_ecs.stop(task_b)
    # THEN it leaves the file within the refresh interval, and its scrapes stop
    wait_until(lambda: file_targets(result_file) == {a.address: "/metrics"},
               timeout=WAIT, interval=0.5, what="the stopped task gone from the file-SD file")
    stopped_at, count_b = time.monotonic(), len(b.scrapes)
    count_a = len(a.scrapes)
    wait_until(lambda: len(a.scrapes) >= count_a + 3, timeout=WAIT, interval=0.5,
               what="three more scrapes of the running target")
    assert len(b.scrapes) <= count_b + 1, (count_b, len(b.scrapes), time.monotonic() - stopped_at)
    assert unmarked.scrapes == []
    print(f"after the stop: a +{len(a.scrapes) - count_a}, b +{len(b.scrapes) - count_b} in "
          f"{time.monotonic() - stopped_at:.0f}s")
