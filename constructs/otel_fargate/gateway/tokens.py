"""The gateway's two bearer-token secrets: the current token and the previous one."""

from __future__ import annotations

from aws_cdk import Token
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from otel_fargate.checks import fail
from otel_fargate.task._nag import acknowledge


def current_token(
    scope: Construct, given: secretsmanager.ISecret | None, service_name: str
) -> secretsmanager.ISecret:
    """``given``, or a new secret with a generated token (construct id ``Token``)."""
    if given is not None:
        return given
    return _generated_token(
        scope, "Token", f"Bearer token agents present to the {service_name} collector gateway"
    )


def previous_token(
    scope: Construct,
    given: secretsmanager.ISecret | None,
    current: secretsmanager.ISecret,
    service_name: str,
) -> secretsmanager.ISecret:
    """``given`` (never ``current``), or a new secret with a generated token."""
    if given is None:
        return _generated_token(
            scope,
            "TokenPrevious",
            f"Second bearer token the {service_name} collector gateway accepts: the "
            "token before the last rotation (random until the first one)",
        )
    arn = given.secret_arn
    if given is current or (not Token.is_unresolved(arn) and arn == current.secret_arn):
        raise fail(
            "previous_token_secret",
            "must be another secret than token_secret (a rotation writes one into the other)",
            given.node.path,
        )
    return given


def _generated_token(
    scope: Construct, construct_id: str, description: str
) -> secretsmanager.Secret:
    secret = secretsmanager.Secret(
        scope,
        construct_id,
        description=description,
        generate_secret_string=secretsmanager.SecretStringGenerator(
            password_length=48, exclude_punctuation=True
        ),
    )
    acknowledge(
        secret,
        "AwsSolutions-SMG4",
        "The gateway and its agents read the bearer tokens when a task starts, so a "
        "rotation must write new values and redeploy the gateways before the agents; the "
        "rotate-token command (python -m tools.cli rotate-token) does that, in that order, "
        "which a rotation Lambda cannot.",
    )
    return secret
