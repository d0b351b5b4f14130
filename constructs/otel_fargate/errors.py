"""Errors raised by otel-fargate for bad input.

Every message names the setting and the value it received, so a failed synth points at
the line of ``cdk.json`` or the construct argument to fix.
"""


class OtelFargateError(ValueError):
    """Base class: a setting has a value otel-fargate cannot deploy safely."""


class ConfigError(OtelFargateError):
    """The collector configuration (options, overrides or replacement) is invalid."""


class EnvironmentConfigError(OtelFargateError):
    """An environment entry in ``cdk.json`` is missing or malformed."""
