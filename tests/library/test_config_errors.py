"""Every validation error: raised as ConfigError naming the setting and the value."""

from __future__ import annotations

from typing import Any

import pytest
from otel_fargate.config import (
    AwsOtlpExporter,
    CloudWatchEmfExporter,
    CloudWatchLogsExporter,
    CollectorConfigOptions,
    ConfigError,
    DebugExporter,
    OAuth2ClientCredentials,
    OtlpExporter,
    RetryOnFailure,
    SecretRef,
    SendingQueue,
    XRayExporter,
    render,
)


def _sidecar(**kwargs: Any) -> CollectorConfigOptions:
    kwargs.setdefault("exporters", (DebugExporter(),))
    return CollectorConfigOptions(preset="sidecar", **kwargs)


# --- options ---------------------------------------------------------------------------


def test_unknown_preset() -> None:
    with pytest.raises(
        ConfigError, match=r"^preset: must be one of sidecar, agent, gateway, sampler, got 'daemon'$"
    ):
        CollectorConfigOptions(preset="daemon")  # type: ignore[arg-type]


def test_memory_too_small() -> None:
    with pytest.raises(
        ConfigError, match=r"^memory_mib: the collector needs at least 256 MiB, got 128$"
    ):
        _sidecar(memory_mib=128)


def test_no_exporter_for_sidecar() -> None:
    with pytest.raises(
        ConfigError, match=r"^exporters: the sidecar preset needs at least one exporter, got none$"
    ):
        CollectorConfigOptions(preset="sidecar")


def test_no_exporter_for_gateway() -> None:
    with pytest.raises(ConfigError, match=r"^exporters: the gateway preset needs at least one"):
        CollectorConfigOptions(preset="gateway")


def test_agent_rejects_exporters() -> None:
    with pytest.raises(
        ConfigError, match=r"^exporters: the agent preset forwards everything .* got awsxray$"
    ):
        CollectorConfigOptions(preset="agent", exporters=(XRayExporter(),))


def test_duplicate_exporter_ids() -> None:
    with pytest.raises(ConfigError, match=r"two exporters have the id 'otlp_grpc'.*otlp_grpc/honeycomb"):
        _sidecar(exporters=(OtlpExporter(endpoint="a:4317"), OtlpExporter(endpoint="b:4317")))


def test_not_an_exporter() -> None:
    with pytest.raises(ConfigError, match=r"^exporters\[0\]: must be an exporter"):
        _sidecar(exporters=({"xray": {}},))


def test_gateway_endpoint_outside_agent() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^gateway_endpoint: only the agent preset .* 'x:4317' with preset 'sidecar'$",
    ):
        _sidecar(gateway_endpoint="x:4317")


def test_malformed_gateway_endpoint() -> None:
    with pytest.raises(
        ConfigError, match=r"^gateway_endpoint: must be host:port .*got 'otel-gateway'$"
    ):
        CollectorConfigOptions(preset="agent", gateway_endpoint="otel-gateway")


def test_malformed_health_check_endpoint() -> None:
    with pytest.raises(
        ConfigError, match=r"^health_check_endpoint: must be host:port .*got '127.0.0.1:99999'$"
    ):
        _sidecar(health_check_endpoint="127.0.0.1:99999")


def test_bad_max_connection_age() -> None:
    with pytest.raises(
        ConfigError, match=r"^max_connection_age: must be a duration such as '60s', got 'soon'$"
    ):
        CollectorConfigOptions(
            preset="gateway", exporters=(XRayExporter(),), max_connection_age="soon"
        )


def test_bad_environment_name() -> None:
    with pytest.raises(ConfigError, match=r"^environment_name: must be a non-empty name .*got ''$"):
        _sidecar(environment_name="")


def test_reserved_processor_id() -> None:
    with pytest.raises(ConfigError, match=r"^processors.batch: is managed by the preset"):
        _sidecar(processors={"batch": {"timeout": "1s"}})


