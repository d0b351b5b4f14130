"""The collector's ECS container health check: timing and the exec-form probe command."""

from __future__ import annotations

from dataclasses import dataclass

from otel_fargate.checks import check_int, fail
from otel_fargate.config.core.durations import format_duration


@dataclass(frozen=True)
class HealthCheckTiming:
    """Timing of the collector's ECS health check.

    Default: every 10 s with a 5 s timeout; unhealthy after 3 failures in a row (one success
    makes it healthy); failures in the first 30 s do not count; and the probe itself gives up
    after 2 s, so a hung endpoint is reported by the probe before ECS kills the check.
    ECS limits: interval 5-300 s, timeout 2-60 s, retries 1-10, start period 0-300 s.
    """

    interval_seconds: int = 10
    timeout_seconds: int = 5
    retries: int = 3
    start_period_seconds: int = 30
    probe_timeout_seconds: float = 2.0

    def __post_init__(self) -> None:
        for name, low, high in (
            ("interval_seconds", 5, 300),
            ("timeout_seconds", 2, 60),
            ("retries", 1, 10),
            ("start_period_seconds", 0, 300),
        ):
            check_int(f"health_check.{name}", getattr(self, name), low=low, high=high)
        probe = self.probe_timeout_seconds
        if (
            isinstance(probe, bool)
            or not isinstance(probe, int | float)
            or not (0.1 <= probe < self.timeout_seconds)
        ):
            raise fail(
                "health_check.probe_timeout_seconds",
                f"must be from 0.1 up to below timeout_seconds ({self.timeout_seconds})",
                probe,
            )
        if self.timeout_seconds >= self.interval_seconds:
            raise fail(
                "health_check.timeout_seconds",
                f"must be shorter than interval_seconds ({self.interval_seconds})",
                self.timeout_seconds,
            )


def probe_command(
    probe_path: str, url: str, timing: HealthCheckTiming, *, style: str = "url"
) -> list[str]:
    """The exec-form ECS health check command (never ``CMD-SHELL``: the image has no shell).

    ``url`` style: this library's probe (``--url``, ``--timeout``). ``port`` style: ADOT's
    probe, which checks ``localhost:<port>`` and takes ``--port`` only.
    """
    if style == "port":
        return ["CMD", probe_path, "--port", url.rstrip("/").rsplit(":", 1)[1]]
    timeout = format_duration(round(timing.probe_timeout_seconds * 1000) / 1000)
    return ["CMD", probe_path, "--url", url, "--timeout", timeout]
