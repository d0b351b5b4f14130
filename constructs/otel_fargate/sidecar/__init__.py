"""The collector in an application's task: a sidecar that exports itself, or an agent that
forwards to a gateway.
"""

from otel_fargate.sidecar.construct import CollectorSidecar

__all__ = ["CollectorSidecar"]
