#!/usr/bin/env python3
"""The otel-fargate app: one set of stacks per environment in ``cdk.json``.

``cdk synth -c env=dev`` builds one environment; without ``env`` every environment is built.
Synth is offline: nothing is looked up unless an environment names an account and a VPC id.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Before aws_cdk starts its Node.js runtime: Node 20 is past jsii's support window, and the
# value names the major version whose warning is silenced.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks import build_environment
from stacks.settings import parse_environments, select_environments

CDK_JSON = Path(__file__).resolve().parent / "cdk.json"


def load_cdk_json_context() -> dict[str, Any]:
    """The ``context`` of this app's cdk.json."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text(encoding="utf-8")).get("context", {})
    return context


def build_app(*, context: Mapping[str, Any] | None = None, outdir: str | None = None) -> cdk.App:
    """Create the app with its stacks and the cdk-nag AWS Solutions checks."""
    # cdk.json's context (feature flags, environments) also applies when the app runs without
    # the CDK CLI; context given here, or by the CLI (-c key=value), takes precedence.
    app = cdk.App(
        context={**load_cdk_json_context(), **(context if context is not None else {})},
        outdir=outdir if outdir is not None else os.environ.get("CDK_OUTDIR", "cdk.out"),
    )
    environments = parse_environments(app.node.try_get_context("environments"))
    for settings in select_environments(environments, app.node.try_get_context("env")):
        build_environment(app, settings)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


if __name__ == "__main__":
    build_app().synth()
