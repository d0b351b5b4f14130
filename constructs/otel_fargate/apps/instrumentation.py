"""Zero-code instrumentation: what each runtime's agent needs in an application container.

An init container copies the language agent into a task volume and exits; the application
container mounts the volume read-only, waits for the copy to succeed, and gets the variables
that make its runtime load the agent. The layout follows the OpenTelemetry Operator's images
(``/javaagent.jar`` for Java, ``/autoinstrumentation/`` for the others), so its published
images can stand in for the ones this library builds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from otel_fargate.checks import check_int, check_text, fail
from otel_fargate.versions import (
    DOTNET_AGENT_VERSION,
    JAVA_AGENT_VERSION,
    NODEJS_AGENT_VERSION,
    PYTHON_AGENT_VERSION,
)

Runtime = Literal["java", "nodejs", "python", "dotnet"]
Libc = Literal["glibc", "musl"]

RUNTIMES: Final[tuple[Runtime, ...]] = ("java", "nodejs", "python", "dotnet")
#: The OpenTelemetry Operator's published .NET agent image (no language registry serves it).
DOTNET_AGENT_IMAGE: Final = (
    "ghcr.io/open-telemetry/opentelemetry-operator/autoinstrumentation-dotnet:"
    + DOTNET_AGENT_VERSION
)
#: The .NET CoreCLR profiler of OpenTelemetry's .NET automatic instrumentation.
DOTNET_PROFILER_ID: Final = "{918728DD-259F-4A6A-AC2B-B85E1B658318}"
_DOTNET_SINGLE = (
    "CORECLR_ENABLE_PROFILING",
    "CORECLR_PROFILER",
    "CORECLR_PROFILER_PATH",
    "DOTNET_ADDITIONAL_DEPS",
    "DOTNET_SHARED_STORE",
    "OTEL_DOTNET_AUTO_HOME",
)


def mount_path(runtime: Runtime) -> str:
    """Where the agent's volume is mounted, in the init container and in the app."""
    return f"/otel-auto-instrumentation-{runtime}"


