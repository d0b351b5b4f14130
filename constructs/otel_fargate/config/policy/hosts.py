"""The host a listener binds, read as the collector reads it.

The collector expands ``${env:NAME}`` and ``${env:NAME:-default}`` from the container's
environment before a component sees its endpoint, then Go's ``net.Listen`` takes ``host:port``:
an empty host (``:4318``), ``0.0.0.0``, ``::`` / ``[::]`` and any name that resolves to the task's
interface listen beyond loopback. Only ``localhost`` and loopback addresses (``127.0.0.0/8``,
``::1``, written as the IP parser accepts them) stay inside the container.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass

#: ``${env:NAME}``, ``${NAME}`` and either with ``:-default``; ``$$`` escapes a ``$``.
_REFERENCE = re.compile(
    r"(?<!\$)\$\{(?:env:)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"
)


@dataclass(frozen=True, kw_only=True)
class Host:
    """Where an endpoint binds.

    Attributes:
        text: the endpoint after expansion, or the raw value when it cannot be expanded.
        host: the host part ('' for all interfaces), or None when it cannot be known.
        why: why the host cannot be known (an unresolvable variable), else ''.
    """

    text: str
    host: str | None
    why: str = ""


def expand_env(value: str, environment: Mapping[str, str]) -> tuple[str | None, str]:
    """``value`` with its environment references replaced as the collector will.

    Returns:
        The expanded text and '' — or None and the reason when a variable is neither in
        ``environment`` nor has a default.
    """
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        if name in environment:
            return environment[name]
        if match["default"] is not None:
            return match["default"]
        missing.append(name)
        return ""

    text = _REFERENCE.sub(replace, value)
    if missing:
        return None, f"${{env:{missing[0]}}} is not a plain environment variable of the container"
    if "${" in text.replace("$${", ""):
        return None, "it holds a reference the collector expands from another source"
    return text, ""


def split_host(endpoint: str) -> str:
    """The host of ``host:port``, ``[v6]:port``, ``scheme://host:port/path`` or ``host``."""
    address = endpoint.split("://", 1)[-1].split("/", 1)[0]
    if address.startswith("["):
        return address[1:].split("]", 1)[0]
    if address.count(":") > 1:  # a bare IPv6 address, or one followed by a port
        head, _, tail = address.rpartition(":")
        return head if tail.isdigit() and _is_ip(head) else address
    return address.rsplit(":", 1)[0] if ":" in address else address


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def listen_host(value: object, environment: Mapping[str, str]) -> Host:
    """The host ``value`` (an endpoint setting) binds, given the container's environment."""
    text = str(value)
    expanded, why = expand_env(text, environment)
    if expanded is None:
        return Host(text=text, host=None, why=why)
    return Host(text=expanded, host=split_host(expanded))


def is_loopback(host: str) -> bool:
    """Whether ``host`` binds loopback only: ``localhost`` or a loopback IP address."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """Whether ``host`` means every interface: empty, ``0``, ``0.0.0.0``, ``::`` and the like."""
    if host in ("", "0", "*"):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_unspecified
    except ValueError:
        return False
