"""The typed options a configuration is rendered from, their checks, the agent → gateway TLS
options, and exporters read from ``cdk.json``'s JSON form.
"""

from otel_fargate.config.options.collector import CollectorConfigOptions, Preset

__all__ = ["CollectorConfigOptions", "Preset"]
