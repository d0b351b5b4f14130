#!/usr/bin/env python3
"""Build the pinned OpenTelemetry Collector and telemetrygen for the tests, and check pins.

Usage::

    python tools/collector.py build           # prints the path of the collector binary
    python tools/collector.py build-ecs       # the tests' ECS collector, its own manifest
    python tools/collector.py telemetrygen    # prints the path of the telemetrygen binary
    python tools/collector.py check-versions  # exits 1 when a pinned version drifted

``build`` installs the OpenTelemetry Collector Builder (ocb) at ``COLLECTOR_VERSION`` and builds
``docker/builder-config.yaml`` with it. Binaries are cached under ``$OTEL_FARGATE_CACHE``
(default: ``~/.cache/otel-fargate``) in a folder named after the SHA-256 of the manifest that was
built and the version, so a second run returns at once and an edited manifest builds anew.
Progress goes to stderr; stdout carries only the binary's path.

Needs a Go toolchain on ``PATH`` (or in ``$GO``) and the Go module proxy. Python standard
library only, so it runs before any virtual environment exists.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
VERSIONS_FILE = Path("constructs/otel_fargate/versions.py")
MANIFEST_FILE = Path("docker/builder-config.yaml")
ECS_TEST_MANIFEST_FILE = Path("docker/test-ecs-manifest.yaml")
DOCKERFILE = Path("docker/Dockerfile")

BUILDER_MODULE = "go.opentelemetry.io/collector/cmd/builder"
TELEMETRYGEN_MODULE = "github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen"
CORE_PREFIX = "go.opentelemetry.io/collector/"
CONTRIB_PREFIX = "github.com/open-telemetry/opentelemetry-collector-contrib/"

#: Collector core releases its stable modules (v1.x) in lockstep with the v0.x modules:
#: v0.<N> ships together with v1.<N - STABLE_MINOR_OFFSET> (v0.158.0 with v1.64.0).
STABLE_MINOR_OFFSET = 94

#: telemetrygen is a load generator for the tests, not part of the image, so it is pinned on its
#: own: the module proxy the development machines reach does not serve ``cmd/telemetrygen`` at
#: v0.158.0 (its go.mod has no checksum database entry there). v0.161.0 is the newest release it
#: serves whole (v0.162.0 lacks that entry too, later releases are refused) and speaks the same
#: OTLP; it needs Go 1.26.
TELEMETRYGEN_VERSION = "0.161.0"

#: Components of the manifest left out of the collector built for the tests, because the module
#: proxy the development machines and CI reach does not serve these modules (or modules they
#: need) at the pinned version. The image build (docker/Dockerfile) uses the whole manifest.
#: Override with ``--exclude`` or ``$OTEL_FARGATE_COLLECTOR_EXCLUDE`` (comma-separated module
#: paths; an empty value builds every component).
LOCAL_EXCLUDE: tuple[str, ...] = (
    CONTRIB_PREFIX + "exporter/awsxrayexporter",
    CONTRIB_PREFIX + "exporter/awsemfexporter",
    CONTRIB_PREFIX + "exporter/awscloudwatchlogsexporter",
    CONTRIB_PREFIX + "extension/sigv4authextension",
    CONTRIB_PREFIX + "extension/pprofextension",
    # Not served at v0.158.0: extension/observer/ecsobserver and receiver/receivercreator
    # themselves (404); receiver/awsecscontainermetricsreceiver has no checksum database entry
    # for its go.mod at v0.158.0. All three are served at v0.161.0.
    CONTRIB_PREFIX + "receiver/awsecscontainermetricsreceiver",
    CONTRIB_PREFIX + "extension/observer/ecsobserver",
    CONTRIB_PREFIX + "receiver/receivercreator",
    # Not served at v0.158.0: extension/awsproxy itself (404); receiver/awsxrayreceiver needs
    # internal/aws/xray and internal/aws/awsutil, whose module zips are refused (403).
    CONTRIB_PREFIX + "receiver/awsxrayreceiver",
    CONTRIB_PREFIX + "extension/awsproxy",
)

_GOMOD_LINE = re.compile(
    r"^(?P<indent>\s*)(?:-\s+)?gomod:\s*(?P<module>\S+)\s+(?P<version>\S+)\s*$"
)
_DIST_VERSION = re.compile(r"^\s+version:\s*\"?(?P<version>[^\s\"]+)\"?\s*$")
_DIST_NAME = re.compile(r"^\s+name:\s*\"?(?P<name>[^\s\"]+)\"?\s*$")
_ARG_LINE = re.compile(r"^\s*ARG\s+COLLECTOR_VERSION=(?P<version>\S+)\s*$", re.MULTILINE)


class CollectorBuildError(RuntimeError):
    """A tool is missing, or ocb or ``go install`` failed; the message says which and why."""


def _log(message: str) -> None:
    print(f"collector.py: {message}", file=sys.stderr, flush=True)


def collector_version(root: Path = REPO_ROOT) -> str:
    """COLLECTOR_VERSION as constructs/otel_fargate/versions.py pins it (read, not imported)."""
    path = root / VERSIONS_FILE
    spec = importlib.util.spec_from_file_location("_otel_fargate_versions", path)
    if spec is None or spec.loader is None:
        raise CollectorBuildError(f"{path}: cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    version = getattr(module, "COLLECTOR_VERSION", None)
    if not isinstance(version, str) or not re.fullmatch(r"0\.\d+\.\d+", version):
        raise CollectorBuildError(
            f"{path}: COLLECTOR_VERSION must be a string like '0.158.0', got {version!r}"
        )
    return version


def stable_version(version: str) -> str:
    """The v1.x version of collector core's stable modules released with v0.x ``version``."""
    _, minor, patch = version.split(".")
    return f"1.{int(minor) - STABLE_MINOR_OFFSET}.{patch}"


