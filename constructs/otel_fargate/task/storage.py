"""The task's ephemeral storage, and what the library's disk buffers may take of it.

Two buffers of this library live on the task's ephemeral storage (20 GiB on Fargate unless the
task definition sets ``ephemeral_storage_gib``, 21 to 200): the collector's persistent sending
queues (``file_storage``, ``persistent_queues``) and the FireLens log router's filesystem
buffer (``stdout_logs``). Images and the containers' writable layers take the rest. At synth:

- the persistent queues together may take at most half of it (:data:`QUEUE_STORAGE_SHARE`);
- the queues and the log router's buffer together at most three quarters
  (:data:`BUFFER_STORAGE_SHARE`); by default the router gets what the queues may leave of
  that, at most a quarter (:data:`LOG_BUFFER_SHARE`): 5 GiB of the default 20 GiB.

A size given as a token (known only at deploy time) is never refused: the checks then have
nothing to compare, and defaults are taken from Fargate's default size, the smallest a task has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import Token
from aws_cdk import aws_ecs as ecs

from otel_fargate.checks import fail
from otel_fargate.names import QUEUE_STORAGE_ID

GIB = 1024**3
MIB = 1024**2
#: Fargate's ephemeral storage when the task definition sets none.
FARGATE_DEFAULT_EPHEMERAL_GIB = 20
#: Share of the task's ephemeral storage the persistent queues may take together.
QUEUE_STORAGE_SHARE = 0.5
#: Share the persistent queues and the log router's buffer may take together.
BUFFER_STORAGE_SHARE = 0.75
#: Share the log router's buffer takes by default (when the queues leave that much).
LOG_BUFFER_SHARE = 0.25


@dataclass(frozen=True)
class EphemeralStorage:
    """The task's ephemeral storage in bytes; ``known`` is False when it is a token."""

    size: int
    known: bool

    @property
    def gib(self) -> int:
        """The size in GiB."""
        return self.size // GIB


def ephemeral_storage(task_definition: ecs.TaskDefinition) -> EphemeralStorage:
    """The ephemeral storage of ``task_definition``'s tasks (Fargate's default when unset)."""
    gib = getattr(task_definition, "ephemeral_storage_gib", None)
    if gib is None:
        return EphemeralStorage(FARGATE_DEFAULT_EPHEMERAL_GIB * GIB, known=True)
    if Token.is_unresolved(gib) or isinstance(gib, bool) or not isinstance(gib, int | float):
        return EphemeralStorage(FARGATE_DEFAULT_EPHEMERAL_GIB * GIB, known=False)
    return EphemeralStorage(int(gib) * GIB, known=True)


def persistent_queue_sizes(config: Mapping[str, Any]) -> list[int]:
    """The ``queue_size`` (bytes) of every exporter queue ``config`` keeps on disk."""
    sizes: list[int] = []
    for settings in (config.get("exporters") or {}).values():
        queue = settings.get("sending_queue") if isinstance(settings, dict) else None
        if isinstance(queue, dict) and queue.get("storage") == QUEUE_STORAGE_ID:
            size = queue.get("queue_size", 0)
            sizes.append(size if isinstance(size, int) and not isinstance(size, bool) else 0)
    return sizes


def check_queues_fit(storage: EphemeralStorage, queued: list[int]) -> None:
    """Refuse persistent queues that together exceed half the task's ephemeral storage."""
    if storage.known and sum(queued) > storage.size * QUEUE_STORAGE_SHARE:
        raise fail(
            "persistent_queues",
            f"{len(queued)} queues of up to {sum(queued)} bytes together must fit half the "
            f"task's ephemeral storage ({storage.gib} GiB); raise the task's "
            f"ephemeral_storage_gib or shrink the queues",
            sum(queued),
        )


def log_buffer_bytes(storage: EphemeralStorage, *, queues: int, requested_mib: int | None) -> int:
    """The disk the log router's buffer may take: ``requested_mib``, else the default share.

    Refused when the queues and the buffer together exceed three quarters of the storage.
    """
    room = int(storage.size * BUFFER_STORAGE_SHARE) - queues
    if requested_mib is None:
        size = min(int(storage.size * LOG_BUFFER_SHARE), room)
        setting, value = "stdout_logs", "the default buffer"
    else:
        size = requested_mib * MIB
        setting, value = "stdout_logs.buffer_mib", f"{requested_mib} MiB"
    if storage.known and (size < MIB or size > room):
        raise fail(
            setting,
            f"the log router's disk buffer ({size // MIB} MiB) and the persistent queues "
            f"({queues // MIB} MiB) must fit three quarters of the task's ephemeral storage "
            f"({storage.gib} GiB, {room // MIB} MiB left for the buffer); raise the task's "
            f"ephemeral_storage_gib, shrink the queues or give a smaller buffer_mib",
            value,
        )
    return max(size, MIB)