def test_processor_id_is_not_a_component_id() -> None:
    with pytest.raises(ConfigError, match=r"^processors: 'Bad Name' is not a component id"):
        _sidecar(processors={"Bad Name": {}})


def test_overrides_and_replacement_together() -> None:
    with pytest.raises(ConfigError, match=r"^overrides: cannot be combined with replacement"):
        _sidecar(overrides={}, replacement={})


def test_overrides_of_wrong_type() -> None:
    with pytest.raises(ConfigError, match=r"^overrides: must be a mapping or YAML text, got list$"):
        _sidecar(overrides=[])


def test_stop_timeout_above_fargate_limit() -> None:
    with pytest.raises(
        ConfigError, match=r"^stop_timeout_seconds: must be an integer from 2 to 120 .*got 300$"
    ):
        _sidecar(stop_timeout_seconds=300)


def test_retries_longer_than_stop_timeout() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^exporters.otlp_grpc: retries plus timeout take up to 70s, .*stop_timeout_seconds=60",
    ):
        _sidecar(exporters=(OtlpExporter(endpoint="x:4317"),), stop_timeout_seconds=60)


def test_sdk_retries_longer_than_stop_timeout() -> None:
    with pytest.raises(
        ConfigError, match=r"^exporters.awsxray: retries plus timeout take up to 90s"
    ):
        _sidecar(exporters=(XRayExporter(request_timeout_seconds=30),), stop_timeout_seconds=60)


def test_self_telemetry_namespace_in_aws_space() -> None:
    with pytest.raises(ConfigError, match=r"^self_telemetry_namespace: .*got 'AWS/ECS'$"):
        _sidecar(self_telemetry_namespace="AWS/ECS")


def test_self_telemetry_retention() -> None:
    with pytest.raises(ConfigError, match=r"^self_telemetry_retention_days: .*got 31$"):
        _sidecar(self_telemetry_retention_days=31)


def test_log_level() -> None:
    with pytest.raises(
        ConfigError, match=r"^log_level: must be one of debug, info, warn, error, got 'trace'$"
    ):
        _sidecar(log_level="trace")


# --- secrets -----------------------------------------------------------------------------


def test_invalid_secret_env_name() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^SecretRef.env_name: must be an environment variable name .*got 'honeycomb-key'$",
    ):
        SecretRef(env_name="honeycomb-key", secret_id="hc")


def test_reserved_secret_env_name() -> None:
    with pytest.raises(ConfigError, match=r"^SecretRef.env_name: 'OTEL_GATEWAY_TOKEN' is reserved"):
        SecretRef(env_name="OTEL_GATEWAY_TOKEN", secret_id="token")


def test_empty_secret_id() -> None:
    with pytest.raises(
        ConfigError, match=r"^SecretRef.secret_id: must be a non-empty secret name or ARN, got ''$"
    ):
        SecretRef(env_name="X", secret_id="")


def test_json_field_on_ssm() -> None:
    with pytest.raises(ConfigError, match=r"^SecretRef.json_field: only Secrets Manager"):
        SecretRef(env_name="X", secret_id="/p", kind="ssm", json_field="k")


def test_unknown_secret_kind() -> None:
    with pytest.raises(
        ConfigError, match=r"^SecretRef.kind: must be 'secretsmanager' or 'ssm', got 'vault'$"
    ):
        SecretRef(env_name="X", secret_id="p", kind="vault")  # type: ignore[arg-type]


def test_one_env_name_two_secrets() -> None:
    a = OtlpExporter(
        name="a", endpoint="a:443", headers={"k": SecretRef(env_name="KEY", secret_id="a")}
    )
    b = OtlpExporter(
        name="b", endpoint="b:443", headers={"k": SecretRef(env_name="KEY", secret_id="b")}
    )
    with pytest.raises(
        ConfigError,
        match=r"^exporters.otlp_grpc/b: environment variable 'KEY' already carries secret 'a'",
    ):
        render(_sidecar(exporters=(a, b)))