@dataclass(frozen=True)
class Manifest:
    """What tools/collector.py needs from an ocb manifest, parsed without a YAML library."""

    text: str
    name: str
    version: str
    modules: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str) -> Manifest:
        name: str | None = None
        version: str | None = None
        modules: list[tuple[str, str]] = []
        in_dist = False
        for line in text.splitlines():
            if line and not line[0].isspace() and not line.startswith("#"):
                in_dist = line.rstrip() == "dist:"
                continue
            if in_dist and (match := _DIST_NAME.match(line)):
                name = match["name"]
            elif in_dist and (match := _DIST_VERSION.match(line)):
                version = match["version"]
            elif match := _GOMOD_LINE.match(line):
                modules.append((match["module"], match["version"]))
        if name is None or version is None:
            raise CollectorBuildError(
                f"builder manifest: dist.name and dist.version are required, got "
                f"name={name!r} version={version!r}"
            )
        return cls(text=text, name=name, version=version, modules=tuple(modules))

    def without(self, excluded: Sequence[str]) -> Manifest:
        """The manifest with the components whose module path is in ``excluded`` removed."""
        kept = []
        for line in self.text.splitlines(keepends=True):
            match = _GOMOD_LINE.match(line.rstrip("\n"))
            if match and match["module"] in excluded and line.lstrip().startswith("-"):
                continue
            kept.append(line)
        return Manifest.parse("".join(kept))


