"""ECS secrets for the ``${env:NAME}`` references of a rendered configuration."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import Stack, Token
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from otel_fargate.config import SecretRef
from otel_fargate.errors import OtelFargateError

_FULL_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:.*-[A-Za-z0-9]{6}$")


def ecs_secrets(scope: Construct, refs: Mapping[str, SecretRef]) -> dict[str, ecs.Secret]:
    """ECS secrets for ``refs`` (environment variable name -> SecretRef).

    A Secrets Manager secret is named by its name or its complete ARN (the one ending in the
    six random characters Secrets Manager appends; a partial ARN whose name happens to end in a
    six-character segment cannot be told apart, so give such a secret by name). An SSM
    SecureString parameter is named by its name or an ARN in the stack's region. The execution
    role may read exactly these.
    """
    return {
        env_name: (_ssm_secret if refs[env_name].kind == "ssm" else _secrets_manager_secret)(
            scope, env_name, refs[env_name]
        )
        for env_name in sorted(refs)
    }


def _ssm_secret(scope: Construct, env_name: str, ref: SecretRef) -> ecs.Secret:
    secret_id = ref.secret_id
    if not secret_id.startswith("arn:"):
        parameter = ssm.StringParameter.from_secure_string_parameter_attributes(
            scope, f"Param{env_name}", parameter_name=secret_id
        )
        return ecs.Secret.from_ssm_parameter(parameter)
    region = secret_id.split(":")[3] if secret_id.count(":") >= 5 else ""
    stack_region = Stack.of(scope).region
    if Token.is_unresolved(stack_region) or region != stack_region:
        shown = "unset" if Token.is_unresolved(stack_region) else stack_region
        raise OtelFargateError(
            f"secrets.{env_name}.secret_id: an SSM parameter ARN must be in the stack's region "
            f"({shown}), got {secret_id!r}"
        )
    parameter = ssm.StringParameter.from_string_parameter_arn(scope, f"Param{env_name}", secret_id)
    return ecs.Secret.from_ssm_parameter(parameter)


def _secrets_manager_secret(scope: Construct, env_name: str, ref: SecretRef) -> ecs.Secret:
    secret_id = ref.secret_id
    if not secret_id.startswith("arn:"):
        secret = secretsmanager.Secret.from_secret_name_v2(scope, f"Secret{env_name}", secret_id)
    elif _FULL_SECRET_ARN.match(secret_id):
        secret = secretsmanager.Secret.from_secret_complete_arn(
            scope, f"Secret{env_name}", secret_id
        )
    else:
        raise OtelFargateError(
            f"secrets.{env_name}.secret_id: a Secrets Manager ARN must be complete (ending in "
            f"the six characters Secrets Manager appends), or give the secret's name, "
            f"got {secret_id!r}"
        )
    return ecs.Secret.from_secrets_manager(secret, ref.json_field)


def grant_key_decrypt(task_definition: ecs.TaskDefinition, refs: Mapping[str, SecretRef]) -> None:
    """Let the execution role decrypt secrets under customer-managed keys (``kms_key_arn``)."""
    keys = sorted({ref.kms_key_arn for ref in refs.values() if ref.kms_key_arn is not None})
    if keys:
        task_definition.obtain_execution_role().add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=keys)
        )
