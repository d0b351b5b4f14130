"""The network settings of an environment: the new VPC's CIDR block and Availability Zones."""

from __future__ import annotations

import re

from otel_fargate import EnvironmentConfigError

from .reader import Reader

_CIDR = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})$")
_ZONE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9][a-z]$")
#: Addresses each Availability Zone takes in a new VPC: a public /24 and a private /22.
_ADDRESSES_PER_AZ = 256 + 1024


def parse_cidr(path: str, value: str, max_azs: int) -> str:
    """``vpc_cidr``: an IPv4 block from /16 to /20 with room for ``max_azs`` zones."""
    match = _CIDR.match(value)
    if not match or any(int(p) > 255 for p in match.groups()[:4]) or not 16 <= int(match[5]) <= 20:
        raise EnvironmentConfigError(
            f"{path}: must be an IPv4 CIDR block with a prefix from /16 to /20, got {value!r}"
        )
    if 2 ** (32 - int(match[5])) < max_azs * _ADDRESSES_PER_AZ:
        raise EnvironmentConfigError(
            f"{path}: {value!r} is too small for {max_azs} Availability Zones, each taking a "
            f"public /24 and a private /22; use a larger block or fewer max_azs"
        )
    return value


def parse_zones(reader: Reader, region: str | None, max_azs: int) -> tuple[str, ...]:
    """``availability_zones``: ``max_azs`` distinct zones of ``region``, or none."""
    reader.used.add("availability_zones")
    value = reader.data.get("availability_zones")
    path = f"{reader.path}.availability_zones"
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(z, str) and _ZONE.match(z) for z in value):
        raise EnvironmentConfigError(
            f"{path}: must be a list of Availability Zone names such as eu-west-1a, got {value!r}"
        )
    if region is not None and any(not z.startswith(region) for z in value):
        raise EnvironmentConfigError(
            f"{path}: every zone must be in region {region}, got {value!r}"
        )
    if len(value) != max_azs or len(set(value)) != len(value):
        raise EnvironmentConfigError(
            f"{path}: must name max_azs ({max_azs}) distinct zones, got {value!r}"
        )
    return tuple(value)
