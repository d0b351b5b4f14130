"""A collector service's deployment and autoscaling: bounds, target tracking on CPU and memory."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs

from otel_fargate.checks import check_int, fail

#: Scale in slowly (a collector leaving drops its connections), out quickly.
SCALE_IN_COOLDOWN = Duration.seconds(300)
SCALE_OUT_COOLDOWN = Duration.seconds(60)

#: How every collector service deploys: a full set of healthy tasks throughout, rolled back
#: by the circuit breaker, spread over Availability Zones, tagged like its service.
SERVICE_DEFAULTS: dict[str, Any] = {
    "min_healthy_percent": 100,
    "max_healthy_percent": 200,
    "circuit_breaker": ecs.DeploymentCircuitBreaker(rollback=True),
    "availability_zone_rebalancing": ecs.AvailabilityZoneRebalancing.ENABLED,
    "propagate_tags": ecs.PropagatedTagSource.SERVICE,
    "enable_ecs_managed_tags": True,
}


def check_scaling(
    *, desired: int, low: int, high: int, cpu_percent: int, memory_percent: int, prefix: str = ""
) -> None:
    """Bounds 1..1000 with ``low <= desired <= high``; targets from 10 to 95 %.

    ``prefix`` goes before every setting name in errors (``sampling.``).
    """
    check_int(f"{prefix}min_capacity", low, low=1, high=1000)
    check_int(f"{prefix}max_capacity", high, low=1, high=1000)
    check_int(f"{prefix}cpu_target_percent", cpu_percent, low=10, high=95)
    check_int(f"{prefix}memory_target_percent", memory_percent, low=10, high=95)
    if low > high:
        raise fail(f"{prefix}min_capacity", f"must not exceed max_capacity ({high})", low)
    if not low <= desired <= high:
        raise fail(
            f"{prefix}desired_count",
            f"must lie within min_capacity..max_capacity ({low}..{high})",
            desired,
        )


def autoscale(
    service: ecs.FargateService, *, low: int, high: int, cpu_percent: int, memory_percent: int
) -> ecs.ScalableTaskCount:
    """Target tracking on CPU and on memory between ``low`` and ``high`` tasks."""
    scaling = service.auto_scale_task_count(min_capacity=low, max_capacity=high)
    scaling.scale_on_cpu_utilization(
        "CpuScaling",
        target_utilization_percent=cpu_percent,
        scale_in_cooldown=SCALE_IN_COOLDOWN,
        scale_out_cooldown=SCALE_OUT_COOLDOWN,
    )
    scaling.scale_on_memory_utilization(
        "MemoryScaling",
        target_utilization_percent=memory_percent,
        scale_in_cooldown=SCALE_IN_COOLDOWN,
        scale_out_cooldown=SCALE_OUT_COOLDOWN,
    )
    return scaling
