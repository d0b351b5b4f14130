"""The field model describes every component the image's manifest carries, and the rules read it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from otel_fargate.config import CollectorConfigOptions, ConfigError, DebugExporter, render
from otel_fargate.config.model.components import manifest_components
from otel_fargate.config.model.fields import described, expand, fields_of, model_release
from otel_fargate.config.policy.hosts import is_loopback, listen_host
from otel_fargate.config.policy.walker import walk
from otel_fargate.versions import COLLECTOR_VERSION

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_every_manifest_component_is_described() -> None:
    # GIVEN the components of docker/builder-config.yaml
    components = manifest_components(REPO_ROOT / "docker/builder-config.yaml")
    # THEN the model describes each, at the pinned release
    missing = [
        (kind, ctype)
        for kind, types in components.types.items()
        for ctype in types
        if (kind, ctype) not in described()
    ]
    assert missing == []
    assert model_release() == f"v{COLLECTOR_VERSION}"


def test_the_model_knows_the_listeners_the_review_found() -> None:
    # GIVEN components that listen without a standard receiver block THEN the model has them
    for section, ctype, path in [
        ("processors", "remotetap", "endpoint"),
        ("extensions", "http_forwarder", "ingress.endpoint"),
        ("exporters", "prometheus", "endpoint"),
        ("receivers", "otlp", "protocols.grpc.endpoint"),
        ("receivers", "statsd", "endpoint"),
        ("extensions", "zpages", "endpoint"),
    ]:
        model = fields_of(section, ctype)
        assert model is not None and path in {item.path for item in model.listeners}
    bearer = fields_of("extensions", "bearertokenauth")
    assert bearer is not None and "token" in bearer.opaque
    assert list(expand({"tokens": ["a", "b"]}, "tokens.[]")) == [("tokens[0]", "a"), ("tokens[1]", "b")]


_HOSTS = st.sampled_from(
    ["0.0.0.0", "", "::", "[::]", "0", "10.0.0.7", "my-task", "${env:X:-0.0.0.0}", "${env:NOPE}",
     "127.0.0.1", "localhost", "[::1]", "${env:X:-127.0.0.1}"]
)  # fmt: skip
_SECRETS = st.sampled_from(["hunter2", "Bearer abc", "${env:PLAIN}", "${env:X:-abc}", "k" * 40])
_LISTEN_PATHS = [
    ("receivers", "otlp", ("protocols", "grpc", "endpoint")),
    ("receivers", "otlp", ("protocols", "http", "endpoint")),
    ("receivers", "statsd", ("endpoint",)),
    ("receivers", "fluentforward", ("endpoint",)),
    ("extensions", "zpages", ("endpoint",)),
    ("extensions", "pprof", ("endpoint",)),
    ("processors", "remotetap", ("endpoint",)),
    ("exporters", "prometheus", ("endpoint",)),
]
_OPAQUE_PATHS = [
    ("extensions", "bearertokenauth/x", ("token",)),
    ("extensions", "oauth2client/x", ("client_secret",)),
    ("exporters", "otlp_http/x", ("headers", "authorization")),
    ("exporters", "otlp_grpc/x", ("tls", "key_pem")),
    ("extensions", "basicauth/x", ("htpasswd", "inline")),
]


def _nest(path: tuple[str, ...], value: object) -> Any:
    for key in reversed(path):
        value = {key: value}
    return value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    listen=st.lists(st.tuples(st.sampled_from(_LISTEN_PATHS), _HOSTS), max_size=3),
    secret=st.lists(st.tuples(st.sampled_from(_OPAQUE_PATHS), _SECRETS), max_size=2),
)
def test_random_overrides_never_open_a_sidecar_or_carry_a_credential(
    listen: list[tuple[tuple[str, str, tuple[str, ...]], str]],
    secret: list[tuple[tuple[str, str, tuple[str, ...]], str]],
) -> None:
    # GIVEN overrides built from the model's listener and credential paths
    overrides: dict[str, Any] = {}
    for (section, cid, path), value in [
        *(((s, c, p), f"{h}:4000") for (s, c, p), h in listen),
        *secret,
    ]:
        overrides.setdefault(section, {}).setdefault(cid, {})
        overrides[section][cid] = _merge(overrides[section][cid], _nest(path, value))
    options = CollectorConfigOptions(
        preset="sidecar", exporters=(DebugExporter(),), overrides=overrides,
        environment={"PLAIN": "p"},
    )  # fmt: skip
    # WHEN it is rendered
    try:
        config = render(options).config
    except ConfigError:
        return  # refused: nothing reaches a task
    # THEN every listener is on loopback and no credential setting holds a literal
    for site in walk(config):
        if site.kind == "listener" and site.value is not None and site.ctype != "health_check":
            host = listen_host(site.value, {"PLAIN": "p"}).host
            assert host is not None and is_loopback(host), site
        if site.kind == "opaque" and site.value:
            assert str(site.value).startswith("${env:") and "PLAIN" not in str(site.value), site


def _merge(left: Any, right: Any) -> Any:
    if isinstance(left, dict) and isinstance(right, dict):
        return {**left, **{k: _merge(left.get(k), v) for k, v in right.items()}}
    return right
