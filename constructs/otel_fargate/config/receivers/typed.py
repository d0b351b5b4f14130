"""Typed receivers beside OTLP: the protocols apps already speak without an OpenTelemetry SDK.

Each receiver knows its component id (``type`` or ``type/name``), the signals it feeds (its
id goes into those pipelines' ``receivers`` next to ``otlp``) and its YAML. They run in the
app's task only (the sidecar and agent presets) and listen on loopback, where the task's
other containers reach them and nothing else does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from otel_fargate.checks import fail
from otel_fargate.config.core.values import Signal, non_empty, split_host_port
from otel_fargate.errors import ConfigError
from otel_fargate.names import FLUENT_FORWARD_PORT, XRAY_DAEMON_PORT

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")

#: Where the X-Ray daemon listens by default, UDP for segments and TCP for sampling calls.
DEFAULT_XRAY_DAEMON_ENDPOINT = f"127.0.0.1:{XRAY_DAEMON_PORT}"


class Receiver:
    """Base class of the typed receivers. Subclasses are frozen keyword-only dataclasses."""

    #: The collector component type (``awsxray``, ``fluent_forward``...).
    component_type: ClassVar[str]
    #: The signals the receiver feeds.
    signals: ClassVar[tuple[Signal, ...]]

    name: str | None

    @property
    def component_id(self) -> str:
        """The id in the collector config: ``type`` or ``type/name``."""
        return self.component_type if self.name is None else f"{self.component_type}/{self.name}"

    @property
    def setting(self) -> str:
        """The option path used in error messages: ``receivers.<component id>``."""
        return f"receivers.{self.component_id}"

    def check_name(self) -> None:
        """Raise ConfigError when ``name`` cannot be part of a component id."""
        if self.name is not None and (
            not isinstance(self.name, str) or not _NAME_PATTERN.fullmatch(self.name)
        ):
            raise fail(
                f"receivers.{self.component_type}.name",
                f"must match {_NAME_PATTERN.pattern}",
                self.name,
                error=ConfigError,
            )

    def check_endpoint(self, field: str) -> str:
        """``field``'s value if it is a literal ``host:port``; ConfigError naming it otherwise."""
        value = non_empty(getattr(self, field), setting=f"{self.setting}.{field}")
        split_host_port(value, setting=f"{self.setting}.{field}")
        return value

    def render(self) -> dict[str, Any]:
        """The receiver's YAML block."""
        raise NotImplementedError

    def extensions(self) -> dict[str, Any]:
        """Extensions the receiver reads (by id), rendered beside it; default: none."""
        return {}


@dataclass(frozen=True, kw_only=True)
class XRayDaemonReceiver(Receiver):
    """What the X-Ray daemon did, done by the collector (the contrib ``awsxray`` receiver).

    Apps instrumented with an X-Ray SDK send segments as UDP datagrams to the daemon address
    and ask for sampling rules over its TCP proxy; with this receiver both reach the collector,
    and the sidecar gives every app container ``AWS_XRAY_DAEMON_ADDRESS`` pointing at it. The
    segments become spans in the traces pipeline. The sampling proxy always runs (the receiver
    has no switch for it) and forwards the SDKs' ``GetSamplingRules`` and
    ``GetSamplingTargets`` calls, signed with the task role, so the task role gets the X-Ray
    sampling reads.

    Attributes:
        name: component name; default: plain ``awsxray``.
        endpoint: the UDP address segments are sent to; default: ``127.0.0.1:2000``.
        proxy_endpoint: the TCP address of the sampling proxy; default: ``127.0.0.1:2000``
            (the daemon's; TCP and UDP ports do not clash).
        region: the region the proxy sends sampling calls to; default: the task's region
            (``AWS_REGION``, which ECS sets).
    """

    component_type: ClassVar[str] = "awsxray"
    signals: ClassVar[tuple[Signal, ...]] = ("traces",)

    name: str | None = None
    endpoint: str = DEFAULT_XRAY_DAEMON_ENDPOINT
    proxy_endpoint: str = DEFAULT_XRAY_DAEMON_ENDPOINT
    region: str | None = None

    def __post_init__(self) -> None:
        self.check_name()
        self.check_endpoint("endpoint")
        self.check_endpoint("proxy_endpoint")
        if self.region is not None and (
            not isinstance(self.region, str) or not _REGION.fullmatch(self.region)
        ):
            raise fail(
                f"{self.setting}.region",
                "must be an AWS region such as eu-west-1, or None for the task's region",
                self.region,
                error=ConfigError,
            )

    @property
    def daemon_address(self) -> str:
        """``AWS_XRAY_DAEMON_ADDRESS`` for the X-Ray SDKs: ``host:port`` when segments and
        sampling share the address, ``tcp:host:port udp:host:port`` otherwise.
        """
        if self.endpoint == self.proxy_endpoint:
            return self.endpoint
        return f"tcp:{self.proxy_endpoint} udp:{self.endpoint}"

    def render(self) -> dict[str, Any]:
        """The receiver's YAML block."""
        proxy: dict[str, Any] = {"endpoint": self.proxy_endpoint}
        if self.region is not None:
            proxy["region"] = self.region
        return {"endpoint": self.endpoint, "transport": "udp", "proxy_server": proxy}


