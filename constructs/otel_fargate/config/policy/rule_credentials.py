"""Rule: credentials come from ECS secrets, and a secret goes nowhere but a credential field.

The model names each component's opaque settings (``configopaque``: tokens, passwords, client
secrets, ``key_pem``) and header maps; beyond the model, settings named like credentials
(``password``, ``client_secret``, ``htpasswd.inline``, ...) and headers named like them
(``authorization``, ``api-key``, ``x-*-key|token|team``) count too. Each must be ``${env:NAME}``
(after an auth scheme such as ``Bearer`` for a header) where ``NAME`` is not a plain environment
variable, so the value reaches the container through an ECS secret (``SecretRef``) and never
through the template. A secret's variable anywhere else (an endpoint, a namespace, a URL path)
would put the secret where it is logged or sent: refused too. No opt-out: ``SecretRef`` is the
way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from otel_fargate.config.policy.context import GuardContext
from otel_fargate.config.policy.validate import iter_strings
from otel_fargate.config.policy.walker import walk
from otel_fargate.errors import ConfigError

_REF = re.compile(r"(?<!\$)\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}")
_ONLY_REF = re.compile(r"^\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)\}$")
_SCHEME = re.compile(r"^(?:[A-Za-z][A-Za-z0-9_-]*\s+)?$")
#: Setting names that hold credentials wherever they appear.
CREDENTIAL_KEYS = frozenset(
    {
        "password",
        "client_secret",
        "secret",
        "secret_key",
        "secret_access_key",
        "token",
        "api_key",
        "apikey",
        "access_token",
        "bearer_token",
        "auth_token",
        "private_key",
        "key_pem",
    }
)
#: Settings that name an identity: a secret may fill them (teams keep client ids secret too).
IDENTITY_KEYS = frozenset({"client_id", "username", "user"})
_CREDENTIAL_HEADER = re.compile(
    r"^(?:authorization|proxy-authorization|api[-_]?key|x-api[-_]?key|x-.*-(?:key|token|team)"
    r"|.*(?:secret|password|token))$",
    re.IGNORECASE,
)
_WAY_OUT = "write ${env:NAME} and give NAME as a SecretRef (secrets=, or the exporter's own)"


def _masked(value: object) -> str:
    text = str(value)
    return f"{text[:2]!r}... ({len(text)} characters)" if len(text) > 2 else repr(text)


def _from_secret(text: str, ctx: GuardContext, *, header: bool) -> bool:
    """Whether ``text`` is a reference to a secret-provided variable (after a scheme)."""
    refs = list(_REF.finditer(text))
    if len(refs) != 1 or refs[0][2] is not None or refs[0][1] in ctx.environment:
        return False
    before, after = text[: refs[0].start()], text[refs[0].end() :]
    if header:
        return bool(_SCHEME.fullmatch(before)) and not after.strip()
    return _ONLY_REF.fullmatch(text) is not None


def _refuse(ctx: GuardContext, path: str, what: str, value: object) -> ConfigError:
    return ConfigError(
        f"{ctx.layer}: {path}: {what} must not be written into the configuration (it would "
        f"sit in the task definition in clear); {_WAY_OUT}, got {_masked(value)}"
    )


def _header_pairs(path: str, value: object) -> Iterator[tuple[str, str, object]]:
    if isinstance(value, Mapping):
        for name, item in value.items():
            yield f"{path}.{name}", str(name), item
    elif isinstance(value, list):
        for index, pair in enumerate(value):
            if isinstance(pair, Mapping):
                yield f"{path}[{index}].value", str(pair.get("name")), pair.get("value")


def _credential_paths(config: Mapping[str, Any], ctx: GuardContext) -> set[str]:
    """Check the model's credential sites; return the paths where a secret may appear."""
    allowed: set[str] = set()
    for site in walk(config):
        if site.kind == "opaque" and site.value not in (None, ""):
            if not _from_secret(str(site.value), ctx, header=False):
                what = f"a credential ({site.ctype} keeps it opaque)"
                raise _refuse(ctx, site.path, what, site.value)
            allowed.add(site.path)
        elif site.kind == "headers":
            for path, name, item in _header_pairs(site.path, site.value):
                allowed.add(path)
                literal = item not in (None, "") and not _from_secret(str(item), ctx, header=True)
                if literal and _CREDENTIAL_HEADER.fullmatch(name):
                    raise _refuse(ctx, path, f"the credential header {name!r}", item)
    return allowed


def check_credentials(config: Mapping[str, Any], ctx: GuardContext) -> None:
    """Raise ConfigError for the first literal credential or misplaced secret of ``config``."""
    allowed = _credential_paths(config, ctx)
    for path, text in iter_strings(config):
        leaf = path.rsplit(".", 1)[-1]
        named = leaf in CREDENTIAL_KEYS or path.endswith("htpasswd.inline")
        if named and text and path not in allowed and not _from_secret(text, ctx, header=False):
            raise _refuse(ctx, path, f"a credential ({leaf!r})", text)
        if named or leaf in IDENTITY_KEYS:
            allowed.add(path)
        for match in _REF.finditer(text):
            if match[1] in ctx.secrets and path not in allowed:
                raise ConfigError(
                    f"{ctx.layer}: {path}: ${{env:{match[1]}}} carries a secret, which may only "
                    f"fill a credential setting or a header value (here it would be logged, "
                    f"sent or named in AWS); use another variable, got {text!r}"
                )
