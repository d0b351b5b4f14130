"""The gateway's allowed peers never add up to the internet (config/policy/peers.py)."""

from __future__ import annotations

import pytest
from otel_fargate.config import ConfigError
from otel_fargate.config.policy.peers import check_peer_union


@pytest.mark.parametrize(
    ("cidrs", "message"),
    [
        (["0.0.0.0/1", "128.0.0.0/1"], r"IPv4 peers cover 4,294,967,296 addresses \(0\.0\.0\.0/0\).*no opt-out"),
        ([f"{i * 64}.0.0.0/2" for i in range(4)], r"IPv4 peers cover 4,294,967,296"),
        (["10.0.0.0/8", "11.0.0.0/8"], r"IPv4 peers cover 33,554,432 addresses \(10\.0\.0\.0/7\)"),
        (["::/1", "8000::/1"], r"IPv6 peers cover .*\(::/0\)"),
        (["2000::/3"], r"IPv6 peers cover"),
    ],
)
def test_peers_that_add_up_to_the_internet_are_refused(cidrs: list[str], message: str) -> None:
    # GIVEN peers whose union is wider than the private space WHEN checked THEN refused
    with pytest.raises(ConfigError, match=rf"^allowed_peers: together the {message}"):
        check_peer_union(cidrs)


@pytest.mark.parametrize(
    "cidrs",
    [
        ["10.0.0.0/16"],
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
        ["10.0.0.0/16", "203.0.113.0/24"],  # a partner's public /24 over a VPN
        ["fd00:1234::/48"],
        ["sg-0123456789abcdef0", "${Token[TOKEN.1]}"],
    ],
)
def test_private_and_partner_peers_are_accepted(cidrs: list[str]) -> None:
    # GIVEN the VPC, the private space, a partner's /24 or non-CIDR peers THEN accepted
    check_peer_union(cidrs)