@dataclass(frozen=True, kw_only=True)
class FluentForwardReceiver(Receiver):
    """Logs over the Fluent Forward protocol (the contrib ``fluent_forward`` receiver), as the
    FireLens log router forwards what app containers write to stdout and stderr.

    Each record's ``log`` field becomes the log body and its other fields (FireLens adds
    ``source``, ``container_id``, ``container_name``, ``ecs_cluster``, ``ecs_task_arn``,
    ``ecs_task_definition``) log attributes. The sidecar's ``stdout_logs=True`` adds this
    receiver itself.

    Attributes:
        name: component name; default: plain ``fluent_forward``.
        endpoint: the TCP address; default: ``127.0.0.1:8006`` (not 24224, where FireLens's
            own router listens).
    """

    component_type: ClassVar[str] = "fluent_forward"
    signals: ClassVar[tuple[Signal, ...]] = ("logs",)

    name: str | None = None
    endpoint: str = f"127.0.0.1:{FLUENT_FORWARD_PORT}"

    def __post_init__(self) -> None:
        self.check_name()
        self.check_endpoint("endpoint")

    @property
    def port(self) -> int:
        """The port FireLens forwards to."""
        return split_host_port(self.endpoint, setting=f"{self.setting}.endpoint")[1]

    def render(self) -> dict[str, Any]:
        """The receiver's YAML block."""
        return {"endpoint": self.endpoint}


#: The presets typed receivers run in: those in the app's task.
RECEIVER_PRESETS = ("sidecar", "agent")


def check_receivers(receivers: Sequence[Receiver], *, preset: str, replacement: object) -> None:
    """Refuse anything but typed receivers, receivers on a gateway or beside a replacement,
    or one id twice.
    """
    for index, receiver in enumerate(receivers):
        if not isinstance(receiver, Receiver):
            raise fail(
                f"receivers[{index}]",
                "must be a receiver such as XRayDaemonReceiver()",
                receiver,
                error=ConfigError,
            )
    if receivers and preset not in RECEIVER_PRESETS:
        ids = ", ".join(r.component_id for r in receivers)
        raise ConfigError(
            f"receivers: the {preset} preset receives OTLP from other tasks only; X-Ray daemon "
            f"and Fluent Forward receivers listen on loopback in the app's task (a sidecar or "
            f"agent), got {ids}"
        )
    if receivers and replacement is not None:
        ids = ", ".join(r.component_id for r in receivers)
        raise ConfigError(
            f"receivers: cannot be combined with replacement (the replacement is the whole "
            f"configuration; put the receivers in it), got {ids}"
        )
    seen: set[str] = set()
    for receiver in receivers:
        if receiver.component_id in seen or receiver.component_id == "otlp":
            raise fail(
                "receivers",
                "two receivers have one id; give receivers of one type distinct names",
                receiver.component_id,
                error=ConfigError,
            )
        seen.add(receiver.component_id)