def check_versions(root: Path = REPO_ROOT) -> list[str]:
    """Every place that repeats COLLECTOR_VERSION; one message per drifted copy, [] when none.

    Checked: the ARG default of docker/Dockerfile (required) and of any other Dockerfile in
    docker/ that declares one, dist.version of the builder manifest and the version of every
    collector core and contrib module it lists.
    """
    version = collector_version(root)
    problems: list[str] = []
    dockerfile = (root / DOCKERFILE).read_text()
    args = _ARG_LINE.findall(dockerfile)
    if args != [version]:
        problems.append(
            f"{DOCKERFILE}: ARG COLLECTOR_VERSION default must be {version} "
            f"(versions.py), got {args}"
        )
    for other in sorted((root / DOCKERFILE.parent).glob("*Dockerfile*")):
        if other.name == DOCKERFILE.name or other.name.endswith(".dockerignore"):
            continue
        drifted = [found for found in _ARG_LINE.findall(other.read_text()) if found != version]
        if drifted:
            relative = other.relative_to(root)
            problems.append(
                f"{relative}: ARG COLLECTOR_VERSION default must be {version} "
                f"(versions.py), got {drifted}"
            )
    manifest = Manifest.parse((root / MANIFEST_FILE).read_text())
    if manifest.version != version:
        problems.append(f"{MANIFEST_FILE}: dist.version must be {version}, got {manifest.version}")
    stable = stable_version(version)
    for module, module_version in manifest.modules:
        if not module.startswith((CORE_PREFIX, CONTRIB_PREFIX)):
            continue
        expected = {f"v{version}", f"v{stable}"}
        if module_version not in expected:
            problems.append(
                f"{MANIFEST_FILE}: {module} must be at v{version} (or v{stable} for core's "
                f"stable modules), got {module_version}"
            )
    return problems


def cache_root() -> Path:
    """``$OTEL_FARGATE_CACHE``, or ``~/.cache/otel-fargate`` when it is unset or empty."""
    configured = os.environ.get("OTEL_FARGATE_CACHE")
    root = Path(configured) if configured is not None and configured != "" else None
    return root if root is not None else Path.home() / ".cache" / "otel-fargate"


