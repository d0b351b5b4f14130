"""Per-environment settings of the otel-fargate app, parsed once from ``cdk.json``.

``cdk.json`` holds an ``environments`` context: a mapping from environment name to its
settings. :func:`parse_environments` turns it into frozen :class:`EnvironmentSettings`,
failing with a message that names the key path and the value for anything malformed, so a
typo never deploys half an environment.

The modules: :mod:`~stacks.settings.environment` (one environment, parsing and selecting),
:mod:`~stacks.settings.network`, :mod:`~stacks.settings.gateway`,
:mod:`~stacks.settings.sampling` and :mod:`~stacks.settings.demo` (one section each), and
:mod:`~stacks.settings.reader` (typed values of one ``cdk.json`` mapping).
"""

from __future__ import annotations

from .demo import DEMO_APP_MIN_MEMORY_MIB, DEMO_WEB_MEMORY_MIB, DemoSettings
from .environment import (
    EnvironmentSettings,
    parse_environment,
    parse_environments,
    select_environments,
)
from .gateway import GatewaySettings, ImageSettings

__all__ = [
    "DEMO_APP_MIN_MEMORY_MIB",
    "DEMO_WEB_MEMORY_MIB",
    "DemoSettings",
    "EnvironmentSettings",
    "GatewaySettings",
    "ImageSettings",
    "parse_environment",
    "parse_environments",
    "select_environments",
]
