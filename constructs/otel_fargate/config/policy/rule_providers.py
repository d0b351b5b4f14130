"""Rule: the collector reads its configuration from the task definition and nowhere else.

A ``${scheme:...}`` reference makes the collector fetch a value when it starts: ``env`` reads
the container's environment (what the constructs set and check), any other provider (``https``,
``s3``, ``yaml``, ``file``) brings configuration from elsewhere, which synth cannot check. Only
``env`` references are accepted (``${NAME}`` is the same). Text that looks like an unresolved
CDK token but is not one as the CDK writes it (``$${Token[...]}``, ``${Token[${env:X}]}``) is
refused outright, since the CDK leaves it in the template: the collector would
expand what it wraps and send it as a literal (a token in a URL path). No opt-out: pass values
through ``environment=`` or a ``SecretRef``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from otel_fargate.config.policy.context import GuardContext
from otel_fargate.config.policy.validate import iter_strings
from otel_fargate.errors import ConfigError

#: A CDK token as the CDK writes it (resolved in the template at synth); anything else that
#: mentions ``Token[`` is text that would reach the collector as it stands.
_CDK_TOKEN = re.compile(r"(?<!\$)\$\{Token\[[A-Za-z][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)*\.\d+\]\}")
_REFERENCE = re.compile(r"(?<!\$)\$\{(?P<body>[^}]*)\}?")
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*):")
_BARE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(:-.*)?$")


def check_providers(config: Mapping[str, Any], ctx: GuardContext) -> None:
    """Raise ConfigError for the first reference of ``config`` to a provider other than env."""
    for path, raw in iter_strings(config):
        text = _CDK_TOKEN.sub("", raw)
        if "Token[" in text:
            raise ConfigError(
                f"{ctx.layer}: {path}: holds an unresolved CDK token; a collector "
                f"configuration is text the collector reads, so the value behind it would be "
                f"expanded or sent as it stands. Pass the value through environment= or a "
                f"SecretRef and reference it as ${{env:NAME}}, got {raw!r}"
            )
        for match in _REFERENCE.finditer(text):
            body = match["body"]
            scheme = _SCHEME.match(body)
            if scheme is None and _BARE.fullmatch(body):
                continue
            if scheme is not None and scheme["scheme"] == "env":
                continue
            name = scheme["scheme"] if scheme is not None else "?"
            raise ConfigError(
                f"{ctx.layer}: {path}: ${{{body}}} makes the collector read configuration "
                f"through the {name!r} provider when it starts, which synth cannot check; "
                f"only ${{env:NAME}} is accepted (pass the value through environment= or a "
                f"SecretRef), got {raw!r}"
            )
