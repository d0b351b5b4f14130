"""Persistent sending queues: what an exporter holds survives a restart of its container.

With ``persistent_queues`` every exporter queue of the rendered configuration is kept by the
``file_storage`` extension in :data:`~otel_fargate.names.QUEUE_DIRECTORY` instead of memory.
A collector killed by an out-of-memory kill or a crash loses nothing it had accepted: the
restart policy restarts it in the same task, on the same task-scoped volume, and it resumes
sending. The queue keeps its size in bytes (at most the memory limiter's hard limit), now on
disk: the task's ephemeral storage (20 GiB on Fargate by default) holds many such queues.
"""

from __future__ import annotations

from typing import Any

from otel_fargate.names import QUEUE_DIRECTORY, QUEUE_STORAGE_ID


def storage_extension(directory: str = QUEUE_DIRECTORY) -> dict[str, Any]:
    """The ``file_storage`` settings of the queue directory (compacted as it drains)."""
    return {
        "directory": directory,
        "create_directory": True,
        "timeout": "1s",
        "compaction": {"on_start": True, "on_rebound": True, "directory": directory},
    }


def persist_queues(config: dict[str, Any], *, directory: str = QUEUE_DIRECTORY) -> list[str]:
    """Put every enabled exporter queue of ``config`` on the queue storage; return their ids."""
    persisted: list[str] = []
    for eid, settings in (config.get("exporters") or {}).items():
        queue = settings.get("sending_queue") if isinstance(settings, dict) else None
        if isinstance(queue, dict) and queue.get("enabled", True):
            queue["storage"] = QUEUE_STORAGE_ID
            persisted.append(eid)
    if persisted:
        config.setdefault("extensions", {})[QUEUE_STORAGE_ID] = storage_extension(directory)
    return persisted
