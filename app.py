#!/usr/bin/env python3
"""The otel-fargate app: one set of stacks per environment in ``cdk.json``.

``cdk synth -c env=dev`` builds one environment; without ``env`` every environment is built.
Synth is offline: nothing is looked up unless an environment names an account and a VPC id.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from otel_fargate.environments import parse_environments, select_environments

from stacks import build_environment


def build_app(*, context: Mapping[str, Any] | None = None, outdir: str | None = None) -> cdk.App:
    """Create the app with its stacks and the cdk-nag AWS Solutions checks."""
    app = cdk.App(
        context=dict(context) if context is not None else None,
        outdir=outdir if outdir is not None else os.environ.get("CDK_OUTDIR", "cdk.out"),
    )
    environments = parse_environments(app.node.try_get_context("environments"))
    for settings in select_environments(environments, app.node.try_get_context("env")):
        build_environment(app, settings)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


if __name__ == "__main__":
    build_app().synth()
