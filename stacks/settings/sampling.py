"""The ``gateway.sampling`` section: the tail-sampling tier and its three policies."""

from __future__ import annotations

from otel_fargate import (
    EnvironmentConfigError,
    KeepErrors,
    KeepSlow,
    OtelFargateError,
    Probabilistic,
    SamplingTier,
    TailSampling,
)

from .reader import Reader


def parse_sampling(reader: Reader | None) -> SamplingTier | None:
    """``sampling``: the samplers' service and three policies (errors, slow, a share of the rest).

    ``keep_errors`` (default true), ``slow_threshold_ms`` (default 1000; 0 switches it off) and
    ``keep_percent`` of the other traces (default 10); ``decision_wait`` and
    ``expected_new_traces_per_second`` per sampler task; the task's size and scaling.
    """
    if reader is None:
        return None
    d = SamplingTier()
    policies: list[KeepErrors | KeepSlow | Probabilistic] = []
    if reader.boolean("keep_errors", True):
        policies.append(KeepErrors())
    slow = reader.integer("slow_threshold_ms", 1000, low=0, high=3_600_000)
    if slow:
        policies.append(KeepSlow(threshold_ms=slow))
    percent = reader.number("keep_percent", 10, "a number of percent")
    if percent:
        policies.append(Probabilistic(percent=percent))
    try:
        tier = SamplingTier(
            tail_sampling=TailSampling(
                policies=policies,
                decision_wait=reader.string("decision_wait", "10s") or "10s",
                expected_new_traces_per_second=reader.integer(
                    "expected_new_traces_per_second", 500, low=1, high=1_000_000
                ),
            ),
            cpu=reader.integer("cpu", d.cpu, low=256, high=16384),
            memory_mib=reader.integer("memory_mib", d.memory_mib, low=512, high=122880),
            desired_count=reader.integer("desired_count", d.desired_count, low=1, high=100),
            min_capacity=reader.integer("min_capacity", d.min_capacity, low=1, high=100),
            max_capacity=reader.integer("max_capacity", d.max_capacity, low=1, high=100),
        )
    except OtelFargateError as error:
        # the library names the setting "sampling.<key>"; say where it is in cdk.json
        raise EnvironmentConfigError(f"{reader.path.rsplit('.', 1)[0]}.{error}") from error
    reader.finish()
    return tier