def test_invalid_env_reference_in_overrides() -> None:
    options = _sidecar(
        overrides={"service": {"telemetry": {"logs": {"initial_fields": {"t": "${env:bad-name}"}}}}}
    )
    with pytest.raises(
        ConfigError,
        match=(
            r"^overrides: service.telemetry.logs.initial_fields.t: "
            r"\$\{env:bad-name\} is not a valid"
        ),
    ):
        render(options)


# --- exporters ---------------------------------------------------------------------------


def test_emf_missing_namespace() -> None:
    with pytest.raises(
        ConfigError, match=r"^exporters.awsemf.namespace: must be a non-empty string, got ''$"
    ):
        CloudWatchEmfExporter(namespace="", log_group_name="/g")


def test_emf_bad_retention() -> None:
    with pytest.raises(ConfigError, match=r"^exporters.awsemf.retention_days: .*got 10$"):
        CloudWatchEmfExporter(namespace="A", log_group_name="/g", retention_days=10)


def test_cwlogs_missing_log_group() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^exporters.awscloudwatchlogs/app.log_group_name: must be a non-empty string",
    ):
        CloudWatchLogsExporter(name="app", log_group_name=" ")


def test_bad_region() -> None:
    with pytest.raises(
        ConfigError, match=r"^exporters.awsxray.region: must be an AWS region .*got 'Ireland'$"
    ):
        XRayExporter(region="Ireland")


def test_bad_exporter_name() -> None:
    with pytest.raises(ConfigError, match=r"^exporters.otlp_grpc.name: must match .*got 'a/b'$"):
        OtlpExporter(name="a/b", endpoint="x:1")


def test_otlp_missing_endpoint() -> None:
    with pytest.raises(
        ConfigError, match=r"^exporters.otlp_grpc/hc.endpoint: must be a non-empty string, got ''$"
    ):
        OtlpExporter(name="hc", endpoint="")


def test_otlphttp_endpoint_must_be_a_url() -> None:
    with pytest.raises(
        ConfigError, match=r"^exporters.otlp_http.endpoint: an HTTP endpoint must be a URL"
    ):
        OtlpExporter(endpoint="api.example:443", protocol="http")


@pytest.mark.parametrize("endpoint", ["nohost", "api.example.com", "api.example.com:port", "a b:1"])
def test_otlp_grpc_endpoint_needs_host_and_port(endpoint: str) -> None:
    with pytest.raises(
        ConfigError,
        match=rf"^exporters.otlp_grpc.endpoint: a gRPC endpoint is host:port .*got '{endpoint}'$",
    ):
        OtlpExporter(endpoint=endpoint)


def test_otlp_unknown_protocol() -> None:
    with pytest.raises(
        ConfigError, match=r"^exporters.otlp.protocol: must be one of grpc, http, got 'thrift'$"
    ):
        OtlpExporter(endpoint="x:1", protocol="thrift")  # type: ignore[arg-type]


def test_otlp_unknown_signal() -> None:
    with pytest.raises(ConfigError, match=r"^exporters.otlp_grpc.signals: unknown signal 'profiles'"):
        OtlpExporter(endpoint="x:1", signals=("profiles",))  # type: ignore[arg-type]


def test_otlp_bad_header_name() -> None:
    with pytest.raises(ConfigError, match=r"^exporters.otlp_grpc.headers: invalid header name 'x y'$"):
        OtlpExporter(endpoint="x:1", headers={"x y": "v"})


def test_oauth2_literal_secret() -> None:
    with pytest.raises(
        ConfigError, match=r"^exporters.otlp_grpc.auth.client_secret: must be a SecretRef"
    ):
        OtlpExporter(
            endpoint="x:1",
            auth=OAuth2ClientCredentials(
                client_id="id",
                client_secret="s3cr3t",  # type: ignore[arg-type]
                token_url="https://t",
            ),
        )


