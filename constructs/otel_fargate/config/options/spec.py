"""Exporters from the JSON form used in ``cdk.json``.

Each key is an exporter type, optionally with a name (``otlp/honeycomb``); each value holds
the exporter's settings under the same names as the dataclass fields::

    {
      "xray": {},
      "emf": {"namespace": "App", "log_group_name": "/x", "retention_days": 30},
      "otlp/honeycomb": {
        "endpoint": "api.honeycomb.io:443",
        "headers": {"x-honeycomb-team": {"secret": "honeycomb/api-key",
                                         "env": "HONEYCOMB_API_KEY"}}
      },
      "debug": {}
    }

Types: ``xray`` (awsxray), ``emf`` (awsemf), ``cwlogs`` (awscloudwatchlogs), ``otlp`` (gRPC),
``otlphttp``, ``aws_otlp``, ``amp`` (Amazon Managed Service for Prometheus) and ``debug``.
A secret is ``{"secret": <name or ARN>,
"env": <ENV_NAME>}`` plus optional ``"kind": "ssm"``, ``"json_field"`` and
``"kms_key_arn"``. ``auth`` holds
OAuth 2.0 client credentials (``client_id``, ``client_secret``, ``token_url``, ``scopes``,
``endpoint_params``); ``queue`` and ``retry`` hold SendingQueue and RetryOnFailure fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from otel_fargate.config.core.secrets import SecretRef
from otel_fargate.config.exporters import (
    AmpExporter,
    AwsOtlpExporter,
    CloudWatchEmfExporter,
    CloudWatchLogsExporter,
    DebugExporter,
    Exporter,
    OAuth2ClientCredentials,
    OtlpExporter,
    RetryOnFailure,
    SendingQueue,
    XRayExporter,
)
from otel_fargate.errors import ConfigError

_TYPES: dict[str, tuple[Any, dict[str, Any]]] = {
    "xray": (XRayExporter, {}),
    "emf": (CloudWatchEmfExporter, {}),
    "cwlogs": (CloudWatchLogsExporter, {}),
    "otlp": (OtlpExporter, {"protocol": "grpc"}),
    "otlphttp": (OtlpExporter, {"protocol": "http"}),
    "aws_otlp": (AwsOtlpExporter, {}),
    "amp": (AmpExporter, {}),
    "debug": (DebugExporter, {}),
}

#: Exporter types ``exporters_from_spec`` accepts.
SPEC_TYPES: tuple[str, ...] = tuple(_TYPES)


def _mapping(value: object, *, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path}: must be a mapping, got {value!r}")
    return value


def _check_keys(value: Mapping[str, Any], allowed: set[str], *, path: str) -> None:
    for key in value:
        if key not in allowed:
            raise ConfigError(
                f"{path}.{key}: unknown setting (expected one of {', '.join(sorted(allowed))})"
            )


def _string_tuple(value: object, *, path: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: must be a list of strings, got {value!r}")
    return tuple(value)


def secret_from_spec(value: object, *, path: str) -> SecretRef:
    """``{"secret": id, "env": NAME, "kind"?: ..., "json_field"?: ...}`` → SecretRef."""
    spec = _mapping(value, path=path)
    _check_keys(spec, {"secret", "env", "kind", "json_field", "kms_key_arn"}, path=path)
    for required in ("secret", "env"):
        if required not in spec:
            raise ConfigError(f"{path}.{required}: is required")
    return SecretRef(
        env_name=spec["env"],
        secret_id=spec["secret"],
        kind=spec.get("kind", "secretsmanager"),
        json_field=spec.get("json_field"),
        kms_key_arn=spec.get("kms_key_arn"),
    )


def _headers(value: object, *, path: str) -> dict[str, str | SecretRef]:
    spec = _mapping(value, path=path)
    return {
        key: item if isinstance(item, str) else secret_from_spec(item, path=f"{path}.{key}")
        for key, item in spec.items()
    }


def _oauth2(value: object, *, path: str) -> OAuth2ClientCredentials:
    spec = _mapping(value, path=path)
    fields = {"client_id", "client_secret", "token_url", "scopes", "endpoint_params"}
    _check_keys(spec, fields, path=path)
    for required in ("client_id", "client_secret", "token_url"):
        if required not in spec:
            raise ConfigError(f"{path}.{required}: is required")
    client_id = spec["client_id"]
    return OAuth2ClientCredentials(
        client_id=client_id
        if isinstance(client_id, str)
        else secret_from_spec(client_id, path=f"{path}.client_id"),
        client_secret=secret_from_spec(spec["client_secret"], path=f"{path}.client_secret"),
        token_url=spec["token_url"],
        scopes=_string_tuple(spec.get("scopes", []), path=f"{path}.scopes"),
        endpoint_params=dict(
            _mapping(spec.get("endpoint_params", {}), path=f"{path}.endpoint_params")
        ),
    )


def _dataclass_from(cls: type[Any], value: object, *, path: str) -> Any:
    spec = _mapping(value, path=path)
    _check_keys(spec, {f.name for f in dataclasses.fields(cls) if f.init}, path=path)
    return cls(**spec)


_CONVERTERS: dict[str, Callable[..., Any]] = {
    "headers": _headers,
    "auth": _oauth2,
    "queue": lambda value, path: _dataclass_from(SendingQueue, value, path=path),
    "retry": lambda value, path: _dataclass_from(RetryOnFailure, value, path=path),
    "signals": _string_tuple,
    "indexed_attributes": _string_tuple,
}


def exporters_from_spec(spec: Mapping[str, Mapping[str, Any]]) -> tuple[Exporter, ...]:
    """Parse the ``cdk.json`` form of exporters, in key order.

    Raises:
        ConfigError: an unknown type, an unknown or missing setting, or a bad value; the
            message names the key path (``exporters.emf.namspace: unknown setting``).
    """
    root = _mapping(spec, path="exporters")
    out: list[Exporter] = []
    for key, value in root.items():
        path = f"exporters.{key}"
        if not isinstance(key, str):
            raise ConfigError(f"exporters: keys must be strings, got {key!r}")
        kind, _, name = key.partition("/")
        if kind not in _TYPES:
            raise ConfigError(
                f"{path}: unknown exporter type {kind!r} (expected one of {', '.join(SPEC_TYPES)})"
            )
        if "/" in key and not name:
            raise ConfigError(f"{path}: the name after '/' is empty")
        cls, fixed = _TYPES[kind]
        settings = _mapping(value if value is not None else {}, path=path)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        allowed = set(fields) - {"name"} - set(fixed)
        _check_keys(settings, allowed, path=path)
        for field_name, field in fields.items():
            if (
                field_name not in settings
                and field_name not in fixed
                and field_name != "name"
                and field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING
            ):
                raise ConfigError(f"{path}.{field_name}: is required")
        kwargs: dict[str, Any] = dict(fixed)
        for setting, item in settings.items():
            converter = _CONVERTERS.get(setting)
            kwargs[setting] = (
                converter(item, path=f"{path}.{setting}") if converter is not None else item
            )
        try:
            exporter: Exporter = cls(name=name if name else None, **kwargs)
        except TypeError as error:
            raise ConfigError(f"{path}: {error}") from None
        out.append(exporter)
    return tuple(out)
