"""The scale tier's configuration: samplers decide whole traces, a routing gateway routes them."""

from __future__ import annotations

import pytest
from otel_fargate.config import (
    CloudWatchEmfExporter,
    CollectorConfigOptions,
    ConfigError,
    OtlpExporter,
    XRayExporter,
    render,
)
from otel_fargate.config.sampling import (
    AllOf,
    KeepAttribute,
    KeepErrors,
    KeepSlow,
    Probabilistic,
    RateLimit,
    RawPolicy,
    TailSampling,
    TraceRouting,
)
from otel_fargate.config.sampling.tier import TRACE_BYTES

EMF = CloudWatchEmfExporter(namespace="App", log_group_name="/app/metrics")
BACKEND = OtlpExporter(name="backend", endpoint="https://api.example.com:443")
ROUTING = TraceRouting(hostname="otel-sampler.prod.internal")


def sampler(**kwargs: object) -> CollectorConfigOptions:
    values: dict[str, object] = {
        "preset": "sampler",
        "exporters": (XRayExporter(), EMF),
        "sampling": TailSampling(),
        "memory_mib": 1024,
    }
    values.update(kwargs)
    return CollectorConfigOptions(**values)  # type: ignore[arg-type]


def test_sampler_keeps_only_trace_exporters_and_decides_before_batch() -> None:
    config = render(sampler()).config
    assert set(config["exporters"]) == {"awsxray", "awsemf/self"}
    assert set(config["service"]["pipelines"]) == {"traces", "metrics/self"}
    traces = config["service"]["pipelines"]["traces"]
    assert traces["processors"] == ["memory_limiter", "tail_sampling", "batch"]
    assert config["receivers"]["otlp"]["protocols"] == {
        "grpc": {"endpoint": "0.0.0.0:4317", "max_recv_msg_size_mib": 43}
    }


def test_default_policies_keep_errors_slow_and_ten_percent() -> None:
    settings = render(sampler()).config["processors"]["tail_sampling"]
    assert [p["type"] for p in settings["policies"]] == ["status_code", "latency", "probabilistic"]
    assert settings["policies"][1]["latency"] == {"threshold_ms": 1000}
    assert settings["decision_wait"] == "10s"
    # twice the traces expected within one decision wait
    assert settings["num_traces"] == 2 * 500 * 10


def test_routing_gateway_sends_traces_to_samplers_and_keeps_metrics() -> None:
    config = render(
        CollectorConfigOptions(preset="gateway", exporters=(XRayExporter(), EMF), trace_routing=ROUTING)
    ).config
    pipelines = config["service"]["pipelines"]
    assert pipelines["traces"]["exporters"] == ["load_balancing"]
    assert pipelines["metrics"]["exporters"] == ["awsemf"]
    assert "awsxray" not in config["exporters"]
    routing = config["exporters"]["load_balancing"]
    assert routing["routing_key"] == "traceID"
    assert routing["resolver"]["dns"]["hostname"] == "otel-sampler.prod.internal"
    assert routing["protocol"]["otlp"]["retry_on_failure"] == {"enabled": False}
    assert routing["retry_on_failure"]["enabled"] is True
    # the routing queue is sized like every other exporter queue
    assert routing["sending_queue"]["queue_size"] > 0