@dataclass(frozen=True, kw_only=True)
class AutoInstrumentation:
    """Zero-code instrumentation of one application container by its runtime's agent.

    Attributes:
        runtime: ``java``, ``nodejs``, ``python`` or ``dotnet``; use the class methods.
        image: the agent image, from a registry (an OpenTelemetry Operator
            ``autoinstrumentation-*`` image fits). Default: built from this library's
            ``docker/instrumentation.Dockerfile`` at the pinned agent version (Java, Node.js,
            Python), or the Operator's published image of the pinned release (.NET).
        libc: .NET only: ``glibc`` (Debian, Ubuntu images) or ``musl`` (Alpine). Default: glibc.
        service_version: the ``service.version`` resource attribute. Default: none.
        sampler: ``OTEL_TRACES_SAMPLER`` (``parentbased_traceidratio``...), with
            ``sampler_arg`` as ``OTEL_TRACES_SAMPLER_ARG``. Default: the SDK's
            (``parentbased_always_on``). A value the container sets wins.
        memory_mib: the init container's memory limit, counted in the task's budget. Default:
            64 (it runs ``cp`` and exits).
    """

    runtime: Runtime
    image: str | None = None
    libc: Libc = "glibc"
    service_version: str | None = None
    sampler: str | None = None
    sampler_arg: str | None = None
    memory_mib: int = 64

    def __post_init__(self) -> None:
        if self.runtime not in RUNTIMES:
            raise fail("instrument.runtime", f"must be one of {', '.join(RUNTIMES)}", self.runtime)
        if self.libc not in ("glibc", "musl"):
            raise fail("instrument.libc", "must be 'glibc' or 'musl'", self.libc)
        if self.libc == "musl" and self.runtime != "dotnet":
            raise fail(
                "instrument.libc",
                f"applies to .NET only (the {self.runtime} agent is the same for glibc and musl)",
                self.libc,
            )
        for name in ("image", "service_version", "sampler", "sampler_arg"):
            value = getattr(self, name)
            if value is not None:
                check_text(f"instrument.{name}", value)
        if self.sampler_arg is not None and self.sampler is None:
            raise fail("instrument.sampler_arg", "needs a sampler", self.sampler_arg)
        check_int("instrument.memory_mib", self.memory_mib, low=6, high=1024)

    @classmethod
    def java(cls, **options: object) -> AutoInstrumentation:
        """The OpenTelemetry Java agent (``JAVA_TOOL_OPTIONS=-javaagent:...``)."""
        return cls(runtime="java", **options)  # type: ignore[arg-type]

    @classmethod
    def nodejs(cls, **options: object) -> AutoInstrumentation:
        """auto-instrumentations-node (``NODE_OPTIONS=--require ...``)."""
        return cls(runtime="nodejs", **options)  # type: ignore[arg-type]

    @classmethod
    def python(cls, **options: object) -> AutoInstrumentation:
        """The OpenTelemetry Python distro (``PYTHONPATH``); it exports OTLP over HTTP only."""
        return cls(runtime="python", **options)  # type: ignore[arg-type]

    @classmethod
    def dotnet(cls, **options: object) -> AutoInstrumentation:
        """OpenTelemetry .NET automatic instrumentation (the CoreCLR profiler, startup hook)."""
        return cls(runtime="dotnet", **options)  # type: ignore[arg-type]

    @property
    def mount_path(self) -> str:
        """Where the agent is, in the init container and in the app."""
        return mount_path(self.runtime)

    @property
    def agent_version(self) -> str:
        """The pinned agent release the default image carries."""
        return {
            "java": JAVA_AGENT_VERSION,
            "nodejs": NODEJS_AGENT_VERSION,
            "python": PYTHON_AGENT_VERSION,
            "dotnet": DOTNET_AGENT_VERSION,
        }[self.runtime]

    @property
    def copy_command(self) -> list[str]:
        """The init container's command: copy the agent into the volume."""
        if self.runtime == "java":
            return ["cp", "/javaagent.jar", f"{self.mount_path}/javaagent.jar"]
        return ["cp", "-r", "/autoinstrumentation/.", self.mount_path]

    def appended(self) -> dict[str, tuple[str, str, bool]]:
        """Variables whose existing value is kept and extended: name → (fragment, separator,
        fragment goes first).
        """
        path = self.mount_path
        if self.runtime == "java":
            return {"JAVA_TOOL_OPTIONS": (f"-javaagent:{path}/javaagent.jar", " ", False)}
        if self.runtime == "nodejs":
            return {"NODE_OPTIONS": (f"--require {path}/autoinstrumentation.js", " ", False)}
        if self.runtime == "python":
            auto = f"{path}/opentelemetry/instrumentation/auto_instrumentation"
            return {"PYTHONPATH": (f"{auto}:{path}", ":", True)}
        hook = f"{path}/net/OpenTelemetry.AutoInstrumentation.StartupHook.dll"
        return {"DOTNET_STARTUP_HOOKS": (hook, ":", False)}

    def single(self, *, arm64: bool) -> dict[str, str]:
        """Variables the agent owns alone (.NET's profiler): set, and refused when the
        container already sets them to something else (one CoreCLR profiler per process).
        """
        if self.runtime != "dotnet":
            return {}
        path = self.mount_path
        platform = ("linux-musl-" if self.libc == "musl" else "linux-") + (
            "arm64" if arm64 else "x64"
        )
        values = (
            "1",
            DOTNET_PROFILER_ID,
            f"{path}/{platform}/OpenTelemetry.AutoInstrumentation.Native.so",
            f"{path}/AdditionalDeps",
            f"{path}/store",
            path,
        )
        return dict(zip(_DOTNET_SINGLE, values, strict=True))

    def defaults(self) -> dict[str, str]:
        """Variables set only when the container does not set them (a user's value wins)."""
        found: dict[str, str] = {}
        if self.sampler is not None:
            found["OTEL_TRACES_SAMPLER"] = self.sampler
        if self.sampler_arg is not None:
            found["OTEL_TRACES_SAMPLER_ARG"] = self.sampler_arg
        return found


def merged_value(
    name: str,
    existing: str | None,
    fragment: str,
    *,
    separator: str,
    first: bool,
    setting: str,
) -> str:
    """``existing`` extended by ``fragment``: unchanged when it already holds it (applying
    twice changes nothing), correct for a CDK token (the result is joined at deploy time).

    A variable the container reads from a secret cannot be extended at synth: refused.
    """
    if existing is None:
        raise fail(
            f"{setting}.{name}",
            "comes from a secret, so the agent cannot be added to it; set it as a plain "
            "variable or leave it to the instrumentation",
            "(a secret)",
        )
    if fragment in existing:
        return existing
    if existing == "":
        return fragment
    return f"{fragment}{separator}{existing}" if first else f"{existing}{separator}{fragment}"


def check_single(
    setting: str, existing: Mapping[str, str | None], ours: Mapping[str, str]
) -> dict[str, str]:
    """The agent-owned variables to set; one the container sets to another value is refused."""
    added: dict[str, str] = {}
    for name, value in ours.items():
        if name not in existing:
            added[name] = value
        elif existing[name] != value:
            given = existing[name] if existing[name] is not None else "(a secret)"
            raise fail(
                f"{setting}.{name}",
                f"the .NET agent sets it to {value!r} (one CoreCLR profiler per process); "
                "remove it from the container",
                given,
            )
    return added
