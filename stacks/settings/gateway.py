"""The ``gateway`` section of an environment: the gateway service, its image and exporters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from otel_fargate import ConfigError, EnvironmentConfigError, SamplingTier
from otel_fargate.config import Exporter, exporters_from_spec

from .reader import Reader, check_task_size
from .sampling import parse_sampling


@dataclass(frozen=True)
class ImageSettings:
    """Which collector image an environment runs."""

    #: ``bundled`` (contrib + probe), ``slim`` (builder image) or ``registry``.
    kind: str = "bundled"
    #: The image reference when ``kind`` is ``registry``.
    name: str | None = None
    #: Probe path inside a registry image; ``None`` means it has none.
    probe_path: str | None = None


@dataclass(frozen=True)
class GatewaySettings:
    """The gateway service of an environment."""

    cpu: int = 512
    memory_mib: int = 1024
    desired_count: int = 2
    min_capacity: int = 2
    max_capacity: int = 4
    cpu_architecture: str = "X86_64"
    internal_nlb: bool = False
    image: ImageSettings = ImageSettings()
    #: The gateway's exporters, parsed from the ``exporters`` object of cdk.json (the form
    #: :func:`otel_fargate.config.exporters_from_spec` reads).
    exporters: tuple[Exporter, ...] = ()
    #: The sampling tier (cdk.json ``sampling``), or None: the gateway exports traces itself.
    sampling: SamplingTier | None = None


def _parse_image(reader: Reader | None) -> ImageSettings:
    if reader is None:
        return ImageSettings()
    kind = reader.choice("kind", "bundled", ("bundled", "slim", "registry"))
    name = reader.string("name", None)
    probe_path = reader.string("probe_path", None)
    reader.finish()
    if kind == "registry" and not name:
        raise EnvironmentConfigError(f"{reader.path}.name: required when kind is 'registry'")
    if kind != "registry" and name is not None:
        raise EnvironmentConfigError(
            f"{reader.path}.name: only used when kind is 'registry', "
            f"got {name!r} with kind {kind!r}"
        )
    return ImageSettings(kind=kind, name=name, probe_path=probe_path)


def parse_gateway(path: str, reader: Reader | None) -> GatewaySettings:
    """The required ``gateway`` section of environment ``path``."""
    if reader is None:
        raise EnvironmentConfigError(
            f"{path}.gateway: required (it names at least the gateway's exporters), got nothing"
        )
    d = GatewaySettings()
    cpu = reader.integer("cpu", d.cpu, low=256, high=16384)
    memory = reader.integer("memory_mib", d.memory_mib, low=512, high=122880)
    desired = reader.integer("desired_count", d.desired_count, low=1, high=100)
    low = reader.integer("min_capacity", d.min_capacity, low=1, high=100)
    high = reader.integer("max_capacity", d.max_capacity, low=1, high=100)
    settings = GatewaySettings(
        cpu=cpu,
        memory_mib=memory,
        desired_count=desired,
        min_capacity=low,
        max_capacity=high,
        cpu_architecture=reader.choice("cpu_architecture", d.cpu_architecture, ("X86_64", "ARM64")),
        internal_nlb=reader.boolean("internal_nlb", d.internal_nlb),
        image=_parse_image(reader.child("image")),
        exporters=_parse_exporters(reader.path, reader.mapping("exporters")),
        sampling=parse_sampling(reader.child("sampling")),
    )
    reader.finish()
    check_task_size(reader.path, cpu, memory)
    if low > high:
        raise EnvironmentConfigError(
            f"{reader.path}.min_capacity: must not exceed max_capacity ({high}), got {low}"
        )
    if not low <= desired <= high:
        raise EnvironmentConfigError(
            f"{reader.path}.desired_count: must lie within min_capacity..max_capacity "
            f"({low}..{high}), got {desired}"
        )
    return settings


def _parse_exporters(
    path: str, spec: Mapping[str, Mapping[str, Any]] | None
) -> tuple[Exporter, ...]:
    if not spec:
        raise EnvironmentConfigError(
            f"{path}.exporters: the gateway needs at least one exporter, got {spec!r}"
        )
    try:
        return exporters_from_spec(spec)
    except ConfigError as err:
        # the spec parser names paths from "exporters."; put the environment in front
        raise EnvironmentConfigError(f"{path}.{err}") from err
