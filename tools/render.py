"""The collector configurations an environment of this app runs, rendered from ``cdk.json``.

Builds the environment's stacks in memory (no synth, no AWS calls), so what it returns is
exactly what synth puts in the task definitions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from otel_fargate import EnvironmentConfigError, RenderedConfig

from stacks import build_environment
from stacks.settings import EnvironmentSettings, parse_environments

if TYPE_CHECKING:
    import aws_cdk as cdk

#: This repository's root, where ``cdk.json`` lives.
REPO_ROOT = Path(__file__).resolve().parent.parent


def load_environments(cdk_json_path: str | Path) -> dict[str, EnvironmentSettings]:
    """Read ``cdk.json`` and parse its ``environments`` context."""
    path = Path(cdk_json_path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise EnvironmentConfigError(f"cdk.json: not found at {path}") from err
    except json.JSONDecodeError as err:
        raise EnvironmentConfigError(f"cdk.json: not valid JSON ({err})") from err
    return parse_environments(document.get("context", {}).get("environments"))


def build_app(settings: EnvironmentSettings) -> cdk.App:
    """An app holding the stacks of one environment, built in memory (not synthesized)."""
    import aws_cdk as cdk

    app = cdk.App(outdir=None)
    build_environment(app, settings)
    return app


def render_environment(settings: EnvironmentSettings) -> dict[str, RenderedConfig]:
    """Every collector configuration of one environment, by construct path (for example
    ``otel-fargate-dev-gateway/Gateway``)."""
    app = build_app(settings)
    rendered: dict[str, RenderedConfig] = {}
    for node in app.node.find_all():
        config = getattr(node, "rendered_config", None)
        if isinstance(config, RenderedConfig):
            rendered[node.node.path] = config
    return rendered
