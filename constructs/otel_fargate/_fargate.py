"""Fargate task sizes."""

from __future__ import annotations

from .errors import OtelFargateError

#: Task memory left to the Service Connect (Envoy) proxy container that ECS adds to a task
#: using Service Connect; AWS asks for at least 64 MiB.
SERVICE_CONNECT_PROXY_MEMORY_MIB = 128

#: Task memory (MiB) that Fargate accepts for each task CPU value.
FARGATE_CPU_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}


def check_fargate_size(prefix: str, cpu: int, memory_mib: int) -> None:
    """Fail unless ``cpu``/``memory_mib`` is a Fargate task size; messages start with ``prefix``."""
    allowed = FARGATE_CPU_MEMORY.get(cpu)
    if allowed is None:
        raise OtelFargateError(
            f"{prefix}cpu: Fargate task CPU must be one of "
            f"{', '.join(map(str, FARGATE_CPU_MEMORY))}, got {cpu!r}"
        )
    if memory_mib not in allowed:
        raise OtelFargateError(
            f"{prefix}memory_mib: with cpu {cpu}, Fargate accepts "
            f"{', '.join(map(str, allowed))} MiB, got {memory_mib!r}"
        )
