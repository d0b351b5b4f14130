"""A sampler deployment with real collectors: traces stay whole, nothing is lost, and DNS never
lists more than eight samplers.

The deployment is ECS's rolling update as the synthesized template configures it for the
samplers' service (``MinimumHealthyPercent``, ``MaximumPercent``; autoscaling's maximum): ECS
keeps at least ``ceil(desired x min %)`` tasks healthy and runs at most
``floor(desired x max %)``, so with 50/100 it stops half of the old tasks (their A records
leave the namespace, then they get SIGTERM), starts as many new ones (their records appear once
they are healthy), then replaces the rest. :func:`rolling_steps` is that schedule; the test
checks it for every desired count autoscaling allows, then plays it with four samplers under
load, each sampler under the supervisor with the drain its container runs
(``/supervisor --collector-only`` and the template's drain flags), two routers on their own
hosts, and traces crossing both routers (see ``tests/e2e/tier.py``).

The one change from the template's command: ``--drain-min-wait``, there the DNS TTL plus the
routers' resolve interval plus a ``decision_wait`` (25 s), here what the test's discovery takes
(the hosts file is noticed within about five seconds, the routers resolve every second) plus
this tier's ``decision_wait`` of 2 s.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from otel_fargate import CollectorGateway, SamplingTier, XRayExporter
from otel_fargate.config.sampling import Probabilistic

from tests.e2e.harness import (
    Collector,
    Ports,
    ProcessRunner,
    collector_env,
    sink_in_netns,
    wait_healthy,
)
from tests.e2e.test_sampling_tier import finished, settle, split_app
from tests.e2e.tier import Tier, TierNetwork, sampler_config, tier_network

pytestmark = pytest.mark.e2e

#: what the test's discovery takes (hosts file noticed, routers resolving every second) plus
#: the tier's decision_wait: how long a stopping sampler keeps receiving
E2E_MIN_WAIT_SECONDS = 10
#: the DNS limit the tier must respect at every moment
MAX_ADDRESSES = 8
DESIRED = 4
TRACES = 320
SPANS = 5
UNDECIDED = "otelcol_processor_tail_sampling_sampling_traces_on_memory"


@dataclass(frozen=True)
class Deployment:
    """The samplers' deployment settings and the container command, from the template."""

    min_healthy_percent: int
    maximum_percent: int
    max_capacity: int
    min_capacity: int
    command: list[str]


