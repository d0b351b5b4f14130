"""The collector gateway: a Fargate service behind ECS Service Connect, with its network
edge (security groups, optional internal NLB), its bearer tokens and optional TLS.
"""

from otel_fargate.gateway.construct import CollectorGateway
from otel_fargate.gateway.tls import GatewayTls

__all__ = ["CollectorGateway", "GatewayTls"]
