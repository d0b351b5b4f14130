"""The sampling tier's template: samplers reachable only from the routing gateway, one A record
per sampler task, the trace exporters' IAM on the samplers and the rest on the gateway.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Template
from otel_fargate import (
    CloudWatchEmfExporter,
    CollectorGateway,
    KeepErrors,
    OtelFargateError,
    Probabilistic,
    SamplingTier,
    TailSampling,
    XRayExporter,
)

from tests.conftest import collector_config_text, collector_containers
from tests.library.test_gateway_edge import (
    group_id,
    ingress_of,
    new_cluster,
    new_stack,
    resources,
    sg_ref,
)

EMF = CloudWatchEmfExporter(namespace="Checkout", log_group_name="/otel/prod/metrics")


@pytest.fixture(scope="module")
def tier() -> tuple[Template, CollectorGateway]:
    stack = new_stack("SamplingTier")
    gateway = CollectorGateway(
        stack,
        "Gateway",
        cluster=new_cluster(stack),
        exporters=[XRayExporter(), EMF],
        environment_name="prod",
        sampling=SamplingTier(
            tail_sampling=TailSampling(policies=(KeepErrors(), Probabilistic(percent=5))),
            max_capacity=8,
        ),
    )
    return Template.from_stack(stack), gateway


def configs(template: Template) -> dict[str, dict[str, Any]]:
    """Rendered collector configs by task family."""
    out = {}
    for container in collector_containers(template.to_json()):
        text = collector_config_text(container)
        out[text] = yaml.safe_load(text)
    return out


def policy_actions(template: Template, role_prefix: str) -> set[str]:
    actions: set[str] = set()
    for props in resources(template, "AWS::IAM::Policy").values():
        roles = json.dumps(props.get("Roles", []))
        if role_prefix not in roles:
            continue
        for statement in props["PolicyDocument"]["Statement"]:
            found = statement["Action"]
            actions.update([found] if isinstance(found, str) else found)
    return actions


def test_the_gateway_routes_traces_to_the_samplers_dns_name(
    tier: tuple[Template, CollectorGateway],
) -> None:
    template, gateway = tier
    by_task = configs(template)
    gateway_config = next(c for c in by_task.values() if "load_balancing" in c["exporters"])
    sampler_config = next(c for c in by_task.values() if "tail_sampling" in c["processors"])
    dns = gateway_config["exporters"]["load_balancing"]["resolver"]["dns"]
    assert dns["hostname"] == "otel-sampler.otel-sampling.prod.internal"
    assert gateway.samplers is not None
    assert gateway.samplers.routing.hostname == dns["hostname"]
    assert gateway_config["service"]["pipelines"]["traces"]["exporters"] == ["load_balancing"]
    assert sampler_config["service"]["pipelines"]["traces"]["exporters"] == ["awsxray"]
    assert "metrics" not in sampler_config["service"]["pipelines"]


def test_one_a_record_per_sampler_task_in_a_private_dns_namespace(
    tier: tuple[Template, CollectorGateway],
) -> None:
    template, _ = tier
    (namespace,) = resources(template, "AWS::ServiceDiscovery::PrivateDnsNamespace").values()
    assert namespace["Name"] == "otel-sampling.prod.internal"
    services = resources(template, "AWS::ServiceDiscovery::Service").values()
    (sampler,) = [s for s in services if s.get("Name") == "otel-sampler"]
    assert sampler["DnsConfig"]["DnsRecords"] == [{"TTL": 10, "Type": "A"}]
    assert sampler["DnsConfig"]["RoutingPolicy"] == "MULTIVALUE"
    ecs_services = resources(template, "AWS::ECS::Service")
    registered = [s for s in ecs_services.values() if s.get("ServiceRegistries")]
    assert len(registered) == 1
    assert registered[0]["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
        "Enable": True,
        "Rollback": True,
    }


def test_samplers_accept_otlp_grpc_from_the_routing_gateway_only(
    tier: tuple[Template, CollectorGateway],
) -> None:
    template, _ = tier
    samplers = group_id(template, "otel-gateway-sampler: OTLP/gRPC from the routing gateway")
    gateway = group_id(template, "otel-gateway collector gateway")
    assert ingress_of(template, samplers) == [(4317, sg_ref(gateway))]


def test_trace_exporter_iam_sits_on_the_samplers_and_metrics_iam_on_the_gateway(
    tier: tuple[Template, CollectorGateway],
) -> None:
    template, _ = tier
    roles = resources(template, "AWS::IAM::Role")
    sampler_role = next(lid for lid in roles if "Samplers" in lid and "TaskRole" in lid)
    gateway_role = next(
        lid for lid in roles if "Samplers" not in lid and "TaskDefinitionTaskRole" in lid
    )
    assert "xray:PutTraceSegments" in policy_actions(template, sampler_role)
    assert "xray:PutTraceSegments" not in policy_actions(template, gateway_role)
    assert "logs:PutLogEvents" in policy_actions(template, gateway_role)


def test_scaling_holds_two_to_eight_samplers(tier: tuple[Template, CollectorGateway]) -> None:
    template, _ = tier
    targets = resources(template, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    assert sorted((t["MinCapacity"], t["MaxCapacity"]) for t in targets) == [(2, 6), (2, 8)]


def test_a_sampler_deployment_never_registers_more_than_eight_tasks(
    tier: tuple[Template, CollectorGateway],
) -> None:
    # GIVEN the tier at its largest (max_capacity 8)
    template, gateway = tier
    samplers = gateway.samplers
    assert samplers is not None
    service = template.to_json()["Resources"][
        samplers.service.stack.get_logical_id(samplers.service.node.default_child)  # type: ignore[arg-type]
    ]["Properties"]
    # THEN a deployment stops old tasks before it starts new ones (never above the desired
    # count, itself at most 8), keeps half running, and AZ rebalancing (which starts a task
    # before stopping one) is off; the gateway keeps its own 100/200
    config = service["DeploymentConfiguration"]
    assert config["MaximumPercent"] == 100
    assert config["MinimumHealthyPercent"] == 50
    assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert service["AvailabilityZoneRebalancing"] == "DISABLED"
    percents = sorted(
        (
            props["DeploymentConfiguration"]["MaximumPercent"],
            props.get("AvailabilityZoneRebalancing"),
        )
        for props in resources(template, "AWS::ECS::Service").values()
    )
    assert percents == [(100, "DISABLED"), (200, "ENABLED")]


def test_a_stopping_sampler_decides_what_it_holds_before_it_stops(
    tier: tuple[Template, CollectorGateway],
) -> None:
    # GIVEN the samplers' container (decision_wait 10 s by default)
    template, gateway = tier
    samplers = gateway.samplers
    assert samplers is not None
    (container,) = [
        c for c in collector_containers(template.to_json())
        if "tail_sampling" in yaml.safe_load(collector_config_text(c))["processors"]
    ]  # fmt: skip
    # THEN the supervisor keeps it receiving while routers may resolve it (TTL 10 s + resolve
    # interval 5 s) plus a decision wait, and until no trace is undecided and nothing queued
    assert container["EntryPoint"] == ["/supervisor"]
    command = container["Command"]
    assert "--drain-min-wait=25s" in command
    assert "--drain-timeout=105s" in command
    assert [arg for arg in command if arg.startswith("--drain-metric=")] == [
        "--drain-metric=otelcol_exporter_queue_size",
        "--drain-metric=otelcol_exporter_in_flight_requests",
        "--drain-metric=otelcol_processor_tail_sampling_sampling_traces_on_memory",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_capacity": 9}, "sampling.max_capacity: the routing gateway finds samplers by DNS"),
        (
            {"min_capacity": 1, "desired_count": 1},
            "sampling.min_capacity: must be a whole number >= 2",
        ),
        ({"memory_mib": 100}, "sampling."),
    ],
)
def test_bad_tier_settings_are_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(OtelFargateError) as caught:
        SamplingTier(**kwargs)
    assert message in str(caught.value)


def test_sampling_takes_only_a_tier_or_tail_sampling() -> None:
    with pytest.raises(OtelFargateError, match=r"^sampling: must be SamplingTier"):
        SamplingTier.of({"policies": []})


def test_each_tier_gets_its_own_alarms(tier: tuple[Template, CollectorGateway]) -> None:
    _, gateway = tier
    assert gateway.monitoring is not None and gateway.samplers is not None
    assert gateway.samplers.monitoring is not None
    routing, sampling = set(gateway.monitoring.alarms), set(gateway.samplers.monitoring.alarms)
    assert {"routing_failures", "no_samplers"} <= routing
    assert "traces_dropped_early" not in routing
    assert "traces_dropped_early" in sampling
    assert not {"routing_failures", "no_samplers"} & sampling
    # the samplers run as a service: running-vs-desired is watched like the gateway's
    assert "tasks_below_desired" in sampling


def test_the_routing_alarm_reads_failed_sends_only(tier: tuple[Template, CollectorGateway]) -> None:
    template, _ = tier
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()
    (failures,) = [
        a for a in alarms if a["AlarmDescription"].startswith("The routing gateway failed")
    ]
    # a labelled metric is written as a metric query
    (query,) = failures["Metrics"]
    metric = query["MetricStat"]["Metric"]
    dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
    assert metric["MetricName"] == "otelcol_loadbalancer_backend_outcome"
    assert dimensions == {"environment": "prod", "service": "otel-gateway", "success": "false"}


def test_monitoring_names_a_tier_it_does_not_know() -> None:
    from otel_fargate import CollectorMonitoring

    from tests.library.test_gateway_edge import new_stack as stack_for

    with pytest.raises(
        OtelFargateError, match=r"^tier: must be one of routing, sampling, None, got 'edge'"
    ):
        CollectorMonitoring(
            stack_for("TierName"), "Monitoring", environment_name="prod",
            service_name="otel-gateway", memory_limit_mib=896, tier="edge",
        )  # fmt: skip


@pytest.fixture(scope="module")
def overridden() -> CollectorGateway:
    stack = new_stack("SamplingTierOverrides")
    return CollectorGateway(
        stack,
        "Gateway",
        cluster=new_cluster(stack),
        exporters=[XRayExporter(), EMF],
        environment_name="prod",
        config_overrides={
            "processors": {"attributes/gateway_only": {"actions": [{"key": "tier", "value": "g", "action": "upsert"}]}},
            "service": {"pipelines": {"traces": {"processors": ["memory_limiter", "attributes/gateway_only", "batch"]}}},
        },
        sampling=SamplingTier(
            config_overrides={"service": {"telemetry": {"logs": {"level": "debug"}}}},
        ),
    )  # fmt: skip


def test_the_gateways_overrides_stay_on_the_gateway(overridden: CollectorGateway) -> None:
    # GIVEN a routing gateway whose overrides add a processor to its traces pipeline
    assert overridden.samplers is not None
    gateway = overridden.rendered_config.config
    sampler = overridden.samplers.rendered_config.config
    # THEN the gateway runs it and the samplers do not
    assert "attributes/gateway_only" in gateway["processors"]
    assert "attributes/gateway_only" in gateway["service"]["pipelines"]["traces"]["processors"]
    assert "attributes/gateway_only" not in sampler["processors"]
    assert "attributes/gateway_only" not in sampler["service"]["pipelines"]["traces"]["processors"]
    # AND the samplers' own overrides reach the samplers only
    assert sampler["service"]["telemetry"]["logs"]["level"] == "debug"
    assert gateway["service"]["telemetry"]["logs"].get("level") != "debug"


def test_a_gateways_replacement_does_not_replace_the_samplers_configuration() -> None:
    # GIVEN a routing gateway whose whole configuration is replaced
    stack = new_stack("SamplingTierReplacement")
    replacement = {
        "extensions": {"health_check": {"endpoint": "127.0.0.1:13133"}},
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}}},
        "exporters": {"debug": {}},
        "service": {
            "extensions": ["health_check"],
            "pipelines": {"metrics": {"receivers": ["otlp"], "exporters": ["debug"]}},
        },
    }
    gateway = CollectorGateway(
        stack, "Gateway", cluster=new_cluster(stack), exporters=[XRayExporter()],
        environment_name="prod", config_replacement=replacement, monitoring=False,
        allow_unauthenticated_gateway=True, deployment_rollback=False,
        sampling=SamplingTier(),
    )  # fmt: skip
    # THEN the samplers still run the sampler preset
    assert gateway.samplers is not None
    sampler = gateway.samplers.rendered_config.config
    assert "tail_sampling" in sampler["processors"]
    assert "debug" not in sampler["exporters"]


def test_the_samplers_overrides_are_checked_like_any_layer() -> None:
    with pytest.raises(OtelFargateError, match=r"^sampling\.config_overrides: must be"):
        SamplingTier(config_overrides=42)  # type: ignore[arg-type]
