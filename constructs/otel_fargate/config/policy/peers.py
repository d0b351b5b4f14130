"""Rule: the peers allowed to reach the gateway never add up to the internet.

``allowed_peers`` are CIDR blocks; ``0.0.0.0/1`` and ``128.0.0.0/1`` are the whole IPv4 space in
two halves, so the rule looks at their union (``ipaddress.collapse_addresses``), not at each
block. The bound: the union may hold no more addresses than the private space of its family
(RFC 1918's three blocks for IPv4, 17,891,328 addresses; ``fc00::/7`` for IPv6). The gateway is
an internal service: its clients are the VPC, peered VPCs and networks over a VPN or Direct
Connect, which fit in that space, and a partner's public ``/24`` stays far below it; anything
larger is most of the public internet. Peers that are not CIDR blocks (security groups, prefix
lists) are not counted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from otel_fargate.errors import ConfigError

_PRIVATE_V4 = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
#: The most addresses the union of a family's peers may hold.
BOUND = {
    4: sum(ipaddress.ip_network(block).num_addresses for block in _PRIVATE_V4),
    6: ipaddress.ip_network("fc00::/7").num_addresses,
}


def check_peer_union(cidrs: Iterable[str], *, setting: str = "allowed_peers") -> None:
    """Raise ConfigError when the union of ``cidrs`` of one family exceeds :data:`BOUND`."""
    networks: dict[int, list[ipaddress.IPv4Network | ipaddress.IPv6Network]] = {4: [], 6: []}
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            continue  # a security group, a prefix list or a token: not a block of addresses
        networks[network.version].append(network)
    for version, found in networks.items():
        union = list(ipaddress.collapse_addresses(found))  # type: ignore[type-var]
        size = sum(network.num_addresses for network in union)
        if size > BOUND[version]:
            blocks = ", ".join(str(network) for network in union)
            raise ConfigError(
                f"{setting}: together the IPv{version} peers cover {size:,} addresses ({blocks}), "
                f"more than the private address space ({BOUND[version]:,}); the gateway is never "
                f"opened to the internet, even in parts. Name the networks that send "
                f"(no opt-out), got {sorted(str(n) for n in found)}"
            )
