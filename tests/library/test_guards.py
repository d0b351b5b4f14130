"""Security controls that overrides or a replacement could remove are checked after every layer."""

from __future__ import annotations

from typing import Any

import pytest
from otel_fargate.config import CollectorConfigOptions, ConfigError, DebugExporter, render


def _render(preset: str, overrides: dict[str, Any], **options: Any) -> Any:
    return render(
        CollectorConfigOptions(
            preset=preset,  # type: ignore[arg-type]
            exporters=() if preset == "agent" else (DebugExporter(),),
            overrides=overrides,
            **options,
        )
    )


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_an_override_cannot_remove_the_gateway_authenticator(protocol: str) -> None:
    # GIVEN a gateway WHEN an override removes the bearer token from one protocol
    overrides = {"receivers": {"otlp": {"protocols": {protocol: {"auth": None}}}}}
    # THEN it is refused, naming the setting and the opt-out
    with pytest.raises(
        ConfigError,
        match=rf"^overrides: receivers.otlp.protocols.{protocol}.auth: the gateway must "
        r"authenticate its clients .*allow_unauthenticated_gateway=True",
    ):
        _render("gateway", overrides)
    # AND the documented opt-out accepts it
    rendered = _render("gateway", overrides, allow_unauthenticated_gateway=True)
    assert "auth" not in rendered.config["receivers"]["otlp"]["protocols"][protocol]


@pytest.mark.parametrize(
    ("preset", "overrides", "path"),
    [
        (
            "sidecar",
            {"receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}}}},
            r"receivers.otlp.protocols.grpc.endpoint",
        ),
        ("agent", {"extensions": {"zpages": {"endpoint": "0.0.0.0:55679"}}, "service": {"extensions": ["health_check", "zpages"]}}, r"extensions.zpages.endpoint"),
        (
            "gateway",
            {"service": {"telemetry": {"metrics": {"readers": [{"pull": {"exporter": {"prometheus": {"host": "0.0.0.0", "port": 8888}}}}]}}}},
            r"service.telemetry.metrics.readers\[0\].pull.exporter.prometheus.host",
        ),
    ],
)
def test_an_override_cannot_open_a_listener_to_the_network(
    preset: str, overrides: dict[str, Any], path: str
) -> None:
    with pytest.raises(
        ConfigError,
        match=rf"^overrides: {path}: must listen on loopback \(127.0.0.1\).*allow_open_listeners=True.*got '0.0.0.0:\d+'$",
    ):
        _render(preset, overrides)
    _render(preset, overrides, allow_open_listeners=True)


def test_a_replacement_is_held_to_the_same_controls() -> None:
    replacement = """
extensions:
  health_check: {endpoint: "127.0.0.1:13133", path: /}
receivers:
  otlp: {protocols: {grpc: {endpoint: "0.0.0.0:4317"}}}
exporters:
  debug: {}
service:
  extensions: [health_check]
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
"""
    with pytest.raises(ConfigError, match=r"^replacement: receivers.otlp.protocols.grpc.endpoint: must listen on loopback"):
        render(CollectorConfigOptions(preset="sidecar", replacement=replacement))
    with pytest.raises(ConfigError, match=r"^replacement: receivers.otlp.protocols.grpc.auth: the gateway must authenticate"):
        render(CollectorConfigOptions(preset="gateway", replacement=replacement))


def test_the_presets_themselves_pass_their_guards() -> None:
    for preset in ("sidecar", "agent", "gateway"):
        _render(preset, {})
