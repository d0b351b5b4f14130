"""The field model describes every component the image's manifest carries, and the rules read it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from otel_fargate.config import CollectorConfigOptions, ConfigError, DebugExporter, render
from otel_fargate.config.model.components import KINDS, contrib_components, manifest_components
from otel_fargate.config.model.fields import described, expand, fields_of, model_release
from otel_fargate.config.policy.hosts import is_loopback, listen_host
from otel_fargate.config.policy.rule_keys import tree_of
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


#: Manifest components whose keys are not checked at synth, and why (the collector checks them at
#: start). Any other component of the manifest must have its keys in the model.
KEYS_UNCHECKED = {
    ("receivers", "receiver_creator"): "its receivers.{}.config are templates of other receivers",
    ("extensions", "ecs_observer"): "recorded by hand; its module is not in the module cache here",
}


def test_every_manifest_component_has_its_keys_checked_or_says_why_not() -> None:
    # GIVEN the components of docker/builder-config.yaml
    components = manifest_components(REPO_ROOT / "docker/builder-config.yaml")
    # THEN the key rule has a key tree for each, but for the few listed with their reason
    unchecked = {
        (kind, ctype)
        for kind, types in components.types.items()
        for ctype in types
        if tree_of(kind, ctype) is None
    }
    assert unchecked == set(KEYS_UNCHECKED)


def test_the_readme_counts_the_contrib_components_whose_keys_are_unchecked() -> None:
    # GIVEN the bundled contrib image's components WHEN those without a key tree are counted
    contrib = contrib_components()
    total = sum(len(contrib.of_kind(kind)) for kind in KINDS)
    unchecked = sum(1 for kind in KINDS for ctype in contrib.of_kind(kind) if tree_of(kind, ctype) is None)
    # THEN the README states that figure, at the pinned release
    assert f"({unchecked} of {total} at v{COLLECTOR_VERSION})" in (REPO_ROOT / "README.md").read_text()

def test_an_unknown_health_check_key_is_refused_with_the_closest_one() -> None:
    # GIVEN a health_check extension with a misspelled key (was unchecked: no schema upstream)
    overrides = {"extensions": {"health_check": {"check_collector_pipelines": {"enabled": True}}}}
    # WHEN it is rendered THEN the key rule names it and suggests the real one
    with pytest.raises(ConfigError, match=r"extensions\.health_check\.check_collector_pipelines: unknown setting.*did you mean 'check_collector_pipeline'"):
        render(CollectorConfigOptions(preset="sidecar", exporters=(DebugExporter(),), overrides=overrides))


def test_health_check_keys_users_write_are_accepted() -> None:
    # GIVEN health_check settings from upstream's README (v1 and v2 styles)
    overrides = {"extensions": {"health_check": {
        "path": "/", "check_collector_pipeline": {"enabled": False, "interval": "5m", "exporter_failure_threshold": 5},
        "response_body": {"healthy": "ok", "unhealthy": "bad"},
    }}}  # fmt: skip
    # WHEN it is rendered THEN it is accepted
    assert render(CollectorConfigOptions(preset="sidecar", exporters=(DebugExporter(),), overrides=overrides)).config

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
