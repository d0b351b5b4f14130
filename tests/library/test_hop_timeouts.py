"""No two hops disagree on time: for every pair (app SDK -> sidecar or agent, agent -> gateway,
gateway -> sampler, exporter -> backend) the rendered configurations give the sender enough time
for what the receiver does before it replies, keep connections open as long as a request may
take, and retry long enough to outlast what they wait for.

What the pairs rely on, asserted here on the rendered configurations:

- a receiving collector replies once its exporters have queued the data (every exporter keeps its
  sending queue), so a sender's timeout (the SDKs' default ``OTEL_EXPORTER_OTLP_TIMEOUT`` of 10 s,
  which the library leaves alone; the agent's and the gateway's 10 s) never races a backend;
- the gateway ends connections by age (Service Connect spreads them over new tasks) with no grace
  shorter than a sender's request, and does not refuse the agents' pings;
- the routing gateway's inner OTLP timeout fits in its exporter's, its DNS lookups end before the
  next one starts, and its retries outlast the time a stopped sampler stays in its answers.

The per-exporter budget (retries plus timeout within the stop timeout) is a rule of every layer
(``config/policy/drain.py``) and is not repeated here.
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template
from otel_fargate import CollectorSidecar
from otel_fargate.config import CollectorConfigOptions, DebugExporter, render
from otel_fargate.config.core.durations import parse_duration
from otel_fargate.config.core.values import component_type
from otel_fargate.config.sampling.policies import KeepErrors
from otel_fargate.config.sampling.tier import TailSampling, TraceRouting
from otel_fargate.sampling.construct import SAMPLER_DISCOVERY_LAG_SECONDS

from tests.library.golden_cases import CASES
from tests.library.test_constructs import app_task, containers, new_stack

#: The OTLP SDKs' export timeout when OTEL_EXPORTER_OTLP_TIMEOUT is unset (the specification's).
SDK_TIMEOUT_SECONDS = 10
#: An NLB forgets an idle TCP flow after 350 s without telling either end (its documented default).
NLB_TCP_IDLE_SECONDS = 350
#: gRPC servers refuse client pings more frequent than this unless configured (grpc-go default).
GRPC_MIN_PING_SECONDS = 300


def _seconds(value: Any, setting: str) -> float:
    return parse_duration(value, setting=setting)


def _role(preset: str) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if preset == "gateway":
        extra["trace_routing"] = TraceRouting(hostname="otel-sampler.shop.internal")
    if preset == "sampler":
        extra["sampling"] = TailSampling(policies=(KeepErrors(),))
    exporters = () if preset == "agent" else (DebugExporter(),)
    return render(CollectorConfigOptions(preset=preset, exporters=exporters, **extra)).config  # type: ignore[arg-type]


def _configs() -> dict[str, dict[str, Any]]:
    rendered = {f"golden-{name}": render(options).config for name, options in CASES.items()}
    return rendered | {preset: _role(preset) for preset in ("sidecar", "agent", "gateway", "sampler")}


CONFIGS = _configs()


def _data_exporters(config: dict[str, Any]) -> set[str]:
    pipelines = config["service"]["pipelines"]
    return {eid for pid, p in pipelines.items() if not pid.endswith("/self") for eid in p["exporters"]}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_data_exporter_queues_so_the_receiver_replies_before_the_sender_gives_up(name: str) -> None:
    # GIVEN a rendered configuration WHEN its data pipelines' exporters are read
    config = CONFIGS[name]
    for eid in _data_exporters(config):
        if eid not in config["exporters"] or component_type(eid) == "debug":
            continue  # a connector, or the local debug writer (no network round trip)
        queue = config["exporters"][eid].get("sending_queue", {})
        # THEN none turns its sending queue off: the receiving hop answers once the data is queued,
        # well inside the sender's timeout (the SDKs' 10 s, the agent's and the gateway's 10 s)
        assert queue.get("enabled") is not False, (name, eid)
        timeout = config["exporters"][eid].get("timeout")
        if timeout is not None:
            assert _seconds(timeout, eid) <= SDK_TIMEOUT_SECONDS, (name, eid, timeout)


def test_the_gateway_keeps_an_agent_request_open_and_accepts_its_pings() -> None:
    # GIVEN the agent's exporter to the gateway and the gateway's gRPC receiver
    agent = CONFIGS["agent"]["exporters"]["otlp_grpc/gateway"]
    server = CONFIGS["gateway"]["receivers"]["otlp"]["protocols"]["grpc"].get("keepalive", {})
    params, policy = server.get("server_parameters", {}), server.get("enforcement_policy", {})
    request = _seconds(agent["timeout"], "agent timeout")
    # THEN a connection ended by age lets a request of the agent's timeout finish (no grace set:
    # gRPC's is unbounded; a grace, if any, at least one request long)
    grace = params.get("max_connection_age_grace")
    assert grace is None or _seconds(grace, "grace") >= request
    age = _seconds(params["max_connection_age"], "max_connection_age")
    assert request < age < NLB_TCP_IDLE_SECONDS  # and closed before an NLB would drop it silently
    # AND the agent pings no more often than the gateway tolerates (none: no GOAWAY too_many_pings)
    ping = (agent.get("keepalive") or {}).get("time")
    tolerated = _seconds(policy["min_time"], "min_time") if "min_time" in policy else GRPC_MIN_PING_SECONDS
    assert ping is None or _seconds(ping, "ping") >= tolerated


def test_the_routing_gateway_times_fit_the_samplers() -> None:
    # GIVEN the routing gateway's load_balancing exporter
    balancer = CONFIGS["gateway"]["exporters"]["load_balancing"]
    inner = _seconds(balancer["protocol"]["otlp"]["timeout"], "inner timeout")
    outer = _seconds(balancer["timeout"], "timeout")
    dns = balancer["resolver"]["dns"]
    # THEN one send to a sampler ends inside the exporter's own timeout
    assert inner <= outer
    # AND a DNS lookup ends before the next starts
    assert _seconds(dns["timeout"], "dns timeout") < _seconds(dns["interval"], "dns interval")
    # AND retries outlast the time a stopped sampler may still be resolved, so a batch sent to it
    # is sent again to a live one instead of being dropped
    retry = _seconds(balancer["retry_on_failure"]["max_elapsed_time"], "max_elapsed_time")
    assert retry >= SAMPLER_DISCOVERY_LAG_SECONDS + outer
    # AND the samplers' receiver ends no connection under a request (no age limit there)
    sampler = CONFIGS["sampler"]["receivers"]["otlp"]["protocols"]["grpc"]
    assert "max_connection_age" not in (sampler.get("keepalive") or {}).get("server_parameters", {})


def test_the_sdk_timeout_is_left_to_the_sdk() -> None:
    # GIVEN an app container wired to a sidecar
    stack = new_stack("SdkTimeout")
    task, app = app_task(stack)
    CollectorSidecar(stack, "Collector", task_definition=task, app_containers=[app], exporters=[DebugExporter()])
    environment = {item["Name"] for item in containers(Template.from_stack(stack))["checkout"].get("Environment", [])}
    # WHEN its OTLP variables are read THEN the export endpoint is set and the timeout is not, so
    # the SDKs keep the 10 s default the assertions above rely on
    assert any(name.startswith("OTEL_EXPORTER_OTLP") for name in environment)
    assert not {name for name in environment if name.endswith("_TIMEOUT")}