def test_oauth2_token_url_must_be_https() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^exporters.otlp_grpc.auth.token_url: must be an https:// URL, got 'http://t'$",
    ):
        OtlpExporter(
            endpoint="x:1",
            auth=OAuth2ClientCredentials(
                client_id="id",
                client_secret=SecretRef(env_name="S", secret_id="s"),
                token_url="http://t",
            ),
        )


def test_aws_otlp_logs_need_group_and_stream() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^exporters.otlp_http/aws_logs.log_group_name: must be a non-empty string, got None$",
    ):
        AwsOtlpExporter(signal="logs", region="us-east-1")


def test_aws_otlp_needs_region() -> None:
    with pytest.raises(
        ConfigError, match=r"^exporters.otlp_http/aws_traces.region: must be an AWS region"
    ):
        AwsOtlpExporter(signal="traces", region="")


def test_aws_otlp_group_on_traces() -> None:
    with pytest.raises(
        ConfigError, match=r"only the logs signal takes a log group, got signal='traces'"
    ):
        AwsOtlpExporter(signal="traces", region="us-east-1", log_group_name="/g")


@pytest.mark.parametrize("size", [0, 500, 1048575, 2.5e6])
def test_queue_size_counts_bytes_and_is_at_least_one_mib(size: Any) -> None:
    # GIVEN a queue size in batches, as queues were once sized, or a fraction
    with pytest.raises(
        ConfigError,
        match=r"^exporters.otlp_grpc.queue.queue_size: counts bytes of serialized telemetry and "
        rf"must be an integer >= 1048576 \(1 MiB\), got {size!r}$",
    ):
        OtlpExporter(endpoint="x:1", queue=SendingQueue(queue_size=size))


def test_queue_larger_than_the_memory_limit_is_refused() -> None:
    # GIVEN a 256 MiB container, whose memory_limiter hard limit is 137 MiB
    # WHEN one exporter's queue is given 200 MiB
    # THEN rendering refuses it: that queue could hold more than the heap may
    with pytest.raises(
        ConfigError,
        match=r"^exporters.otlp_grpc.queue.queue_size: at most the memory_limiter hard limit of a "
        r"256 MiB container \(143654912 bytes, 137 MiB\) fits, got 209715200$",
    ):
        render(
            _sidecar(
                memory_mib=256,
                exporters=(
                    OtlpExporter(endpoint="x:1", queue=SendingQueue(queue_size=200 * 1024 * 1024)),
                ),
            )
        )


def test_retry_interval_order() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^exporters.otlp_grpc.retry.max_interval_seconds: must be >= initial_interval_seconds",
    ):
        OtlpExporter(
            endpoint="x:1", retry=RetryOnFailure(initial_interval_seconds=5, max_interval_seconds=1)
        )


def test_debug_verbosity() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^exporters.debug.verbosity: must be one of basic, normal, detailed, got 'loud'$",
    ):
        DebugExporter(verbosity="loud")  # type: ignore[arg-type]


def test_two_exporters_one_auth_extension() -> None:
    # GIVEN gRPC and HTTP exporters with the same name but different OAuth settings
    def oauth(url: str) -> OAuth2ClientCredentials:
        return OAuth2ClientCredentials(
            client_id="id", client_secret=SecretRef(env_name="S", secret_id="s"), token_url=url
        )

    a = OtlpExporter(name="v", endpoint="x:1", auth=oauth("https://a"))
    b = OtlpExporter(name="v", endpoint="https://x", protocol="http", auth=oauth("https://b"))
    with pytest.raises(
        ConfigError, match=r"^exporters.otlp_http/v: needs extension 'oauth2client/v'"
    ):
        render(_sidecar(exporters=(a, b)))


# --- layers: overrides and replacement ----------------------------------------------------