def test_typed_policies_render_as_upstream_reads_them() -> None:
    policies = (
        KeepAttribute(key="tenant", values=["gold", "silver"]),
        RateLimit(spans_per_second=100),
        AllOf(name="both", policies=(KeepErrors(), Probabilistic(percent=50))),
        RawPolicy(name="big", policy={"type": "span_count", "span_count": {"min_spans": 50}}),
    )
    rendered = render(sampler(sampling=TailSampling(policies=policies))).config
    got = rendered["processors"]["tail_sampling"]["policies"]
    assert got[0] == {
        "name": "attribute-tenant",
        "type": "string_attribute",
        "string_attribute": {"key": "tenant", "values": ["gold", "silver"]},
    }
    assert got[1]["rate_limiting"] == {"spans_per_second": 100}
    assert [p["type"] for p in got[2]["and"]["and_sub_policy"]] == ["status_code", "probabilistic"]
    assert got[3] == {"name": "big", "type": "span_count", "span_count": {"min_spans": 50}}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: TailSampling(policies=()), "sampling.policies: needs at least one policy"),
        (
            lambda: TailSampling(policies=(Probabilistic(percent=0),)),
            "sampling.policies[0].percent: must be a number > 0 and <= 100, got 0",
        ),
        (
            lambda: TailSampling(policies=(KeepSlow(threshold_ms=0),)),
            "sampling.policies[0].threshold_ms: must be a whole number >= 1, got 0",
        ),
        (
            lambda: TailSampling(policies=(KeepErrors(), KeepErrors())),
            "sampling.policies[1].name: two policies share this name, got 'errors'",
        ),
        (
            lambda: TailSampling(policies=({"type": "probabilistic"},)),  # type: ignore[arg-type]
            "sampling.policies[0]: must be a policy such as KeepErrors()",
        ),
        (
            lambda: TailSampling(
                policies=(AllOf(name="a", policies=(AllOf(name="b", policies=()), KeepErrors())),)
            ),
            "sampling.policies[0].policies[0]: AllOf cannot contain another AllOf",
        ),
        (
            lambda: TailSampling(policies=(KeepAttribute(key="k", values=()),)),
            "sampling.policies[0].values: must be one or more non-empty strings",
        ),
        (
            lambda: TailSampling(policies=(RawPolicy(name="x", policy={"type": "nope"}),)),
            "sampling.policies[0].policy.type: must be one of",
        ),
        (lambda: TailSampling(decision_wait="0.5s"), "sampling.decision_wait: must be from 1s"),
        (lambda: TailSampling(num_traces=5), "sampling.num_traces: must be a whole number >= 100"),
        (lambda: TraceRouting(hostname=""), "trace_routing.hostname: must be a non-empty string"),
        (lambda: TraceRouting(hostname="h", port=0), "trace_routing.port: must be a whole number"),
    ],
)
def test_bad_sampling_settings_are_named(build: object, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build()  # type: ignore[operator]
    assert message in str(caught.value)


def test_sampler_needs_sampling_and_a_trace_exporter() -> None:
    with pytest.raises(ConfigError, match=r"^sampling: the sampler preset needs TailSampling"):
        sampler(sampling=None)
    with pytest.raises(ConfigError, match=r"^exporters: a sampler needs an exporter that takes"):
        sampler(exporters=(EMF,))


def test_tiers_settings_belong_to_their_preset() -> None:
    with pytest.raises(ConfigError, match=r"^sampling: only the sampler preset samples"):
        CollectorConfigOptions(preset="gateway", exporters=(EMF,), sampling=TailSampling())
    with pytest.raises(ConfigError, match=r"^trace_routing: only a gateway routes traces"):
        CollectorConfigOptions(preset="sidecar", exporters=(EMF,), trace_routing=ROUTING)


def test_traces_that_do_not_fit_memory_are_refused_with_the_arithmetic() -> None:
    # 512 MiB: limit 290 MiB, half of it at 16 KiB a trace holds about 9280 traces
    with pytest.raises(ConfigError) as caught:
        sampler(memory_mib=512, sampling=TailSampling(expected_new_traces_per_second=1000))
    text = str(caught.value)
    assert text.startswith("sampling.expected_new_traces_per_second: 20000 traces in flight")
    assert "512 MiB sampler" in text and text.endswith("got 1000")
    fits = sampler(memory_mib=512).sizing.limit_mib * 1024 * 1024 // 2 // TRACE_BYTES
    assert fits < 20000


def test_an_override_cannot_open_a_samplers_other_listeners() -> None:
    with pytest.raises(ConfigError, match=r"extensions.health_check.endpoint|must listen on"):
        render(sampler(overrides={"extensions": {"zpages": {"endpoint": "0.0.0.0:55679"}}}))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sampling": {"policies": []}}, "sampling: must be TailSampling(...) or None, got {"),
        (
            {"preset": "gateway", "sampling": None, "trace_routing": "otel-sampler:4317"},
            "trace_routing: must be TraceRouting(...) or None, got 'otel-sampler:4317'",
        ),
    ],
)
def test_tier_settings_of_the_wrong_type_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        sampler(**kwargs)
    assert str(caught.value).startswith(message)


def test_a_raw_policy_takes_its_name_outside_the_mapping() -> None:
    policy = RawPolicy(name="big", policy={"name": "big", "type": "span_count"})
    with pytest.raises(ConfigError, match=r"^sampling.policies\[0\].policy.name: goes in name="):
        TailSampling(policies=(policy,))
