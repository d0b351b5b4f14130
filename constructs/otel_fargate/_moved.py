"""Module paths of otel-fargate 0.1, kept for one minor version after the 0.2 reorganisation.

``import otel_fargate.gateway_tls`` (or ``from otel_fargate.config.validate import ...``) still
works and returns the module at its new home, with a DeprecationWarning that names it. The
public names of :mod:`otel_fargate` and :mod:`otel_fargate.config` did not move.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType
from typing import Final

#: Old module path → new module path (both under ``otel_fargate.``). Removed in 0.3.
MOVED: Final[dict[str, str]] = {
    "app_wiring": "apps.wiring",
    "collector_options": "task.options",
    "container": "task.container",
    "ecs_secrets": "task.secrets",
    "fargate": "task.fargate",
    "firelens": "logs.firelens",
    "gateway_network": "gateway.network",
    "gateway_tls": "gateway.tls",
    "gateway_tokens": "gateway.tokens",
    "health": "task.health",
    "image": "task.image",
    "permissions": "task.permissions",
    "samplers": "sampling.construct",
    "scaling": "task.scaling",
    "synth_checks": "task.synth",
    "config.adopt": "config.rendering.adopt",
    "config.aliases": "config.model.aliases",
    "config.component_iam": "config.model.component_iam",
    "config.components": "config.model.components",
    "config.drain": "config.policy.drain",
    "config.durable": "config.rendering.durable",
    "config.durations": "config.core.durations",
    "config.fargate_limits": "config.model.fargate_limits",
    "config.guards": "config.policy.guards",
    "config.iam": "config.policy.iam",
    "config.known_keys": "config.model.known_keys",
    "config.layers": "config.core.layers",
    "config.log_groups": "config.core.log_groups",
    "config.option_checks": "config.options.checks",
    "config.policies": "config.sampling.policies",
    "config.presets": "config.rendering.presets",
    "config.processors": "config.model.processors",
    "config.secrets": "config.core.secrets",
    "config.sizing": "config.core.sizing",
    "config.spec": "config.options.spec",
    "config.tiers": "config.rendering.tiers",
    "config.tls": "config.options.tls",
    "config.validate": "config.policy.validate",
    "config.yamlio": "config.core.yamlio",
}

_PREFIX = "otel_fargate."


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old module path and loads the module from its new home, with a warning."""

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """A spec for an old path of :data:`MOVED`; None for every other module."""
        if not fullname.startswith(_PREFIX) or fullname[len(_PREFIX) :] not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        """The module at its new home."""
        new = _PREFIX + MOVED[spec.name[len(_PREFIX) :]]
        warnings.warn(
            f"{spec.name} moved to {new} in otel-fargate 0.2; the old path goes in 0.3 "
            f"(public names import from otel_fargate or otel_fargate.config)",
            DeprecationWarning,
            stacklevel=4,
        )
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the new module is already loaded."""


def install() -> None:
    """Let the old module paths import (once per interpreter)."""
    if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModuleFinder())