def test_override_pipeline_without_exporter() -> None:
    options = _sidecar(overrides={"service": {"pipelines": {"traces": {"exporters": []}}}})
    with pytest.raises(
        ConfigError,
        match=(
            r"^overrides: service.pipelines.traces.exporters: a pipeline needs at least one "
            r"exporter$"
        ),
    ):
        render(options)


def test_override_pipeline_without_receivers() -> None:
    options = _sidecar(overrides={"service": {"pipelines": {"logs": {"receivers": []}}}})
    with pytest.raises(
        ConfigError,
        match=(
            r"^overrides: service.pipelines.logs.receivers: a pipeline needs at least one "
            r"receiver$"
        ),
    ):
        render(options)


def test_override_uses_undefined_exporter() -> None:
    options = _sidecar(
        overrides={"service": {"pipelines": {"traces": {"exporters": ["otlp_grpc/nope"]}}}}
    )
    with pytest.raises(
        ConfigError,
        match=(
            r"^overrides: service.pipelines.traces.exporters: 'otlp_grpc/nope' is not defined "
            r"under exporters or connectors$"
        ),
    ):
        render(options)


def test_override_uses_undefined_processor() -> None:
    options = _sidecar(
        overrides="service:\n  pipelines:\n    traces:\n      processors: [tail_sampling]\n"
    )
    with pytest.raises(
        ConfigError,
        match=(
            r"^overrides: service.pipelines.traces.processors: 'tail_sampling' is not defined "
            r"under processors$"
        ),
    ):
        render(options)


def test_override_removes_health_check() -> None:
    options = _sidecar(overrides={"extensions": {"health_check": None}})
    with pytest.raises(
        ConfigError,
        match=r"^overrides: service.extensions: 'health_check' is not defined under extensions$",
    ):
        render(options)


def test_override_drops_health_check_from_service() -> None:
    options = _sidecar(overrides={"service": {"extensions": []}})
    with pytest.raises(
        ConfigError,
        match=(
            r"^overrides: extensions.health_check: must be defined and listed in "
            r"service.extensions"
        ),
    ):
        render(options)


def test_override_moves_health_check_away_from_the_probe() -> None:
    options = _sidecar(overrides={"extensions": {"health_check": {"endpoint": "127.0.0.1:13134"}}})
    with pytest.raises(
        ConfigError,
        match=(
            r"^overrides: extensions.health_check.endpoint: must be '127.0.0.1:13133'.*got "
            r"'127.0.0.1:13134'$"
        ),
    ):
        render(options)


def test_override_changes_health_check_path() -> None:
    options = _sidecar(overrides={"extensions": {"health_check": {"path": "/health"}}})
    with pytest.raises(
        ConfigError, match=r"^overrides: extensions.health_check.path: must be '/'.*got '/health'$"
    ):
        render(options)


def test_override_port_collision() -> None:
    options = _sidecar(
        overrides={"receivers": {"otlp": {"protocols": {"http": {"endpoint": "127.0.0.1:4317"}}}}}
    )
    with pytest.raises(
        ConfigError,
        match=(
            r"^overrides: receivers.otlp.protocols.http.endpoint: port 4317 is already used "
            r"by receivers.otlp.protocols.grpc.endpoint$"
        ),
    ):
        render(options)


def test_health_check_port_collides_with_otlp() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^rendered config: extensions.health_check.endpoint: port 4317 is already used",
    ):
        render(_sidecar(health_check_endpoint="127.0.0.1:4317"))


def test_health_check_port_collides_with_own_metrics() -> None:
    with pytest.raises(
        ConfigError,
        match=(
            r"service.telemetry.metrics.readers\[0\].pull: port 8888 is already used by "
            r"extensions.health_check.endpoint$"
        ),
    ):
        render(_sidecar(health_check_endpoint="127.0.0.1:8888"))


