"""How the FireLens log router holds app output while the collector is away."""

from __future__ import annotations

from dataclasses import dataclass

from otel_fargate.checks import check_int, fail

#: Fluent Bit's ``Retry_Limit`` value for retrying without a limit.
NO_RETRY_LIMIT = "no_limits"
#: The retry limit of the router's outputs by default.
DEFAULT_RETRY_LIMIT = 30
#: The most retries accepted (beyond it, ``retry_limit=None``: no limit).
MAX_RETRY_LIMIT = 10_000


@dataclass(frozen=True, kw_only=True)
class StdoutLogs:
    """The log router's retries and disk buffer, for ``CollectorSidecar(stdout_logs=...)``.

    ``stdout_logs=True`` is ``StdoutLogs()``. The router keeps what it could not hand to the
    collector in a filesystem buffer on a task volume and retries it (Fluent Bit waits a random
    1 to 30 s between two tries of a chunk, doubling the upper bound each time up to 30 s).

    Args:
        buffer_mib: disk the router's buffer may take (Fluent Bit ``storage.total_limit_size``
            of its output to the collector); past it the oldest chunks are dropped. With the
            persistent queues it must fit three quarters of the task's ephemeral storage.
            Default: what the persistent queues leave of those three quarters, at most a
            quarter of the storage (5 GiB of Fargate's default 20 GiB).
        retry_limit: tries of a chunk the collector did not acknowledge before it is dropped
            (Fluent Bit ``Retry_Limit``), 1 to 10,000; ``None`` retries without a limit (only
            the disk bound then drops lines). Default: 30, at least 30 s and typically about
            8 minutes of outage.
    """

    buffer_mib: int | None = None
    retry_limit: int | None = DEFAULT_RETRY_LIMIT

    def __post_init__(self) -> None:
        if self.buffer_mib is not None:
            check_int("stdout_logs.buffer_mib", self.buffer_mib, low=1)
        if self.retry_limit is not None:
            check_int("stdout_logs.retry_limit", self.retry_limit, low=1, high=MAX_RETRY_LIMIT)

    @property
    def fluent_bit_retry_limit(self) -> str:
        """``Retry_Limit`` as Fluent Bit reads it."""
        return NO_RETRY_LIMIT if self.retry_limit is None else str(self.retry_limit)

    @classmethod
    def of(cls, value: object) -> StdoutLogs | None:
        """``value`` of ``stdout_logs`` (False, True or a StdoutLogs) as options, or None."""
        if isinstance(value, StdoutLogs):
            return value
        if value is True:
            return cls()
        if value is False:
            return None
        raise fail("stdout_logs", "must be True, False or a StdoutLogs", value)
