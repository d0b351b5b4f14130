"""AWS access for the operations tools: clients with retries, pagination, errors.

Every AWS call goes through :func:`aws_call`, which turns what stops a command from running
(no credentials, no region, throttling that outlasts the retries, access denied) into a
:class:`VerifyError` with a one-line message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final, TypeVar

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

if TYPE_CHECKING:
    import boto3

#: Attempts per call (first try included) with botocore's standard retry mode, which backs
#: off on throttling before giving up.
MAX_ATTEMPTS: Final = 8

_THROTTLING_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
    }
)


class VerifyError(Exception):
    """The checks could not run (credentials, region, no stacks, throttling, access)."""


_T = TypeVar("_T")


def aws_call(what: str, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
    """Run ``fn(*args, **kwargs)`` (AWS calls), turning what stops verification into VerifyError."""
    try:
        return fn(*args, **kwargs)
    except (NoCredentialsError, PartialCredentialsError) as err:
        raise VerifyError(
            f"no AWS credentials found ({err}); configure a profile or set AWS_PROFILE / "
            "AWS_ACCESS_KEY_ID"
        ) from err
    except NoRegionError as err:
        raise VerifyError("no AWS region configured; pass --region or set AWS_REGION") from err
    except ProfileNotFound as err:
        raise VerifyError(str(err)) from err
    except EndpointConnectionError as err:
        raise VerifyError(f"cannot reach AWS while {what}: {err}") from err
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        message = err.response.get("Error", {}).get("Message", "")
        if code in _THROTTLING_CODES:
            raise VerifyError(
                f"AWS throttled the requests while {what} ({code}) after {MAX_ATTEMPTS} "
                "attempts; try again in a minute"
            ) from err
        if code in {
            "AccessDenied",
            "AccessDeniedException",
            "UnauthorizedOperation",
            "ExpiredToken",
            "ExpiredTokenException",
            "InvalidClientTokenId",
            "UnrecognizedClientException",
        }:
            raise VerifyError(f"AWS refused the request while {what}: {code}: {message}") from err
        raise VerifyError(f"AWS error while {what}: {code}: {message}") from err
    except BotoCoreError as err:
        raise VerifyError(f"AWS request failed while {what}: {err}") from err


class Clients:
    """boto3 clients of one session, all with botocore's standard retry mode."""

    def __init__(self, session: boto3.Session, *, region: str | None = None) -> None:
        config = Config(retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS})
        self._session = session
        self._region = region
        self._config = config
        self._cache: dict[str, Any] = {}

    def __getattr__(self, service: str) -> Any:
        if service.startswith("_"):
            raise AttributeError(service)
        if service not in self._cache:
            name = service.replace("_", "")
            self._cache[service] = aws_call(
                f"creating the {name} client",
                self._session.client,
                name,
                region_name=self._region,
                config=self._config,
            )
        return self._cache[service]


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


def list_all(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    """Every item under ``key`` of every page of a paginated ``operation``."""
    return list(_pages(client, operation, key, **kwargs))


def cluster_of(service_arn: str) -> str | None:
    """The cluster name in an ECS service ARN; None for the short (cluster-less) format."""
    # arn:aws:ecs:<region>:<account>:service/<cluster>/<service> (the long ARN format)
    resource = service_arn.split(":", 5)[-1]
    parts = resource.split("/")
    return parts[1] if len(parts) == 3 else None


def stack_resources(clients: Clients, stack_name: str) -> list[Any]:
    """Every resource summary of ``stack_name`` (ListStackResources, all pages)."""
    return aws_call(
        f"listing the resources of {stack_name}",
        list_all,
        clients.cloudformation,
        "list_stack_resources",
        "StackResourceSummaries",
        StackName=stack_name,
    )
