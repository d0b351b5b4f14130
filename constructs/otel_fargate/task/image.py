"""Where the collector container image comes from.

Three sources:

* :meth:`CollectorImage.bundled` (default): the pinned contrib collector plus the ``/healthcheck``
  probe, built from the Dockerfile that ships with this library as a CDK Docker image asset
  (built and pushed by ``cdk deploy``; synth only fingerprints the build context).
* :meth:`CollectorImage.slim`: the same Dockerfile's ``slim`` target, a ``FROM scratch`` collector
  built with the OpenTelemetry Collector Builder from ``docker/builder-config.yaml``, holding only
  the components the presets use.
* :meth:`CollectorImage.from_registry`: any image the user names. Such an image carries no probe
  unless the user says where it is.

Each image knows its components (:attr:`CollectorImage.components`), and synth refuses a
configuration naming a component type the image lacks: the slim manifest's, the contrib
release's, or what a registry image declares (nothing is checked when it declares nothing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from aws_cdk import IgnoreMode, Stack
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from otel_fargate.config.model.components import (
    DOCKERFILE,
    ComponentSet,
    build_context_dir,
    contrib_components,
    slim_components,
)
from otel_fargate.errors import OtelFargateError
from otel_fargate.names import BUNDLED_PROBE_PATH
from otel_fargate.versions import COLLECTOR_VERSION

ImageKind = Literal["asset", "registry"]
ProbeStyle = Literal["url", "port"]

#: The collector binaries of the bundled (contrib) and slim images.
CONTRIB_COLLECTOR_PATH = "/otelcol-contrib"
SLIM_COLLECTOR_PATH = "/otelcol-otel-fargate"
#: AWS Distro for OpenTelemetry's collector image, in the public ECR gallery.
ADOT_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector"


@dataclass(frozen=True)
class BoundImage:
    """An image ready for a container definition."""

    container_image: ecs.ContainerImage
    #: Path of the health probe inside the image; ``None`` when the image has none.
    probe_path: str | None
    #: How the probe is told where to look: ``url`` (``--url``/``--timeout``, this library's
    #: probe) or ``port`` (``--port``, the probe of AWS's distribution, ADOT).
    probe_style: ProbeStyle = "url"
    #: Path of the collector binary when the image also carries ``/supervisor``, which then
    #: runs it and drains it on stop; ``None``: the collector runs alone.
    supervised_collector: str | None = None


def cpu_architecture_of(task_definition: ecs.TaskDefinition) -> str:
    """``ARM64`` or ``X86_64``: the CPU architecture the task definition's tasks run on.

    Read from the rendered task definition, because jsii gives a new proxy object for every
    ``CpuArchitecture`` access and such objects cannot be compared.
    """
    resource = task_definition.node.default_child
    platform = getattr(resource, "runtime_platform", None)
    if platform is None:
        return "X86_64"
    resolved = Stack.of(task_definition).resolve(platform)
    architecture = resolved.get("cpuArchitecture") if isinstance(resolved, dict) else None
    return architecture if isinstance(architecture, str) else "X86_64"


def asset_image(
    scope: Construct,
    construct_id: str,
    *,
    task_definition: ecs.TaskDefinition,
    file: str,
    build_args: Mapping[str, str],
    target: str | None = None,
) -> ecs.ContainerImage:
    """An image built on deploy from ``file`` in the library's build context, for the CPU
    architecture of ``task_definition``'s tasks.
    """
    arm = cpu_architecture_of(task_definition) == "ARM64"
    asset = ecr_assets.DockerImageAsset(
        scope,
        construct_id,
        directory=str(build_context_dir()),
        file=file,
        target=target,
        platform=ecr_assets.Platform.LINUX_ARM64 if arm else ecr_assets.Platform.LINUX_AMD64,
        build_args=dict(build_args),
        ignore_mode=IgnoreMode.DOCKER,
    )
    return ecs.ContainerImage.from_docker_image_asset(asset)


class CollectorImage:
    """The collector container image. Create one with a class method."""

    def __init__(
        self,
        *,
        kind: ImageKind,
        target: str | None = None,
        name: str | None = None,
        probe_path: str | None = None,
        components: ComponentSet | None = None,
        probe_style: ProbeStyle = "url",
    ) -> None:
        self._kind = kind
        self._probe_style = probe_style
        self._target = target
        self._name = name
        self._probe_path = probe_path
        self._components = components

    @classmethod
    def bundled(cls) -> CollectorImage:
        """The pinned contrib collector with the ``/healthcheck`` probe, built on deploy."""
        return cls(kind="asset", target="contrib", probe_path=BUNDLED_PROBE_PATH)

    @classmethod
    def slim(cls) -> CollectorImage:
        """A ``FROM scratch`` collector with only the components the presets use, plus the probe."""
        return cls(kind="asset", target="slim", probe_path=BUNDLED_PROBE_PATH)

    @classmethod
    def from_registry(
        cls,
        name: str,
        *,
        probe_path: str | None = None,
        components: ComponentSet | Mapping[str, Iterable[str]] | None = None,
    ) -> CollectorImage:
        """An image from a registry.

        :param name: the image reference, e.g.
            ``123456789012.dkr.ecr.eu-west-1.amazonaws.com/otel:1``.
        :param probe_path: path of an HTTP health probe inside the image that accepts the flags of
            this library's probe (``--url``, ``--timeout``). Default: the image has no probe, and a
            collector using it must switch health checks off explicitly.
        :param components: the component types the image's collector was built with, by kind
            (``{"receivers": ["otlp"], "processors": ["batch", "memory_limiter"], ...}``, as its
            ``components`` command lists them); a kind left out has none. Synth then refuses a
            configuration naming any other type. Default: unknown, not checked.
        """
        if not isinstance(name, str) or not name.strip() or any(c.isspace() for c in name):
            raise OtelFargateError(f"image.name: must be an image reference, got {name!r}")
        if probe_path is not None and not probe_path.startswith("/"):
            raise OtelFargateError(
                f"image.probe_path: must be an absolute path inside the image, got {probe_path!r}"
            )
        declared = None if components is None else ComponentSet.declared(components)
        return cls(kind="registry", name=name, probe_path=probe_path, components=declared)

    @classmethod
    def adot(cls, version: str) -> CollectorImage:
        """AWS Distro for OpenTelemetry's collector image at ``version`` (``v0.49.0``), with
        its own probe (``/healthcheck --port <health port>``), for teams moving from ADOT.

        The collector in it is AWS's build, not the pinned contrib release: its components
        are not checked at synth, and its queues stay in memory.
        """
        if not isinstance(version, str) or not re.fullmatch(r"v?\d+\.\d+\.\d+", version):
            raise OtelFargateError(
                f"image.version: must be an ADOT release such as v0.49.0, got {version!r}"
            )
        tag = version if version.startswith("v") else f"v{version}"
        return cls(
            kind="registry",
            name=f"{ADOT_IMAGE}:{tag}",
            probe_path="/healthcheck",
            probe_style="port",
        )

    @property
    def creates_queue_directory(self) -> bool:
        """True for the bundled and slim images, which create the persistent queues'
        directory for the collector's user.
        """
        return self._kind == "asset"

    @property
    def probe_path(self) -> str | None:
        """Path of the health probe inside the image, or ``None`` when it has none."""
        return self._probe_path

    @property
    def components(self) -> ComponentSet | None:
        """The component types the image has, or ``None`` when they are unknown (a registry
        image that declares none).
        """
        if self._kind == "registry":
            return self._components
        return slim_components() if self._target == "slim" else contrib_components()

    @property
    def description(self) -> str:
        """A short human description, used in error messages."""
        if self._kind == "registry":
            return f"registry image {self._name}"
        return f"bundled {self._target} image (collector {COLLECTOR_VERSION})"

    def bind(self, scope: Construct, *, task_definition: ecs.TaskDefinition) -> BoundImage:
        """Create what the image needs under ``scope``: for bundled images an asset built for
        the task definition's CPU architecture.
        """
        if self._kind == "registry":
            assert self._name is not None
            return BoundImage(
                ecs.ContainerImage.from_registry(self._name), self._probe_path, self._probe_style
            )
        image = asset_image(
            scope,
            "Image",
            task_definition=task_definition,
            file=DOCKERFILE,
            target=self._target,
            build_args={"COLLECTOR_VERSION": COLLECTOR_VERSION},
        )
        collector = SLIM_COLLECTOR_PATH if self._target == "slim" else CONTRIB_COLLECTOR_PATH
        return BoundImage(image, self._probe_path, supervised_collector=collector)