def test_override_retries_longer_than_stop_timeout() -> None:
    options = _sidecar(
        exporters=(OtlpExporter(endpoint="x:1"),),
        overrides={"exporters": {"otlp": {"retry_on_failure": {"max_elapsed_time": "5m"}}}},
    )
    with pytest.raises(
        ConfigError,
        match=(
            r"^overrides: exporters.otlp_grpc.retry_on_failure.max_elapsed_time: retries \(300s\) "
            r"plus timeout 10s must be shorter than stop_timeout_seconds=120$"
        ),
    ):
        render(options)


def test_override_sdk_timeout_longer_than_stop_timeout() -> None:
    options = _sidecar(
        exporters=(XRayExporter(),),
        overrides={"exporters": {"awsxray": {"request_timeout_seconds": 60}}},
    )
    with pytest.raises(
        ConfigError,
        match=(
            r"^overrides: exporters.awsxray.request_timeout_seconds: retries \(0s\) plus 60s x 3 "
            r"SDK attempts must be shorter than stop_timeout_seconds=120$"
        ),
    ):
        render(options)


def test_cwlogs_without_retry_settings_uses_the_long_default() -> None:
    # GIVEN an override that clears the CloudWatch Logs retry settings (default: 300 s)
    options = _sidecar(
        exporters=(CloudWatchLogsExporter(log_group_name="/l"),),
        overrides={"exporters": {"awscloudwatchlogs": {"retry_on_failure": None}}},
    )
    with pytest.raises(
        ConfigError,
        match=r"exporters.awscloudwatchlogs.retry_on_failure.max_elapsed_time: retries \(300s\)",
    ):
        render(options)


def test_override_unauthenticated_reference() -> None:
    options = _sidecar(
        overrides={
            "receivers": {
                "otlp": {"protocols": {"grpc": {"auth": {"authenticator": "basicauth/x"}}}}
            }
        }
    )
    with pytest.raises(
        ConfigError,
        match=(
            r"^overrides: receivers.otlp.protocols.grpc.auth.authenticator: 'basicauth/x' "
            r"must be defined"
        ),
    ):
        render(options)


def test_override_bad_pipeline_id() -> None:
    options = _sidecar(
        overrides={
            "service": {"pipelines": {"spans": {"receivers": ["otlp"], "exporters": ["debug"]}}}
        }
    )
    with pytest.raises(
        ConfigError, match=r"^overrides: service.pipelines: 'spans' is not a pipeline id"
    ):
        render(options)


def test_override_top_level_typo() -> None:
    options = _sidecar(overrides={"exporter": {"debug": {}}})
    with pytest.raises(ConfigError, match=r"^overrides: exporter: unknown top-level section"):
        render(options)


def test_override_service_typo() -> None:
    options = _sidecar(overrides={"service": {"pipeline": {}}})
    with pytest.raises(ConfigError, match=r"^overrides: service.pipeline: unknown setting"):
        render(options)


def test_overrides_invalid_yaml() -> None:
    with pytest.raises(ConfigError, match=r"^overrides: is not valid YAML"):
        render(_sidecar(overrides="service: [unclosed"))


def test_overrides_not_a_mapping() -> None:
    with pytest.raises(
        ConfigError, match=r"^overrides: must be a mapping at the top level, got \['a'\]$"
    ):
        render(_sidecar(overrides="- a"))


def test_replacement_uses_undefined_receiver() -> None:
    replacement = {
        "extensions": {"health_check": {"endpoint": "127.0.0.1:13133"}},
        "exporters": {"debug": {}},
        "service": {
            "extensions": ["health_check"],
            "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["debug"]}},
        },
    }
    with pytest.raises(
        ConfigError,
        match=(
            r"^replacement: service.pipelines.traces.receivers: 'otlp' is not defined under "
            r"receivers or connectors$"
        ),
    ):
        render(CollectorConfigOptions(preset="gateway", replacement=replacement))


