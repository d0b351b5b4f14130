"""The library as users get it: the `constructs` name, the wheel, and an app outside the repo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, Synthesized

OUTSIDE_APP = Path(__file__).parent / "outside_app" / "app.py"


def test_constructs_dir_is_not_a_package_and_does_not_shadow_the_dependency() -> None:
    # GIVEN the repository's source root named constructs/ on sys.path (as in tests)
    assert not (REPO_ROOT / "constructs" / "__init__.py").exists()
    import constructs

    # THEN `import constructs` is still the aws-cdk dependency, not the source folder
    assert constructs.__file__ is not None
    assert "site-packages" in constructs.__file__
    assert hasattr(constructs, "Construct")


def test_image_asset_holds_only_the_build_context(synthesized: Synthesized) -> None:
    # GIVEN the app synthesized from the repository (with .venv, node_modules, .git around)
    manifest = json.loads((synthesized.outdir / "otel-fargate-dev-gateway.assets.json").read_text())
    images = manifest["dockerImages"]
    assert images
    for image in images.values():
        staged = synthesized.outdir / image["source"]["directory"]
        # THEN the asset (and so its hash) holds the build context and nothing else
        assert sorted(p.name for p in staged.iterdir()) == [
            ".dockerignore", "docker", "healthcheck", "supervisor"
        ]
        assert not list(staged.rglob("*_test.go"))


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(outdir), str(REPO_ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = outdir.glob("otel_fargate-*.whl")
    return built


@pytest.mark.slow
def test_wheel_carries_the_library_and_the_docker_build_context(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "otel_fargate/__init__.py" in names
    assert "otel_fargate/config/__init__.py" in names
    assert "otel_fargate/_context/docker/Dockerfile" in names
    assert "otel_fargate/_context/docker/builder-config.yaml" in names
    assert "otel_fargate/_context/healthcheck/main.go" in names
    assert "otel_fargate/_context/.dockerignore" in names
    assert not any(n.startswith("constructs/") or "/.venv/" in n or "cdk.out" in n for n in names)
    assert "otel_fargate/config/model/upstream_keys.json" in names
    # the library ships no command: the operations tools live in the repository (tools/)
    assert not any(n.endswith("entry_points.txt") for n in names)
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    requires = [
        line for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    assert requires and not any("boto3" in line for line in requires), requires
    assert not any(n.startswith(("otel_fargate/cli", "otel_fargate/verify")) for n in names)


@pytest.mark.slow
def test_outside_app_synthesizes_with_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    # GIVEN a fresh virtual environment with only the wheel and its dependencies
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True,
        capture_output=True,
    )
    # AND an app in a directory outside the repository
    app_dir = tmp_path / "outside"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(OUTSIDE_APP.read_text())
    env = {**os.environ, "CDK_OUTDIR": str(app_dir / "cdk.out")}
    env.pop("PYTHONPATH", None)
    # WHEN it is synthesized
    result = subprocess.run(
        [str(python), "app.py"], cwd=app_dir, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # THEN the collector image is an asset built from the wheel's own build context
    manifest = json.loads((app_dir / "cdk.out" / "OutsideApp.assets.json").read_text())
    (image,) = {json.dumps(i["source"], sort_keys=True) for i in manifest["dockerImages"].values()}
    source = json.loads(image)
    assert source["dockerFile"] == "docker/Dockerfile"
    staged = app_dir / "cdk.out" / source["directory"]
    assert (staged / "docker" / "Dockerfile").is_file()
    assert (staged / "healthcheck" / "main.go").is_file()
    # AND the library came from the wheel, not from this repository
    where = subprocess.run(
        [str(python), "-c", "import otel_fargate; print(otel_fargate.__file__)"],
        cwd=app_dir, env=env, capture_output=True, text=True, check=True,
    ).stdout
    assert str(env_dir) in where and str(REPO_ROOT) not in where