def _go() -> str:
    configured = os.environ.get("GO")
    go = shutil.which(configured if configured is not None else "go")
    if go is None:
        raise CollectorBuildError(
            "go: no Go toolchain on PATH (or $GO); install Go 1.26 or newer to build the collector"
        )
    return go


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise builds of the same artefact across processes (pytest-xdist workers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command: Sequence[str], *, cwd: Path, env: dict[str, str]) -> None:
    """Run ``command``, relaying its output to stderr line by line; raise when it fails."""
    _log("$ " + " ".join(command))
    with subprocess.Popen(
        list(command),
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        assert process.stdout is not None
        tail: list[str] = []
        for line in process.stdout:
            sys.stderr.write(line)
            tail = [*tail[-39:], line]
        code = process.wait()
    if code != 0:
        raise CollectorBuildError(
            f"{command[0]} exited with {code}: {' '.join(command)}\n{''.join(tail)}"
        )


def _go_install(module: str, version: str, destination: Path, binary: str) -> Path:
    """``go install module@vversion`` into ``destination`` (atomically); return the binary."""
    target = destination / binary
    with _locked(destination.with_name(destination.name + ".lock")):
        if target.is_file() and os.access(target, os.X_OK):
            return target
        go = _go()
        staging = Path(tempfile.mkdtemp(prefix=destination.name + ".tmp-", dir=destination.parent))
        try:
            env = {**os.environ, "GOBIN": str(staging), "CGO_ENABLED": "0"}
            _run([go, "install", f"{module}@v{version}"], cwd=staging, env=env)
            if destination.exists():
                shutil.rmtree(destination)
            staging.rename(destination)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def install_builder(version: str) -> Path:
    """ocb at ``version``, installed once into the cache."""
    return _go_install(BUILDER_MODULE, version, cache_root() / f"ocb-v{version}", "builder")


def _excluded_from_env() -> tuple[str, ...]:
    configured = os.environ.get("OTEL_FARGATE_COLLECTOR_EXCLUDE")
    if configured is None:
        return LOCAL_EXCLUDE
    return tuple(part.strip() for part in configured.split(",") if part.strip())


def build_collector(*, root: Path = REPO_ROOT, exclude: Sequence[str] | None = None) -> Path:
    """Build (or reuse from the cache) the collector of docker/builder-config.yaml.

    ``exclude``: module paths of components to leave out; default: ``LOCAL_EXCLUDE``, or
    ``$OTEL_FARGATE_COLLECTOR_EXCLUDE`` when set.
    """
    version = collector_version(root)
    excluded = tuple(exclude) if exclude is not None else _excluded_from_env()
    manifest = Manifest.parse((root / MANIFEST_FILE).read_text()).without(excluded)
    if excluded:
        _log("left out of this build: " + ", ".join(sorted(excluded)))
    return _build_manifest(manifest, version)


def build_ecs_test_collector(*, root: Path = REPO_ROOT) -> Path:
    """Build (or reuse) the tests' ECS collector of docker/test-ecs-manifest.yaml, whole.

    It is built by ocb at its own ``dist.version``, not at ``COLLECTOR_VERSION``: it carries the
    ECS-native metrics components at a release the module proxy serves them at.
    """
    manifest = Manifest.parse((root / ECS_TEST_MANIFEST_FILE).read_text())
    return _build_manifest(manifest, manifest.version)


def _build_manifest(manifest: Manifest, version: str) -> Path:
    """The binary of ``manifest`` built by ocb ``version``, cached by the manifest's hash."""
    digest = hashlib.sha256(f"{manifest.text}\n{version}".encode()).hexdigest()
    destination = cache_root() / f"otelcol-{digest[:16]}"
    binary = destination / manifest.name
    with _locked(destination.with_name(destination.name + ".lock")):
        if binary.is_file() and os.access(binary, os.X_OK):
            _log(f"cached: {binary}")
            return binary
        builder = install_builder(version)
        work = Path(tempfile.mkdtemp(prefix=destination.name + ".work-", dir=destination.parent))
        try:
            (work / "builder-config.yaml").write_text(manifest.text)
            env = {**os.environ, "CGO_ENABLED": "0"}
            go = _go()
            env["PATH"] = str(Path(go).parent) + os.pathsep + env.get("PATH", "")
            _run([str(builder), "--config=builder-config.yaml"], cwd=work, env=env)
            built = work / "_build" / manifest.name
            if not built.is_file():
                raise CollectorBuildError(f"ocb finished but {built} does not exist")
            staging = work / "result"
            staging.mkdir()
            shutil.copy2(built, staging / manifest.name)
            (staging / "builder-config.yaml").write_text(manifest.text)
            if destination.exists():
                shutil.rmtree(destination)
            staging.rename(destination)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    _log(f"built: {binary}")
    return binary


def build_telemetrygen() -> Path:
    """telemetrygen at ``TELEMETRYGEN_VERSION``, installed once into the cache."""
    return _go_install(
        TELEMETRYGEN_MODULE,
        TELEMETRYGEN_VERSION,
        cache_root() / f"telemetrygen-v{TELEMETRYGEN_VERSION}",
        "telemetrygen",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the collector; print its path")
    build.add_argument(
        "--exclude",
        action="append",
        metavar="MODULE",
        help="leave out the component with this module path (repeatable); "
        "default: LOCAL_EXCLUDE, or $OTEL_FARGATE_COLLECTOR_EXCLUDE when set",
    )
    build.add_argument("--all", action="store_true", help="build every component of the manifest")
    commands.add_parser("build-ecs", help="build the tests' ECS collector; print its path")
    commands.add_parser("telemetrygen", help="install telemetrygen; print its path")
    commands.add_parser("check-versions", help="fail when a copy of COLLECTOR_VERSION drifted")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            exclude: Sequence[str] | None = [] if args.all else args.exclude
            print(build_collector(exclude=exclude))
        elif args.command == "build-ecs":
            print(build_ecs_test_collector())
        elif args.command == "telemetrygen":
            print(build_telemetrygen())
        else:
            problems = check_versions()
            for problem in problems:
                print(f"error: {problem}", file=sys.stderr)
            return 1 if problems else 0
    except CollectorBuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