def test_replacement_without_health_check_gets_the_one_the_probe_reaches() -> None:
    # GIVEN a replacement that declares no health_check extension
    replacement = {
        "receivers": {"otlp": {"protocols": {"grpc": None}}},
        "exporters": {"debug": {}},
        "service": {"pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["debug"]}}},
    }
    config = render(CollectorConfigOptions(preset="sidecar", replacement=replacement)).config
    # THEN it is added where the container health check probes, and enabled
    assert config["extensions"]["health_check"] == {"endpoint": "127.0.0.1:13133"}
    assert config["service"]["extensions"] == ["health_check"]


def test_an_override_cannot_remove_the_health_check() -> None:
    with pytest.raises(
        ConfigError, match=r"^overrides: extensions.health_check: must be defined and listed"
    ):
        render(
            CollectorConfigOptions(
                preset="sidecar",
                exporters=(DebugExporter(),),
                overrides={"service": {"extensions": []}},
            )
        )


def test_replacement_without_pipelines() -> None:
    with pytest.raises(
        ConfigError, match=r"^replacement: service.pipelines: at least one pipeline is required$"
    ):
        render(CollectorConfigOptions(preset="sidecar", replacement="service: {}"))


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (
            {"exporters": {"awsxray": {"regoin": "eu-west-1"}}},
            r"^overrides: exporters.awsxray.regoin: unknown setting of awsxray v[0-9.]+ .*known: .*region",
        ),
        (
            {"exporters": {"awsemf": {"sending_queue": {"enabled": True}}}},
            r"^overrides: exporters.awsemf.sending_queue: unknown setting of awsemf",
        ),
    ],
)
def test_overrides_cannot_add_keys_the_aws_components_refuse(
    layer: dict[str, object], message: str
) -> None:
    # GIVEN a sidecar exporting to X-Ray and EMF WHEN an override adds a key the pinned
    # release's Config does not have THEN synth refuses it, naming the key
    with pytest.raises(ConfigError, match=message):
        render(
            CollectorConfigOptions(
                preset="sidecar",
                exporters=(XRayExporter(), CloudWatchEmfExporter(namespace="N", log_group_name="/g")),
                overrides=layer,
            )
        )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: CloudWatchEmfExporter(namespace="${env:OTEL_GATEWAY_TOKEN}", log_group_name="/g"),
            r"^exporters.awsemf.namespace: must be a literal: the collector expands \$\{...\}",
        ),
        (
            lambda: OtlpExporter(endpoint="${env:BACKEND}:443"),
            r"^exporters.otlp_grpc.endpoint: must be a literal",
        ),
        (
            lambda: CloudWatchLogsExporter(log_group_name="${file:/proc/self/environ}"),
            r"^exporters.awscloudwatchlogs.log_group_name: must be a literal",
        ),
    ],
)
def test_typed_fields_refuse_collector_expansions(build: Any, message: str) -> None:
    # GIVEN a typed field holding ${...}, which the collector would expand WHEN built
    # THEN it is refused, naming the field
    with pytest.raises(ConfigError, match=message):
        build()


@pytest.mark.parametrize("header", ["authorization", "X-Api-Key", "x-honeycomb-team"])
def test_credential_headers_take_a_secret_ref_never_a_literal(header: str) -> None:
    with pytest.raises(ConfigError, match=rf"^exporters.otlp_grpc.headers.{header}: carries a credential"):
        OtlpExporter(endpoint="api.example.com:443", headers={header: "hunter2"})
    # AND the same header as a SecretRef is accepted
    OtlpExporter(
        endpoint="api.example.com:443",
        headers={header: SecretRef(env_name="API_KEY", secret_id="vendor/key")},
    )


def test_credential_headers_in_cdk_json_are_refused_too() -> None:
    from otel_fargate.config import exporters_from_spec

    with pytest.raises(ConfigError, match=r"^exporters.otlp_grpc/vendor.headers.x-api-key: carries a credential"):
        exporters_from_spec({"otlp/vendor": {"endpoint": "api.example.com:443", "headers": {"x-api-key": "k"}}})