@pytest.fixture(scope="module")
def deployment() -> Deployment:
    stack = cdk.Stack(cdk.App(), "Rollout", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    cluster = ecs.Cluster(
        stack, "Cluster", vpc=ec2.Vpc(stack, "Vpc", max_azs=2),
        default_cloud_map_namespace=ecs.CloudMapNamespaceOptions(name="otel.internal", use_for_service_connect=True),
    )  # fmt: skip
    CollectorGateway(
        stack, "Gateway", cluster=cluster, exporters=[XRayExporter()], environment_name="e2e",
        sampling=SamplingTier(max_capacity=MAX_ADDRESSES),
    )  # fmt: skip
    resources = cdk.assertions.Template.from_stack(stack).to_json()["Resources"]
    (service,) = [
        r["Properties"] for r in resources.values()
        if r["Type"] == "AWS::ECS::Service" and r["Properties"].get("ServiceRegistries")
    ]  # fmt: skip
    targets = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget"]
    (target,) = [t for t in targets if "Samplers" in str(t["ResourceId"])]
    (task,) = [
        r["Properties"] for r in resources.values()
        if r["Type"] == "AWS::ECS::TaskDefinition" and "Samplers" in str(r["Properties"].get("Family", ""))
    ]  # fmt: skip
    (container,) = [c for c in task["ContainerDefinitions"] if c["Name"] == "otel-collector"]
    config = service["DeploymentConfiguration"]
    return Deployment(
        min_healthy_percent=config["MinimumHealthyPercent"],
        maximum_percent=config["MaximumPercent"],
        max_capacity=target["MaxCapacity"],
        min_capacity=target["MinCapacity"],
        command=list(container["Command"]),
    )


@dataclass
class Step:
    """One move of the deployment: tasks started (registered once healthy), then tasks
    stopped (deregistered, then SIGTERM); ``peak``: what is registered between the two.
    """

    start: list[int] = field(default_factory=list)
    peak: list[int] = field(default_factory=list)
    stop: list[int] = field(default_factory=list)
    registered: list[int] = field(default_factory=list)


def rolling_steps(desired: int, min_healthy_percent: int, maximum_percent: int) -> list[Step]:
    """ECS's rolling update of ``desired`` tasks (old ones numbered 1..desired, new ones after)."""
    least = math.ceil(desired * min_healthy_percent / 100)
    most = math.floor(desired * maximum_percent / 100)
    old, new, fresh = list(range(1, desired + 1)), [], desired + 1
    steps: list[Step] = []
    while old or len(new) < desired:
        step = Step()
        room = min(desired - len(new), most - len(old) - len(new))
        step.start = list(range(fresh, fresh + max(room, 0)))
        fresh += len(step.start)
        new += step.start
        step.peak = [*old, *new]
        surplus = len(old) - max(least - len(new), 0)
        step.stop, old = old[: max(surplus, 0)], old[max(surplus, 0) :]
        step.registered = [*old, *new]
        if not step.start and not step.stop:
            raise AssertionError(f"the deployment is stuck: {desired} tasks, {least}..{most}")
        steps.append(step)
    return steps


def test_no_moment_of_a_deployment_lists_more_than_eight_samplers(deployment: Deployment) -> None:
    # GIVEN the template's deployment settings and autoscaling range of the samplers
    assert (deployment.min_healthy_percent, deployment.maximum_percent) == (50, 100)
    assert deployment.max_capacity == MAX_ADDRESSES
    for desired in range(deployment.min_capacity, deployment.max_capacity + 1):
        # WHEN ECS replaces every task of a service of that size
        steps = rolling_steps(desired, deployment.min_healthy_percent, deployment.maximum_percent)
        # THEN no moment registers more than eight tasks, and at least half stay registered
        for step in steps:
            assert len(step.peak) <= MAX_ADDRESSES, (desired, step)
            assert len(step.registered) >= math.ceil(desired / 2), (desired, step)
        assert steps[-1].registered == list(range(desired + 1, 2 * desired + 1))
    # AND the model sees what ECS's defaults (100/200) would do to a tier of eight: sixteen
    assert max(len(s.peak) for s in rolling_steps(MAX_ADDRESSES, 100, 200)) == 2 * MAX_ADDRESSES


def supervised_argv(deployment: Deployment, binary: Path, supervisor: Path, metrics: int) -> list[str]:
    """The template's sampler command for this machine: its collector, metrics port and the
    test's discovery time as the minimum wait.
    """
    argv = [str(supervisor)]
    for arg in deployment.command:
        name = arg.split("=", 1)[0]
        if name == "--collector":
            arg = f"--collector={binary}"
        elif name == "--drain-metrics-url":
            arg = f"--drain-metrics-url=http://127.0.0.1:{metrics}/metrics"
        elif name == "--drain-min-wait":
            arg = f"--drain-min-wait={E2E_MIN_WAIT_SECONDS}s"
        argv.append(arg)
    return argv


def start_supervised(tier: Tier, index: int, argv: list[str], ports: Ports) -> Collector:
    sink = sink_in_netns(tier.network.samplers_ns)
    rendered = sampler_config(ports, index=index, sink=sink.endpoint, policies=tier.policies)
    process = tier.runner.start(
        f"sampler-{index}",
        ["ip", "netns", "exec", tier.network.samplers_ns, *argv],
        env=collector_env(rendered),
    )
    collector = Collector(process=process, ports=ports, rendered=rendered, netns=tier.network.samplers_ns)
    wait_healthy(collector, timeout=60)
    tier.samplers[index], tier.sinks[index] = collector, sink
    return collector


@pytest.fixture()
def network() -> Iterator[TierNetwork]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2's ip to create network namespaces")
    with tier_network(routers=2, samplers=2 * DESIRED) as created:
        yield created


def test_a_sampler_deployment_keeps_traces_whole_and_loses_nothing(
    deployment: Deployment,
    collector_binary: Path,
    supervisor_binary: Path,
    processes: ProcessRunner,
    network: TierNetwork,
) -> None:
    # GIVEN two routers and four samplers under the supervisor, as their containers run
    tier = Tier(network=network, runner=processes, binary=collector_binary, policies=(Probabilistic(percent=100),))

    def start(index: int) -> None:
        ports = Ports.allocate()
        argv = supervised_argv(deployment, collector_binary, supervisor_binary, ports.metrics)
        start_supervised(tier, index, argv, ports)

    try:
        for index in range(1, DESIRED + 1):
            start(index)
        network.publish(range(1, DESIRED + 1))
        tier.start_routers()
        tier.wait_backends(DESIRED)
        # WHEN traces of 1.2 s cross both routers while ECS replaces every sampler
        app = split_app(tier, TRACES, "--gap", "0.3", "--threads", "8")
        time.sleep(4)
        windows: list[tuple[float, float]] = []
        published: list[list[int]] = [list(range(1, DESIRED + 1))]
        stopped: list[int] = []
        held: dict[int, float] = {}
        for step in rolling_steps(DESIRED, deployment.min_healthy_percent, deployment.maximum_percent):
            began = time.time()
            for index in step.start:  # registered once healthy
                start(index)
            for names in (step.peak, step.registered):
                if names != published[-1]:
                    network.publish(names)
                    published.append(names)
                    tier.wait_backends(len(names), timeout=60)
            for index in step.stop:  # deregistered above, now SIGTERM (the drain holds it)
                held[index] = tier.samplers[index].metric(UNDECIDED)
                os.kill(tier.samplers[index].process.pid, signal.SIGTERM)
            stopped += step.stop
            windows.append((began, time.time()))
        traces = finished(app, timeout=400)
        # every stopped sampler held undecided traces when it got SIGTERM, drained (decided
        # and sent them: nothing is lost below) and exited 0
        print(f"undecided traces at SIGTERM, by sampler: {held}")
        assert sum(held.values()) > 0
        for index in stopped:
            status = tier.samplers[index].process.popen.wait(timeout=150)
            log = tier.samplers[index].process.log()
            assert status == 0, log[-3000:]
            assert "supervisor: drain: the collector holds nothing after" in log
        settle(tier, quiet=4)
        where = tier.where()
        # THEN DNS never listed more than eight samplers (nor more than desired)
        assert max(len(p) for p in published) <= min(MAX_ADDRESSES, DESIRED)
        # AND every trace arrived whole: its five spans, none lost
        assert len(traces) == TRACES
        for line in traces:
            found = where.get(bytes.fromhex(line["trace_id"]), {})
            total = sum(sum(services.values()) for services in found.values())
            assert total == SPANS, f"trace {line['trace_id']}: {total} of {SPANS} spans"
        sent = sum(r.metric("otelcol_exporter_sent_spans") for r in tier.routers)
        assert sent == TRACES * SPANS
        assert sum(r.metric("otelcol_exporter_send_failed_spans") for r in tier.routers) == 0
        # AND only traces in flight while the routers switched sets were decided in parts
        split = {t["trace_id"] for t in traces if len(where[bytes.fromhex(t["trace_id"])]) > 1}
        in_flight = {
            t["trace_id"] for t in traces
            if any(t["start"] <= end and t["end"] >= start for start, end in windows)
        }  # fmt: skip
        print(
            f"deployment steps {[p for p in published]}; switch windows "
            f"{[round(end - start, 1) for start, end in windows]} s; split {len(split)} of "
            f"{len(traces)} traces; in flight while switching {len(in_flight)}"
        )
        assert split <= in_flight
    finally:
        tier.close()


