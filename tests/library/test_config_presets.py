"""What each preset renders, and what RenderedConfig tells the constructs."""

from __future__ import annotations

from typing import Any

import yaml
from otel_fargate import telemetry
from otel_fargate.config import (
    GATEWAY_TOKEN_ENV,
    AwsOtlpExporter,
    CloudWatchEmfExporter,
    CloudWatchLogsExporter,
    CollectorConfigOptions,
    DebugExporter,
    LogGroupWrite,
    OtlpExporter,
    SecretRef,
    SendingQueue,
    XRayExporter,
    describe,
    render,
)

from tests.library.golden_cases import CASES, HONEYCOMB


def _pipelines(config: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = config["service"]["pipelines"]
    return result


def test_sidecar_receives_on_localhost_and_exports_directly() -> None:
    # GIVEN a sidecar with X-Ray, EMF and CloudWatch Logs
    rendered = render(CASES["sidecar-xray-emf-cwlogs"])
    config = rendered.config
    # THEN OTLP is received on 127.0.0.1 only
    protocols = config["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"] == "127.0.0.1:4317"
    assert protocols["http"]["endpoint"] == "127.0.0.1:4318"
    assert "auth" not in protocols["grpc"]
    # AND each signal goes to the exporter that takes it
    pipelines = _pipelines(config)
    assert pipelines["traces"]["exporters"] == ["awsxray"]
    assert pipelines["metrics"]["exporters"] == ["awsemf"]
    assert pipelines["logs"]["exporters"] == ["awscloudwatchlogs"]
    # AND the processors run memory_limiter first and batch last
    for signal in ("traces", "metrics", "logs"):
        assert pipelines[signal]["processors"] == ["memory_limiter", "resource_detection", "batch"]
    assert config["processors"]["resource_detection"] == {
        "detectors": ["env", "ecs"],
        "timeout": "2s",
        "override": False,
    }
    # AND no bearer token is involved
    assert GATEWAY_TOKEN_ENV not in rendered.yaml
    assert rendered.required_env == ()


def test_signal_pipeline_exists_only_when_an_exporter_takes_the_signal() -> None:
    # GIVEN a sidecar exporting traces only
    rendered = render(CollectorConfigOptions(preset="sidecar", exporters=(XRayExporter(),)))
    # THEN only the traces pipeline (and the self-telemetry pipeline) exist
    assert set(_pipelines(rendered.config)) == {"traces", "metrics/self"}


def test_agent_forwards_everything_to_the_gateway_with_the_bearer_token() -> None:
    # GIVEN the agent preset
    rendered = render(CASES["agent"])
    config = rendered.config
    # THEN every signal goes to otlp_grpc/gateway only
    for signal in ("traces", "metrics", "logs"):
        assert _pipelines(config)[signal]["exporters"] == ["otlp_grpc/gateway"]
    gateway = config["exporters"]["otlp_grpc/gateway"]
    assert gateway["endpoint"] == "otel-gateway:4317"
    assert gateway["tls"] == {"insecure": True}
    # AND the token comes from the environment as the authorization header (a gRPC client
    # authenticator would refuse to send it without TLS), which the constructs must supply
    assert gateway["headers"] == {"authorization": "Bearer ${env:OTEL_GATEWAY_TOKEN}"}
    assert "auth" not in gateway
    assert not any(e.startswith("bearertokenauth") for e in config["extensions"])
    assert rendered.required_env == ("OTEL_GATEWAY_TOKEN",)
    assert rendered.secrets == {}


def test_agent_gateway_endpoint_can_point_elsewhere() -> None:
    # GIVEN an agent forwarding to an NLB
    rendered = render(
        CollectorConfigOptions(preset="agent", gateway_endpoint="otel-nlb.internal:4317")
    )
    # THEN the forwarding exporter uses it
    assert rendered.config["exporters"]["otlp_grpc/gateway"]["endpoint"] == "otel-nlb.internal:4317"


def test_gateway_requires_the_bearer_token_and_recycles_connections() -> None:
    # GIVEN the gateway preset
    rendered = render(CASES["gateway-xray-emf"])
    protocols = rendered.config["receivers"]["otlp"]["protocols"]
    # THEN it listens on every interface, both protocols authenticated
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"
    assert protocols["grpc"]["auth"] == {"authenticator": "bearertokenauth/gateway"}
    assert protocols["http"]["auth"] == {"authenticator": "bearertokenauth/gateway"}
    # (two tokens: the current one and the previous one, so that a rotation refuses nothing)
    assert rendered.config["extensions"]["bearertokenauth/gateway"] == {
        "scheme": "Bearer",
        "tokens": ["${env:OTEL_GATEWAY_TOKEN}", "${env:OTEL_GATEWAY_TOKEN_PREVIOUS}"],
    }
    assert "bearertokenauth/gateway" in rendered.config["service"]["extensions"]
    # AND gRPC connections are closed after max_connection_age
    assert protocols["grpc"]["keepalive"]["server_parameters"]["max_connection_age"] == "60s"
    # AND the gateway does not stamp its own ECS resource on the apps' telemetry
    for signal in ("traces", "metrics"):
        assert "resource_detection" not in _pipelines(rendered.config)[signal]["processors"]
    assert rendered.required_env == ("OTEL_GATEWAY_TOKEN", "OTEL_GATEWAY_TOKEN_PREVIOUS")


def test_max_connection_age_is_configurable() -> None:
    rendered = render(CASES["gateway-nlb-local-telemetry"])
    grpc = rendered.config["receivers"]["otlp"]["protocols"]["grpc"]
    assert grpc["keepalive"]["server_parameters"]["max_connection_age"] == "5m"


def test_memory_limiter_and_environment_follow_the_container_size() -> None:
    # GIVEN a 512 MiB / 256-unit collector container
    rendered = render(CollectorConfigOptions(preset="agent", memory_mib=512, cpu_units=256))
    # THEN the limiter and the Go runtime are sized below the container, 64 MiB set aside
    assert rendered.config["processors"]["memory_limiter"] == {
        "check_interval": "100ms",
        "limit_mib": 322,
        "spike_limit_mib": 80,
    }
    assert rendered.environment == {"GOMEMLIMIT": "403MiB", "GOMAXPROCS": "1"}
    # AND the exporter's queue is measured in bytes and holds at most the limiter's hard limit
    assert rendered.config["exporters"]["otlp_grpc/gateway"]["sending_queue"] == {
        "enabled": True,
        "num_consumers": 4,
        "sizer": "bytes",
        # AND it splits batches below what the gateway accepts
        "batch": {"sizer": "bytes", "min_size": 0, "max_size": 3 * 1024 * 1024, "flush_timeout": "200ms"},
        "queue_size": 322 * 1024 * 1024,
    }


def test_an_explicit_queue_size_is_kept() -> None:
    # GIVEN an exporter with a 64 MiB queue in a 1024 MiB container (hard limit 691 MiB)
    exporter = OtlpExporter(endpoint="x:1", queue=SendingQueue(queue_size=64 * 1024 * 1024))
    rendered = render(
        CollectorConfigOptions(preset="sidecar", exporters=(exporter,), memory_mib=1024)
    )
    # THEN the rendered queue keeps that size, in bytes
    queue = rendered.config["exporters"]["otlp_grpc"]["sending_queue"]
    assert (queue["sizer"], queue["queue_size"]) == ("bytes", 64 * 1024 * 1024)


def test_user_processors_sit_between_detection_and_batch() -> None:
    # GIVEN two user processors
    options = CollectorConfigOptions(
        preset="sidecar",
        exporters=(DebugExporter(),),
        processors={"attributes/a": {"actions": []}, "filter/b": None},
    )
    # WHEN rendered
    config = render(options).config
    # THEN they run in mapping order after memory_limiter/resource_detection, before batch
    assert _pipelines(config)["traces"]["processors"] == [
        "memory_limiter",
        "resource_detection",
        "attributes/a",
        "filter/b",
        "batch",
    ]
    assert config["processors"]["filter/b"] == {}
    assert list(config["processors"])[-1] == "batch"


def test_health_check_url_follows_the_endpoint() -> None:
    # GIVEN the default endpoint and an NLB-facing one
    local = render(CASES["agent"])
    nlb = render(CASES["gateway-nlb-local-telemetry"])
    # THEN the probe checks the extension, via 127.0.0.1 when it listens everywhere
    assert local.health_check_url == "http://127.0.0.1:13133/"
    assert local.config["extensions"]["health_check"] == {
        "endpoint": "127.0.0.1:13133",
        "path": "/",
    }
    assert nlb.config["extensions"]["health_check"]["endpoint"] == "0.0.0.0:13133"
    assert nlb.health_check_url == "http://127.0.0.1:13133/"


def test_ports_name_every_listener() -> None:
    # GIVEN a sidecar with self telemetry and a gateway with pprof and zpages
    sidecar = render(CASES["sidecar-xray-emf-cwlogs"])
    gateway = render(CASES["gateway-nlb-local-telemetry"])
    # THEN ports list each listener once
    assert sidecar.ports == {
        "otlp-grpc": 4317,
        "otlp-http": 4318,
        "otlp-self-grpc": 4319,
        "health": 13133,
        "metrics": 8888,
    }
    assert gateway.ports == {
        "otlp-grpc": 4317,
        "otlp-http": 4318,
        "health": 13133,
        "pprof": 1777,
        "zpages": 55679,
        "metrics": 8888,
    }


def test_pprof_and_zpages_only_when_asked() -> None:
    off = render(CASES["gateway-xray-emf"]).config
    on = render(CASES["gateway-nlb-local-telemetry"]).config
    assert "pprof" not in off["extensions"] and "zpages" not in off["extensions"]
    assert on["extensions"]["pprof"] == {"endpoint": "127.0.0.1:1777"}
    assert on["extensions"]["zpages"] == {"endpoint": "127.0.0.1:55679"}
    assert {"pprof", "zpages"} <= set(on["service"]["extensions"])


def test_self_telemetry_goes_to_cloudwatch_with_environment_and_service() -> None:
    # GIVEN a sidecar for dev/checkout
    config = render(CASES["sidecar-xray-emf-cwlogs"]).config
    service_telemetry = config["service"]["telemetry"]
    # THEN metrics are detailed, readable on 127.0.0.1:8888 and pushed to otlp/self
    assert service_telemetry["metrics"]["level"] == "detailed"
    readers = service_telemetry["metrics"]["readers"]
    assert readers[0]["pull"]["exporter"]["prometheus"] == {"host": "127.0.0.1", "port": 8888}
    otlp = readers[1]["periodic"]["exporter"]["otlp"]
    assert otlp["endpoint"] == "http://127.0.0.1:4319"
    assert config["receivers"]["otlp/self"]["protocols"]["grpc"]["endpoint"] == "127.0.0.1:4319"
    assert service_telemetry["logs"]["encoding"] == "json"
    # AND the resource carries the dimension values
    assert service_telemetry["resource"] == {
        "attributes": [
            {"name": "environment", "value": "dev"},
            {"name": "service", "value": "checkout"},
        ]
    }
    # AND metrics/self exports them through awsemf/self into the namespace
    assert _pipelines(config)["metrics/self"] == {
        "receivers": ["otlp/self"],
        "processors": ["resource_detection", "batch"],
        "exporters": ["awsemf/self"],
    }
    emf = config["exporters"]["awsemf/self"]
    assert emf["namespace"] == telemetry.SELF_TELEMETRY_NAMESPACE
    assert emf["log_group_name"] == "/otel-fargate/dev/collector-metrics"
    assert emf["resource_to_telemetry_conversion"] == {"enabled": True}
    declared: dict[tuple[str, ...], list[str]] = {}
    for d in emf["metric_declarations"]:
        names = [s.strip("^$").replace("\\.", ".") for s in d["metric_name_selectors"]]
        declared.setdefault(tuple(d["dimensions"][0]), []).extend(names)
    assert declared[("environment", "service", "exporter")] == list(telemetry.EXPORTER_METRICS)
    assert declared[("environment", "service", "receiver")] == list(telemetry.RECEIVER_METRICS)
    # AND the default container metrics the dashboard and the disk alarm read join them
    assert declared[("environment", "service")] == [
        *telemetry.PROCESS_METRICS,
        *telemetry.TIER_METRICS,
        *telemetry.CONTAINER_METRIC_GROUPS["task"],
    ]
    assert declared[("environment", "service", "container.name")] == [
        telemetry.CONTAINER_CPU_UTILIZED,
        telemetry.CONTAINER_MEMORY_UTILIZED,
    ]
    assert declared[("environment", "service", "success")] == [
        telemetry.LOADBALANCER_BACKEND_OUTCOME
    ]
    assert declared[("environment", "service", "sampled")] == [telemetry.SAMPLING_TRACES_DECIDED]


def test_self_telemetry_can_stay_local() -> None:
    # GIVEN self_telemetry_namespace=None
    rendered = render(CASES["gateway-nlb-local-telemetry"])
    config = rendered.config
    # THEN only the Prometheus pull reader remains, nothing is pushed
    assert "otlp/self" not in config["receivers"]
    assert "awsemf/self" not in config["exporters"]
    assert "metrics/self" not in _pipelines(config)
    assert [list(r) for r in config["service"]["telemetry"]["metrics"]["readers"]] == [["pull"]]
    assert rendered.iam.log_groups_written == ()


def test_self_telemetry_log_group_and_namespace_are_configurable() -> None:
    options = CollectorConfigOptions(
        preset="agent",
        self_telemetry_namespace="Team/Collectors",
        self_telemetry_log_group="/team/collectors",
        self_telemetry_retention_days=7,
    )
    emf = render(options).config["exporters"]["awsemf/self"]
    assert (emf["namespace"], emf["log_group_name"], emf["log_retention"]) == (
        "Team/Collectors",
        "/team/collectors",
        7,
    )


def test_honeycomb_secret_renders_as_env_reference_only() -> None:
    # GIVEN an OTLP exporter whose header is a SecretRef
    rendered = render(CASES["sidecar-otlp-honeycomb"])
    # THEN the header reads the env var and the secret id never appears in the YAML
    exporter = rendered.config["exporters"]["otlp_grpc/honeycomb"]
    assert exporter["headers"] == {"x-honeycomb-team": "${env:HONEYCOMB_API_KEY}"}
    assert exporter["endpoint"] == "api.honeycomb.io:443"
    assert "honeycomb-api-key" not in rendered.yaml
    # AND the secret is handed to the constructs
    assert rendered.secrets == {"HONEYCOMB_API_KEY": HONEYCOMB.headers["x-honeycomb-team"]}
    assert rendered.required_env == ()


def test_oauth2_exporter_configures_its_authenticator() -> None:
    rendered = render(CASES["gateway-oauth2-otlp"])
    config = rendered.config
    assert config["exporters"]["otlp_http/vendor"]["auth"] == {
        "authenticator": "oauth2client/vendor"
    }
    assert config["extensions"]["oauth2client/vendor"]["client_secret"] == (
        "${env:VENDOR_CLIENT_SECRET}"
    )
    assert "oauth2client/vendor" in config["service"]["extensions"]
    assert set(rendered.secrets) == {"VENDOR_CLIENT_ID", "VENDOR_CLIENT_SECRET"}
    assert rendered.secrets["VENDOR_CLIENT_SECRET"].json_field == "client_secret"
    assert "vendor/oauth" not in rendered.yaml


def test_aws_otlp_exporters_sign_with_sigv4() -> None:
    rendered = render(CASES["sidecar-aws-otlp-sigv4"])
    config = rendered.config
    traces = config["exporters"]["otlp_http/aws_traces"]
    logs = config["exporters"]["otlp_http/aws_logs"]
    assert traces["traces_endpoint"] == "https://xray.us-east-1.amazonaws.com/v1/traces"
    assert logs["logs_endpoint"] == "https://logs.us-east-1.amazonaws.com/v1/logs"
    assert logs["headers"] == {
        "x-aws-log-group": "/otel/dev/app-logs",
        "x-aws-log-stream": "checkout",
    }
    assert config["extensions"]["sigv4auth/aws_traces"] == {
        "region": "us-east-1",
        "service": "xray",
    }
    assert config["extensions"]["sigv4auth/aws_logs"]["service"] == "logs"
    assert rendered.iam.xray_otlp_spans and not rendered.iam.xray_write
    assert (
        LogGroupWrite(
            name="/otel/dev/app-logs",
            retention_days=None,
            stream_name="checkout",
            creates_group=False,
            exporter="otlp_http/aws_logs",
            region="us-east-1",
        )
        in rendered.iam.log_groups_written
    )


def test_aws_otlp_metrics_need_put_metric_data() -> None:
    rendered = render(
        CollectorConfigOptions(
            preset="sidecar",
            exporters=(AwsOtlpExporter(signal="metrics", region="eu-west-1"),),
        )
    )
    assert rendered.config["extensions"]["sigv4auth/aws_metrics"]["service"] == "monitoring"
    assert rendered.iam.put_metric_data


def test_iam_follows_the_exporters_in_use() -> None:
    # GIVEN X-Ray, EMF and CloudWatch Logs
    iam = render(CASES["sidecar-xray-emf-cwlogs"]).iam
    # THEN X-Ray writes, both log groups and the two namespaces are needed
    assert iam.xray_write
    assert not iam.xray_otlp_spans and not iam.put_metric_data
    assert [(g.name, g.retention_days, g.creates_group) for g in iam.log_groups_written] == [
        ("/otel-fargate/dev/collector-metrics", 30, True),
        ("/otel/dev/logs", 14, True),
        ("/otel/dev/metrics", 30, True),
    ]
    assert iam.metric_namespaces == ("Checkout", "OtelFargate/Collector")


def test_iam_follows_overrides_that_drop_an_exporter() -> None:
    # GIVEN an override that stops sending traces to X-Ray
    options = CollectorConfigOptions(
        preset="sidecar",
        exporters=(XRayExporter(), DebugExporter()),
        overrides={"service": {"pipelines": {"traces": {"exporters": ["debug"]}}}},
    )
    # THEN X-Ray permissions are no longer needed
    assert not render(options).iam.xray_write


def test_overrides_deep_merge_and_are_validated() -> None:
    # GIVEN the overrides golden case
    config = render(CASES["sidecar-overrides"]).config
    # THEN changed scalars replace, untouched siblings stay, lists are replaced
    assert config["processors"]["batch"]["timeout"] == "1s"
    assert config["processors"]["batch"]["send_batch_size"] == 8192
    assert _pipelines(config)["logs"]["processors"] == ["memory_limiter", "batch"]
    assert config["service"]["telemetry"]["logs"] == {"level": "warn", "encoding": "json"}


def test_overrides_may_reference_declared_secrets() -> None:
    # GIVEN an override adding an exporter that reads a declared secret
    token = SecretRef(env_name="EXTRA_TOKEN", secret_id="extra/token", kind="ssm")
    options = CollectorConfigOptions(
        preset="sidecar",
        exporters=(DebugExporter(),),
        secrets=(token,),
        overrides={
            "exporters": {
                "otlp_http/extra": {
                    "endpoint": "https://extra.example",
                    "headers": {"authorization": "${env:EXTRA_TOKEN}"},
                    "retry_on_failure": {"max_elapsed_time": "30s"},
                }
            },
            "service": {"pipelines": {"traces": {"exporters": ["debug", "otlp_http/extra"]}}},
        },
    )
    rendered = render(options)
    # THEN the secret is delivered and nothing else is required
    assert rendered.secrets == {"EXTRA_TOKEN": token}
    assert rendered.required_env == ()
    assert rendered.referenced_env == ("EXTRA_TOKEN",)


def test_undeclared_env_reference_is_required_from_the_constructs() -> None:
    options = CollectorConfigOptions(
        preset="sidecar",
        exporters=(DebugExporter(),),
        overrides={
            "service": {"telemetry": {"logs": {"initial_fields": {"team": "${env:TEAM_NAME}"}}}}
        },
    )
    assert render(options).required_env == ("TEAM_NAME",)


def test_replacement_is_used_as_is_after_validation() -> None:
    # GIVEN a minimal complete replacement
    replacement = """
extensions:
  health_check:
    endpoint: 127.0.0.1:13133
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:4317
exporters:
  debug: {}
service:
  extensions: [health_check]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
"""
    rendered = render(CollectorConfigOptions(preset="sidecar", replacement=replacement))
    # THEN the configuration is exactly the replacement
    assert rendered.config == yaml.safe_load(replacement)
    assert rendered.ports == {"otlp-grpc": 4317, "health": 13133}


def test_otlp_exporter_options_render() -> None:
    exporter = OtlpExporter(
        name="local",
        endpoint="collector.internal:4317",
        insecure=True,
        compression="zstd",
        signals=("metrics",),
        timeout_seconds=5,
    )
    block = exporter.render()
    assert block["tls"] == {"insecure": True}
    assert block["compression"] == "zstd"
    assert block["timeout"] == "5s"
    assert exporter.signals == ("metrics",)
    assert exporter.component_id == "otlp_grpc/local"


def test_emf_and_cwlogs_defaults() -> None:
    emf = CloudWatchEmfExporter(namespace="App", log_group_name="/g").render()
    logs = CloudWatchLogsExporter(log_group_name="/l").render()
    assert emf["log_stream_name"] == "{TaskId}"
    assert emf["dimension_rollup_option"] == "NoDimensionRollup"
    assert "log_retention" not in emf
    assert logs["log_stream_name"] == "{TaskId}"
    # the container's size decides the queue's, when rendered
    assert logs["sending_queue"] == {"enabled": True, "num_consumers": 4, "sizer": "bytes"}
    assert logs["retry_on_failure"]["max_elapsed_time"] == "60s"


def test_describe_summarises_what_will_run() -> None:
    text = describe(render(CASES["agent"]))
    assert "preset: agent" in text
    assert (
        "pipeline traces: otlp -> memory_limiter, resource_detection, batch -> otlp_grpc/gateway" in text
    )
    assert "health check: http://127.0.0.1:13133/" in text
    assert "required env: OTEL_GATEWAY_TOKEN" in text


def test_overrides_written_against_renamed_ids_reach_the_renamed_components() -> None:
    # GIVEN overrides that name the exporter and the processor by their deprecated types
    rendered = render(
        CollectorConfigOptions(
            preset="sidecar",
            exporters=(HONEYCOMB,),
            overrides={
                "exporters": {"otlp/honeycomb": {"timeout": "20s"}},
                "processors": {"resourcedetection": {"timeout": "5s"}},
                "service": {
                    "pipelines": {
                        "traces": {
                            "processors": ["memory_limiter", "resourcedetection", "batch"],
                            "exporters": ["otlp/honeycomb"],
                        }
                    }
                },
            },
        )
    )
    config = rendered.config
    # THEN they changed the components the presets render under the current types
    assert config["exporters"]["otlp_grpc/honeycomb"]["timeout"] == "20s"
    assert config["processors"]["resource_detection"]["timeout"] == "5s"
    assert "otlp/honeycomb" not in config["exporters"]
    assert "resourcedetection" not in config["processors"]
    traces = config["service"]["pipelines"]["traces"]
    assert traces["exporters"] == ["otlp_grpc/honeycomb"]
    assert traces["processors"] == ["memory_limiter", "resource_detection", "batch"]
