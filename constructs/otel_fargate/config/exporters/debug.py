"""The debug exporter: telemetry written to the collector's own log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from otel_fargate.checks import check_choice
from otel_fargate.config.core.values import SIGNALS, Signal, check_signals
from otel_fargate.config.exporters.base import Exporter
from otel_fargate.errors import ConfigError

_VERBOSITIES = ("basic", "normal", "detailed")


@dataclass(frozen=True, kw_only=True)
class DebugExporter(Exporter):
    """Writes telemetry to the collector's own log (the ``debug`` exporter).

    Attributes:
        name: component name; default: plain ``debug``.
        verbosity: ``basic`` (default: one line per batch), ``normal`` or ``detailed``.
        signals: default: traces, metrics and logs.
    """

    component_type: ClassVar[str] = "debug"

    name: str | None = None
    verbosity: Literal["basic", "normal", "detailed"] = "basic"
    signals: tuple[Signal, ...] = SIGNALS

    def __post_init__(self) -> None:
        self.check_name()
        check_choice(f"{self.setting}.verbosity", self.verbosity, _VERBOSITIES, error=ConfigError)
        check_signals(self.signals, setting=f"{self.setting}.signals")

    def render(self) -> dict[str, Any]:
        """The exporter's YAML block."""
        return {"verbosity": self.verbosity}
