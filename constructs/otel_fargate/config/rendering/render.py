"""Render a collector configuration: preset → options → overrides → replacement.

Every layer's result is validated; the first problem raises ConfigError naming the layer,
the setting and the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from otel_fargate.config.core.layers import deep_merge, load_layer
from otel_fargate.config.core.secrets import SecretRef
from otel_fargate.config.core.sizing import Sizing
from otel_fargate.config.core.yamlio import dump_yaml
from otel_fargate.config.model.aliases import follow_renames
from otel_fargate.config.options.collector import CollectorConfigOptions, Preset
from otel_fargate.config.policy.guards import GuardContext, check_guards
from otel_fargate.config.policy.iam import IamNeeds, iam_for
from otel_fargate.config.policy.listeners import listening_ports
from otel_fargate.config.policy.validate import env_references, otlp_signals, validate_config
from otel_fargate.config.rendering.adopt import adopt
from otel_fargate.config.rendering.presets import build_preset
from otel_fargate.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class RenderedConfig:
    """A validated collector configuration and what the constructs must provide for it.

    Attributes:
        preset: the preset it was rendered from.
        yaml: the configuration text (deterministic: same options, same bytes).
        config: the configuration as a dict.
        environment: plain container environment variables (GOMEMLIMIT, GOMAXPROCS and
            ``options.environment``).
        secrets: ECS secrets by environment variable name: every SecretRef of the
            exporters and of ``options.secrets``.
        required_env: environment variables the configuration reads (without a ``:-``
            default) that are neither in ``environment`` nor in ``secrets``: the constructs
            must supply them (the agent and gateway read ``OTEL_GATEWAY_TOKEN``, whose secret
            the constructs create), or synth fails naming them.
        referenced_env: every ``${env:NAME}`` in the configuration, sorted.
        health_check_endpoint: where the health_check extension listens.
        health_check_url: the URL the container health check probes.
        ports: every port the collector listens on, by name (``otlp-grpc``, ``otlp-http``,
            ``health``, ``metrics``, ...).
        iam: permissions the exporters in use need.
        otlp_signals: the signals clients may send over OTLP (those with a pipeline fed by
            the OTLP receiver); the others are refused (HTTP 404, gRPC Unimplemented).
        sizing: the memory and CPU numbers behind memory_limiter and the environment.
    """

    preset: Preset
    yaml: str
    config: dict[str, Any]
    environment: dict[str, str]
    secrets: dict[str, SecretRef]
    required_env: tuple[str, ...]
    referenced_env: tuple[str, ...]
    health_check_endpoint: str
    health_check_url: str
    ports: dict[str, int]
    iam: IamNeeds
    otlp_signals: tuple[str, ...]
    sizing: Sizing


def layered_config(options: CollectorConfigOptions) -> dict[str, Any]:
    """The final configuration of ``options``, validated after every layer."""

    def check(config: dict[str, Any], layer: str) -> dict[str, Any]:
        validate_config(
            config,
            layer=layer,
            health_check_endpoint=options.health_check_endpoint,
            stop_timeout_seconds=options.stop_timeout_seconds,
            components=options.components,
            image_description=options.image_description,
        )
        check_guards(config, guard_context(options, layer=layer))
        return config

    if options.replacement is not None:
        replacement = adopt(
            load_layer(options.replacement, setting="replacement"),
            layer="replacement",
            endpoint=options.health_check_endpoint,
            stop=options.stop_timeout_seconds,
        )
        return check(replacement, "replacement")
    config = check(build_preset(options), "rendered config")
    if options.overrides is not None:
        overrides = follow_renames(load_layer(options.overrides, setting="overrides"), config)
        config = check(deep_merge(config, overrides), "overrides")
    return config


def guard_context(options: CollectorConfigOptions, *, layer: str) -> GuardContext:
    """What the security rules need to know about the collector ``options`` describe."""
    tls = options.gateway_tls
    return GuardContext(
        preset=options.preset,
        layer=layer,
        environment={**options.sizing.environment, **options.environment},
        secret_names=frozenset(collect_secrets(options)),
        allow_open_listeners=options.allow_open_listeners,
        allow_unauthenticated_gateway=options.allow_unauthenticated_gateway,
        gateway_tls_min_version=tls.min_version if tls is not None else None,
        gateway_endpoint=options.effective_gateway_endpoint if options.preset == "agent" else None,
    )


def render(options: CollectorConfigOptions) -> RenderedConfig:
    """Render, merge and validate the configuration ``options`` describe.

    Raises:
        ConfigError: a layer is invalid; the message names the layer, setting and value.
    """
    if not isinstance(options, CollectorConfigOptions):
        raise ConfigError(f"options: must be CollectorConfigOptions, got {options!r}")
    config = layered_config(options)
    secrets = collect_secrets(options)
    referenced = env_references(config, layer="rendered config")
    environment = {**options.sizing.environment, **options.environment}
    required = tuple(
        name
        for name in env_references(config, layer="rendered config", without_default=True)
        if name not in secrets and name not in environment
    )
    return RenderedConfig(
        preset=options.preset,
        yaml=dump_yaml(config),
        config=config,
        environment=environment,
        secrets={name: secrets[name] for name in sorted(secrets)},
        required_env=required,
        referenced_env=referenced,
        health_check_endpoint=options.health_check_endpoint,
        health_check_url=options.health_check_url,
        ports={name: port for name, _path, port in listening_ports(config)},
        iam=iam_for(
            with_environment(config, options.environment),
            existing_log_groups=options.existing_log_groups,
        ),
        otlp_signals=otlp_signals(config),
        sizing=options.sizing,
    )


def with_environment(config: dict[str, Any], environment: Mapping[str, str]) -> dict[str, Any]:
    """``config`` with the plain variables it reads filled in (what the collector will see),
    so permissions can be scoped to, say, the workspace an endpoint variable names.
    """
    if not environment:
        return config

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            for name, text in environment.items():
                value = value.replace("${env:" + name + "}", text).replace("${" + name + "}", text)
            return value
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [fill(item) for item in value]
        return value

    filled: dict[str, Any] = fill(config)
    return filled


def collect_secrets(options: CollectorConfigOptions) -> dict[str, SecretRef]:
    """Every SecretRef of the options by env name; one name may not mean two secrets."""
    found: dict[str, SecretRef] = {}
    sources: list[tuple[str, SecretRef]] = [
        (exporter.setting, ref) for exporter in options.exporters for ref in exporter.secret_refs()
    ]
    sources.extend(("secrets", ref) for ref in options.secrets)
    for setting, ref in sources:
        known = found.get(ref.env_name)
        if known is not None and known != ref:
            raise ConfigError(
                f"{setting}: environment variable {ref.env_name!r} already carries secret "
                f"{known.secret_id!r}; use another env_name for {ref.secret_id!r}"
            )
        found[ref.env_name] = ref
    return found


def describe(rendered: RenderedConfig) -> str:
    """A short human summary of what will run (pipelines, ports, env, permissions)."""
    lines = [f"preset: {rendered.preset}"]
    pipelines: Mapping[str, Any] = rendered.config.get("service", {}).get("pipelines", {})
    for pid, pipeline in pipelines.items():
        lines.append(
            f"pipeline {pid}: {', '.join(pipeline.get('receivers', []))} -> "
            f"{', '.join(pipeline.get('processors', []) or ['-'])} -> "
            f"{', '.join(pipeline.get('exporters', []))}"
        )
    lines.append("ports: " + ", ".join(f"{k}={v}" for k, v in rendered.ports.items()))
    lines.append(f"health check: {rendered.health_check_url}")
    lines.append("environment: " + ", ".join(f"{k}={v}" for k, v in rendered.environment.items()))
    if rendered.secrets:
        lines.append("secrets: " + ", ".join(rendered.secrets))
    if rendered.required_env:
        lines.append("required env: " + ", ".join(rendered.required_env))
    return "\n".join(lines) + "\n"
