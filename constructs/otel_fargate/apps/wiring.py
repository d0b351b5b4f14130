"""What an application container gets from its collector sidecar: OTLP variables, and a
dependency on the collector being healthy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from aws_cdk import Token
from aws_cdk import aws_ecs as ecs

from otel_fargate.checks import fail
from otel_fargate.config import Receiver, XRayDaemonReceiver
from otel_fargate.names import (
    COLLECTOR_CONTAINER_NAME,
    OTLP_GRPC_PORT,
    OTLP_HTTP_PORT,
    XRAY_DAEMON_ADDRESS_ENV,
)

#: Environment variable names that the sidecar sets on application containers.
OTEL_ENV_NAMES: Final = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_PROPAGATORS",
    "OTEL_TRACES_EXPORTER",
    "OTEL_METRICS_EXPORTER",
    "OTEL_LOGS_EXPORTER",
)

#: The OTLP protocols apps may use, and the collector port each reaches.
APP_PROTOCOLS: Final = {"http/protobuf": OTLP_HTTP_PORT, "grpc": OTLP_GRPC_PORT}


def otel_environment(
    container_name: str,
    *,
    app_protocol: str,
    environment_name: str,
    uses_xray: bool,
    signals: Sequence[str],
) -> dict[str, str]:
    """The OTLP environment variables of an application container named ``container_name``.

    ``signals`` are those the collector accepts over OTLP; the SDK's exporter of any other
    signal is ``none``, so the app never sends what would be refused.
    """
    return {
        # 127.0.0.1, not localhost: some runtimes resolve localhost to ::1 first, and the
        # collector listens on IPv4 loopback only.
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{APP_PROTOCOLS[app_protocol]}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": app_protocol,
        "OTEL_SERVICE_NAME": container_name,
        "OTEL_RESOURCE_ATTRIBUTES": (
            f"service.name={container_name},deployment.environment.name={environment_name}"
        ),
        "OTEL_PROPAGATORS": "tracecontext,baggage,xray" if uses_xray else "tracecontext,baggage",
        **{
            f"OTEL_{signal.upper()}_EXPORTER": "otlp" if signal in signals else "none"
            for signal in ("traces", "metrics", "logs")
        },
    }


def receiver_environment(receivers: Sequence[Receiver]) -> dict[str, str]:
    """What points an app's instrumentation at the collector's typed receivers: the X-Ray
    SDKs' daemon address when the collector runs an :class:`XRayDaemonReceiver`.
    """
    for receiver in receivers:
        if isinstance(receiver, XRayDaemonReceiver):
            return {XRAY_DAEMON_ADDRESS_ENV: receiver.daemon_address}
    return {}


def check_receiver_variables(
    container_name: str, existing: Mapping[str, str | None], ours: Mapping[str, str]
) -> None:
    """An app that sets a receiver's variable itself must set what the sidecar would: a
    different daemon address would send its segments where nothing listens. A secret or a
    token is known at deploy time only, so it is not provably another address.
    """
    for key, value in ours.items():
        given = existing.get(key)
        if given is not None and not Token.is_unresolved(given) and given != value:
            raise fail(
                f"app_containers.{container_name}.{key}",
                f"the collector's receiver listens at {value!r}; leave the variable unset (the "
                f"sidecar sets it) or set it to that",
                given,
            )


def existing_variables(
    container: ecs.ContainerDefinition, task_definition: ecs.TaskDefinition
) -> dict[str, str | None]:
    """The environment variables (with their values) and secrets (value None) ``container``
    already sets.
    """
    rendered = container.render_container_definition(task_definition)
    found: dict[str, str | None] = {}
    for pair in rendered.environment if isinstance(rendered.environment, list) else []:
        value = getattr(pair, "value", None)
        found[str(getattr(pair, "name", ""))] = value if isinstance(value, str) else None
    for secret in rendered.secrets if isinstance(rendered.secrets, list) else []:
        found[str(getattr(secret, "name", ""))] = None
    return found


_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
_PROTOCOL = "OTEL_EXPORTER_OTLP_PROTOCOL"
_PORT_PROTOCOL = {OTLP_GRPC_PORT: "grpc", OTLP_HTTP_PORT: "http/protobuf"}


def _port_of(endpoint: str) -> int | None:
    tail = endpoint.rstrip("/").rsplit(":", 1)
    return int(tail[1]) if len(tail) == 2 and tail[1].isdigit() else None


def missing_variables(
    container_name: str, existing: Mapping[str, str | None], ours: Mapping[str, str]
) -> dict[str, str]:
    """The variables of ``ours`` to add to a container that already sets ``existing``.

    The endpoint and the protocol are one pair: when the app sets one of them, the other is
    made to match it (the protocol from the endpoint's port, the endpoint from the protocol);
    a pair that cannot agree is refused.
    """
    added = {key: value for key, value in ours.items() if key not in existing}
    endpoint, protocol = existing.get(_ENDPOINT), existing.get(_PROTOCOL)
    if any(value is not None and Token.is_unresolved(value) for value in (endpoint, protocol)):
        # a value known at deploy time only: the pair is the app's to keep consistent
        for key in (_ENDPOINT, _PROTOCOL):
            added.pop(key, None)
        return added
    if endpoint is not None and _PROTOCOL in added:
        inferred = _PORT_PROTOCOL.get(_port_of(endpoint) or 0)
        if inferred is None:
            raise fail(
                f"app_containers.{container_name}.{_ENDPOINT}",
                f"the app sets the endpoint but not {_PROTOCOL}, and its port is not the "
                f"collector's gRPC ({OTLP_GRPC_PORT}) or HTTP ({OTLP_HTTP_PORT}) port; set both",
                endpoint,
            )
        added[_PROTOCOL] = inferred
    elif protocol is not None and _ENDPOINT in added:
        port = OTLP_GRPC_PORT if protocol == "grpc" else OTLP_HTTP_PORT
        added[_ENDPOINT] = f"http://127.0.0.1:{port}"
    elif endpoint is not None and protocol is not None:
        expected = _PORT_PROTOCOL.get(_port_of(endpoint) or 0)
        if expected is not None and (expected == "grpc") != (protocol == "grpc"):
            raise fail(
                f"app_containers.{container_name}.{_PROTOCOL}",
                f"{_ENDPOINT}={endpoint} is the collector's {expected} port",
                protocol,
            )
    return added


def check_app_container(
    container: ecs.ContainerDefinition, task_definition: ecs.TaskDefinition
) -> None:
    """``container`` belongs to ``task_definition`` and is not the collector."""
    if container.task_definition.node.path != task_definition.node.path:
        raise fail(
            "app_containers",
            f"every container must belong to the sidecar's task definition "
            f"{task_definition.node.path}",
            container.node.path,
        )
    if container.container_name == COLLECTOR_CONTAINER_NAME:
        raise fail("app_containers", "the collector cannot be its own app", container.node.path)
