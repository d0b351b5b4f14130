"""exporters_from_spec: the cdk.json form of exporters."""

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
    exporters_from_spec,
    render,
)

EXAMPLE: dict[str, Any] = {
    "xray": {},
    "emf": {"namespace": "App", "log_group_name": "/x", "retention_days": 30},
    "otlp/honeycomb": {
        "endpoint": "api.honeycomb.io:443",
        "headers": {
            "x-honeycomb-team": {"secret": "honeycomb/api-key", "env": "HONEYCOMB_API_KEY"}
        },
    },
    "debug": {},
}


def test_example_spec_parses_in_order() -> None:
    # GIVEN the documented cdk.json example
    # WHEN parsed
    exporters = exporters_from_spec(EXAMPLE)
    # THEN each key becomes the matching typed exporter, in key order
    assert exporters == (
        XRayExporter(),
        CloudWatchEmfExporter(namespace="App", log_group_name="/x", retention_days=30),
        OtlpExporter(
            name="honeycomb",
            endpoint="api.honeycomb.io:443",
            headers={
                "x-honeycomb-team": SecretRef(
                    env_name="HONEYCOMB_API_KEY", secret_id="honeycomb/api-key"
                )
            },
        ),
        DebugExporter(),
    )
    assert [e.component_id for e in exporters] == ["awsxray", "awsemf", "otlp_grpc/honeycomb", "debug"]


def test_parsed_spec_renders() -> None:
    rendered = render(
        CollectorConfigOptions(preset="gateway", exporters=exporters_from_spec(EXAMPLE))
    )
    assert rendered.config["exporters"]["otlp_grpc/honeycomb"]["headers"] == {
        "x-honeycomb-team": "${env:HONEYCOMB_API_KEY}"
    }
    assert "honeycomb/api-key" not in rendered.yaml


def test_every_type_and_nested_setting() -> None:
    # GIVEN a spec using every type and nested form
    spec: dict[str, Any] = {
        "cwlogs/app": {"log_group_name": "/l", "retention_days": 7, "raw_log": True},
        "otlphttp/vendor": {
            "endpoint": "https://otlp.vendor.example",
            "signals": ["traces", "logs"],
            "auth": {
                "client_id": "my-client",
                "client_secret": {
                    "secret": "arn:aws:ssm:eu-west-1:1:parameter/s",
                    "env": "S",
                    "kind": "ssm",
                },
                "token_url": "https://auth.vendor.example/token",
                "scopes": ["write"],
                "endpoint_params": {"audience": "otel"},
            },
            "queue": {"num_consumers": 2, "queue_size": 8388608},
            "retry": {"max_elapsed_seconds": 30},
            "timeout_seconds": 5,
        },
        "aws_otlp/traces": {"signal": "traces", "region": "eu-west-1"},
        "xray/indexed": {"indexed_attributes": ["tenant"], "region": "eu-west-1"},
    }
    # WHEN parsed
    cwlogs, vendor, aws, xray = exporters_from_spec(spec)
    # THEN nested settings become their dataclasses
    assert cwlogs == CloudWatchLogsExporter(
        name="app", log_group_name="/l", retention_days=7, raw_log=True
    )
    assert vendor == OtlpExporter(
        name="vendor",
        endpoint="https://otlp.vendor.example",
        protocol="http",
        signals=("traces", "logs"),
        auth=OAuth2ClientCredentials(
            client_id="my-client",
            client_secret=SecretRef(
                env_name="S", secret_id="arn:aws:ssm:eu-west-1:1:parameter/s", kind="ssm"
            ),
            token_url="https://auth.vendor.example/token",
            scopes=("write",),
            endpoint_params={"audience": "otel"},
        ),
        queue=SendingQueue(num_consumers=2, queue_size=8388608),
        retry=RetryOnFailure(max_elapsed_seconds=30),
        timeout_seconds=5,
    )
    assert aws == AwsOtlpExporter(name="traces", signal="traces", region="eu-west-1")
    assert xray == XRayExporter(name="indexed", indexed_attributes=("tenant",), region="eu-west-1")


def test_null_settings_mean_defaults() -> None:
    assert exporters_from_spec({"debug": None}) == (DebugExporter(),)  # type: ignore[dict-item]


def test_unknown_type() -> None:
    with pytest.raises(ConfigError, match=r"^exporters.zipkin: unknown exporter type 'zipkin'"):
        exporters_from_spec({"zipkin": {}})


def test_unknown_setting_names_the_key_path() -> None:
    with pytest.raises(ConfigError, match=r"^exporters.emf.namspace: unknown setting"):
        exporters_from_spec({"emf": {"namspace": "App", "log_group_name": "/x"}})


def test_unknown_nested_setting() -> None:
    with pytest.raises(ConfigError, match=r"^exporters.otlp.queue.size: unknown setting"):
        exporters_from_spec({"otlp": {"endpoint": "x:1", "queue": {"size": 1}}})


def test_name_is_not_a_setting() -> None:
    with pytest.raises(ConfigError, match=r"^exporters.otlp.name: unknown setting"):
        exporters_from_spec({"otlp": {"endpoint": "x:1", "name": "n"}})


def test_protocol_comes_from_the_type() -> None:
    with pytest.raises(ConfigError, match=r"^exporters.otlp.protocol: unknown setting"):
        exporters_from_spec({"otlp": {"endpoint": "x:1", "protocol": "http"}})


def test_missing_required_setting() -> None:
    with pytest.raises(ConfigError, match=r"^exporters.emf.namespace: is required$"):
        exporters_from_spec({"emf": {"log_group_name": "/x"}})


def test_missing_secret_env() -> None:
    with pytest.raises(ConfigError, match=r"^exporters.otlp.headers.k.env: is required$"):
        exporters_from_spec({"otlp": {"endpoint": "x:1", "headers": {"k": {"secret": "s"}}}})


def test_unknown_secret_setting() -> None:
    with pytest.raises(ConfigError, match=r"^exporters.otlp.headers.k.name: unknown setting"):
        exporters_from_spec(
            {
                "otlp": {
                    "endpoint": "x:1",
                    "headers": {"k": {"secret": "s", "env": "K", "name": "x"}},
                }
            }
        )


def test_missing_oauth_setting() -> None:
    with pytest.raises(ConfigError, match=r"^exporters.otlp.auth.token_url: is required$"):
        exporters_from_spec(
            {
                "otlp": {
                    "endpoint": "x:1",
                    "auth": {"client_id": "c", "client_secret": {"secret": "s", "env": "S"}},
                }
            }
        )


def test_settings_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError, match=r"^exporters.xray: must be a mapping, got 'yes'$"):
        exporters_from_spec({"xray": "yes"})  # type: ignore[dict-item]


def test_signals_must_be_a_list() -> None:
    with pytest.raises(ConfigError, match=r"^exporters.debug.signals: must be a list of strings"):
        exporters_from_spec({"debug": {"signals": "traces"}})


def test_empty_name_after_slash() -> None:
    with pytest.raises(ConfigError, match=r"^exporters.otlp/: the name after '/' is empty$"):
        exporters_from_spec({"otlp/": {"endpoint": "x:1"}})


def test_bad_value_is_reported_by_the_exporter() -> None:
    with pytest.raises(ConfigError, match=r"^exporters.awsemf.retention_days: .*got 10$"):
        exporters_from_spec(
            {"emf": {"namespace": "A", "log_group_name": "/x", "retention_days": 10}}
        )
