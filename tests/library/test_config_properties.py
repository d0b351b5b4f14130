"""Properties that hold for every valid set of options."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from otel_fargate.config import (
    MIN_MEMORY_MIB,
    AwsOtlpExporter,
    CloudWatchEmfExporter,
    CloudWatchLogsExporter,
    CollectorConfigOptions,
    ConfigError,
    DebugExporter,
    Exporter,
    OtlpExporter,
    SecretRef,
    XRayExporter,
    render,
)
from otel_fargate.config.core.sizing import RESERVED_MIB

#: Ports the presets use besides health_check.
TAKEN = {4317, 4318, 4319, 8888, 1777, 55679}

POOL: tuple[Exporter, ...] = (
    XRayExporter(),
    CloudWatchEmfExporter(namespace="App", log_group_name="/app/metrics", retention_days=30),
    CloudWatchLogsExporter(log_group_name="/app/logs"),
    OtlpExporter(
        name="honeycomb",
        endpoint="api.honeycomb.io:443",
        headers={
            "x-honeycomb-team": SecretRef(
                env_name="HONEYCOMB_API_KEY", secret_id="vendor/hc-api-key"
            )
        },
    ),
    OtlpExporter(name="http", endpoint="https://otlp.example", protocol="http", signals=("logs",)),
    AwsOtlpExporter(signal="traces", region="eu-west-1"),
    DebugExporter(signals=("metrics",)),
)


HOSTS = st.sampled_from(["127.0.0.1", "0.0.0.0"])


@st.composite
def options(draw: st.DrawFn, *, health_ports: st.SearchStrategy[int]) -> CollectorConfigOptions:
    preset = draw(st.sampled_from(["sidecar", "agent", "gateway"]))
    exporters: tuple[Exporter, ...] = ()
    if preset != "agent":
        exporters = tuple(
            draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=4, unique=True))
        )
    processors = draw(
        st.one_of(
            st.none(),
            st.just(
                {"attributes/env": {"actions": [{"key": "env", "value": "x", "action": "upsert"}]}}
            ),
        )
    )
    overrides = draw(
        st.sampled_from(
            [
                None,
                {"processors": {"batch": {"timeout": "1s"}}},
                "service:\n  telemetry:\n    logs:\n      level: debug\n",
            ]
        )
    )
    return CollectorConfigOptions(
        preset=preset,  # type: ignore[arg-type]
        exporters=exporters,
        memory_mib=draw(st.integers(min_value=MIN_MEMORY_MIB, max_value=30_720)),
        cpu_units=draw(st.integers(min_value=1, max_value=16_384)),
        environment_name=draw(st.sampled_from(["dev", "prod", "team-a_1"])),
        service_name=draw(st.sampled_from(["checkout", "otel-gateway"])),
        health_check_endpoint=f"{draw(HOSTS)}:{draw(health_ports)}",
        processors=processors,
        overrides=overrides,
        self_telemetry_namespace=draw(st.sampled_from([None, "OtelFargate/Collector"])),
        pprof=draw(st.booleans()),
        zpages=draw(st.booleans()),
    )


FREE_PORTS = st.integers(min_value=1024, max_value=65535).filter(lambda p: p not in TAKEN)


def _defined(config: dict[str, Any], kind: str) -> set[str]:
    return set(config.get(kind) or {}) | set(config.get("connectors") or {})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(opts=options(health_ports=FREE_PORTS))
def test_any_valid_options_render_a_consistent_config(opts: CollectorConfigOptions) -> None:
    # WHEN any valid options are rendered
    rendered = render(opts)
    config = rendered.config
    # THEN every component named in a pipeline is defined
    for pipeline in config["service"]["pipelines"].values():
        assert pipeline["receivers"] and pipeline["exporters"]
        assert set(pipeline["receivers"]) <= _defined(config, "receivers")
        assert set(pipeline.get("processors", [])) <= set(config["processors"])
        assert set(pipeline["exporters"]) <= _defined(config, "exporters")
    assert set(config["service"]["extensions"]) <= set(config["extensions"])
    # AND the health_check extension listens where the probe looks
    endpoint = config["extensions"]["health_check"]["endpoint"]
    host, port = endpoint.rsplit(":", 1)
    probe_host = "127.0.0.1" if host == "0.0.0.0" else host
    assert rendered.health_check_url == f"http://{probe_host}:{port}/"
    assert "health_check" in config["service"]["extensions"]
    # AND no two listeners share a port
    assert len(set(rendered.ports.values())) == len(rendered.ports)
    assert rendered.ports["health"] == int(port)
    # AND the Go runtime and the limiter stay below the container memory
    gomemlimit = int(rendered.environment["GOMEMLIMIT"].removesuffix("MiB"))
    assert gomemlimit + RESERVED_MIB < opts.memory_mib
    limiter = config["processors"]["memory_limiter"]
    assert limiter["spike_limit_mib"] < limiter["limit_mib"] < gomemlimit
    # AND no exporter queue may hold more serialized telemetry than the heap's hard limit
    for exporter in config["exporters"].values():
        queue = exporter.get("sending_queue")
        if queue is not None:
            assert queue["sizer"] == "bytes"
            assert 0 < queue["queue_size"] <= limiter["limit_mib"] * 1024 * 1024
    assert int(rendered.environment["GOMAXPROCS"]) >= 1
    # AND memory_limiter runs first and batch last in every telemetry pipeline
    for pid, pipeline in config["service"]["pipelines"].items():
        if pid != "metrics/self":
            assert pipeline["processors"][0] == "memory_limiter"
            assert pipeline["processors"][-1] == "batch"
    # AND secrets only appear as env references, and every reference is accounted for
    for ref in rendered.secrets.values():
        assert ref.secret_id not in rendered.yaml
        assert f"${{env:{ref.env_name}}}" in rendered.yaml
    accounted = set(rendered.secrets) | set(rendered.required_env)
    assert set(rendered.referenced_env) == accounted
    # AND the YAML is the dict, deterministically
    assert yaml.safe_load(rendered.yaml) == config
    assert render(opts).yaml == rendered.yaml


@settings(max_examples=40, deadline=None)
@given(opts=options(health_ports=st.sampled_from(sorted(TAKEN - {1777, 55679}))))
def test_health_check_on_a_taken_port_is_rejected(opts: CollectorConfigOptions) -> None:
    # GIVEN a health_check port that a preset listener may also use
    port = int(opts.health_check_endpoint.rsplit(":", 1)[1])
    uses_self = opts.self_telemetry_namespace is not None
    if port == 4319 and not uses_self:
        # WHEN nothing else listens there THEN it renders
        assert render(opts).ports["health"] == 4319
        return
    # WHEN rendered THEN the collision is reported with the port
    try:
        render(opts)
    except ConfigError as error:
        assert f"port {port} is already used" in str(error)
    else:
        raise AssertionError(f"port {port} collision was not reported")
