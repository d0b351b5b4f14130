"""Embedded mode on ECS: the collector inside the app's own container, run by the supervisor,
for platforms and teams that keep one container per app.
"""

from otel_fargate.embedded.construct import EmbeddedCollector

__all__ = ["EmbeddedCollector"]
