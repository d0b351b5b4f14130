"""References to secrets the collector reads from its environment.

A secret never appears in the rendered YAML: the configuration says ``${env:NAME}`` and the
constructs deliver the value as an ECS secret under ``NAME``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from otel_fargate.errors import ConfigError
from otel_fargate.names import CONFIG_ENV, GATEWAY_TOKEN_ENV, RESERVED_ENV_NAMES

__all__ = [
    "CONFIG_ENV",
    "ENV_NAME_PATTERN",
    "GATEWAY_TOKEN_ENV",
    "RESERVED_ENV_NAMES",
    "SecretRef",
    "check_env_name",
    "env_ref",
]

#: A CDK token as the CDK writes it into a string (CloudFormation resolves it).
_CDK_TOKEN = re.compile(r"\$\{Token\[[A-Za-z0-9_.\-]+\]\}")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")

#: Environment variable names the collector configuration may reference.
ENV_NAME_PATTERN = re.compile(r"^[A-Z_][A-Z0-9_]*$")

SecretKind = Literal["secretsmanager", "ssm"]


def check_env_name(name: object, *, setting: str) -> str:
    """Return ``name`` if it is a valid environment variable name, else raise ConfigError."""
    if not isinstance(name, str) or not ENV_NAME_PATTERN.fullmatch(name):
        raise ConfigError(
            f"{setting}: must be an environment variable name matching "
            f"{ENV_NAME_PATTERN.pattern}, got {name!r}"
        )
    return name


def env_ref(name: str) -> str:
    """The collector's reference to environment variable ``name``: ``${env:NAME}``."""
    return "${env:" + name + "}"


@dataclass(frozen=True, kw_only=True)
class SecretRef:
    """A secret delivered to the collector container as an environment variable.

    Plain data: the constructs turn it into an ECS ``secrets`` entry.

    Attributes:
        env_name: the environment variable the collector reads (``${env:<env_name>}``);
            must match ``^[A-Z_][A-Z0-9_]*$``.
        secret_id: the Secrets Manager secret or SSM parameter, as a name or an ARN.
        kind: ``"secretsmanager"`` (default) or ``"ssm"`` (a SecureString parameter).
        json_field: for a Secrets Manager secret holding JSON, the key to read; default: the
            whole secret string.
        kms_key_arn: the customer-managed KMS key the secret (or SecureString parameter) is
            encrypted with; the task's execution role is granted ``kms:Decrypt`` on it.
            Default: the AWS-managed key, which needs no grant.
    """

    env_name: str
    secret_id: str
    kind: SecretKind = "secretsmanager"
    json_field: str | None = None
    kms_key_arn: str | None = None

    def __post_init__(self) -> None:
        check_env_name(self.env_name, setting="SecretRef.env_name")
        if self.env_name in RESERVED_ENV_NAMES:
            raise ConfigError(
                f"SecretRef.env_name: {self.env_name!r} is reserved for otel-fargate "
                f"(reserved: {', '.join(sorted(RESERVED_ENV_NAMES))})"
            )
        if not isinstance(self.secret_id, str) or not self.secret_id.strip():
            raise ConfigError(
                f"SecretRef.secret_id: must be a non-empty secret name or ARN, "
                f"got {self.secret_id!r}"
            )
        if "${" in _CDK_TOKEN.sub("", self.secret_id):
            raise ConfigError(
                f"SecretRef.secret_id: names a secret the execution role is granted at synth, and "
                f"neither Secrets Manager nor SSM names hold '$' or braces, so a variable here "
                f"would fail the deploy; give the name or ARN itself (a CDK token, such as a "
                f"secret's secret_name, is fine), got {self.secret_id!r}"
            )
        if self.kind not in ("secretsmanager", "ssm"):
            raise ConfigError(
                f"SecretRef.kind: must be 'secretsmanager' or 'ssm', got {self.kind!r}"
            )
        if self.json_field is not None:
            if self.kind != "secretsmanager":
                raise ConfigError(
                    f"SecretRef.json_field: only Secrets Manager secrets have JSON fields, "
                    f"got json_field={self.json_field!r} with kind={self.kind!r}"
                )
            if not isinstance(self.json_field, str) or not self.json_field:
                raise ConfigError(
                    f"SecretRef.json_field: must be a non-empty string, got {self.json_field!r}"
                )

        if self.kms_key_arn is not None and not _KMS_KEY_ARN.fullmatch(str(self.kms_key_arn)):
            raise ConfigError(
                f"SecretRef.kms_key_arn: must be a KMS key ARN "
                f"(arn:aws:kms:<region>:<account>:key/<id>), got {self.kms_key_arn!r}"
            )

    @property
    def reference(self) -> str:
        """What the YAML contains in place of the secret: ``${env:<env_name>}``."""
        return env_ref(self.env_name)
