"""Sizing numbers, duration parsing and the merge semantics of overrides."""

from __future__ import annotations

from typing import Any

import pytest
from otel_fargate.config import MIN_MEMORY_MIB, ConfigError, deep_merge, size_for
from otel_fargate.config.core.durations import parse_duration
from otel_fargate.config.core.sizing import RESERVED_MIB


@pytest.mark.parametrize(
    ("memory", "cpu", "limit", "spike", "gomemlimit", "procs"),
    [
        # GOMEMLIMIT = 90 % of (memory - 64 MiB), limit = 80 % of it, spike = 25 % of limit
        (256, 256, 137, 34, "172MiB", "1"),
        (512, 256, 322, 80, "403MiB", "1"),
        (1024, 1024, 691, 172, "864MiB", "1"),
        (2048, 1025, 1428, 357, "1785MiB", "2"),
        (8192, 4096, 5852, 1463, "7315MiB", "4"),
    ],
)
def test_size_for(
    memory: int, cpu: int, limit: int, spike: int, gomemlimit: str, procs: str
) -> None:
    # GIVEN a container size WHEN sized
    sizing = size_for(memory_mib=memory, cpu_units=cpu)
    # THEN the limiter, GOMEMLIMIT and GOMAXPROCS follow the documented rules
    assert (sizing.limit_mib, sizing.spike_limit_mib) == (limit, spike)
    assert sizing.memory_limiter == {
        "check_interval": "100ms",
        "limit_mib": limit,
        "spike_limit_mib": spike,
    }
    assert sizing.environment == {"GOMEMLIMIT": gomemlimit, "GOMAXPROCS": procs}
    # AND an exporter queue holds at most the limiter's hard limit, in bytes
    assert sizing.queue_bytes == limit * 1024 * 1024
    # AND the executable's reserve plus everything the Go runtime may use fits the container
    assert sizing.spike_limit_mib < sizing.limit_mib < sizing.gomemlimit_mib
    assert sizing.gomemlimit_mib + RESERVED_MIB < memory


def test_minimum_memory_is_accepted() -> None:
    sizing = size_for(memory_mib=MIN_MEMORY_MIB, cpu_units=1)
    assert MIN_MEMORY_MIB == 256
    assert (sizing.gomemlimit_mib, sizing.limit_mib, sizing.gomaxprocs) == (172, 137, 1)


def test_memory_below_minimum() -> None:
    with pytest.raises(
        ConfigError, match=r"^memory_mib: the collector needs at least 256 MiB, got 255$"
    ):
        size_for(memory_mib=255, cpu_units=256)


def test_memory_above_fargate() -> None:
    with pytest.raises(
        ConfigError, match=r"^memory_mib: Fargate offers at most 122880 MiB, got 200000$"
    ):
        size_for(memory_mib=200_000, cpu_units=256)


def test_memory_not_an_integer() -> None:
    with pytest.raises(
        ConfigError, match=r"^memory_mib: must be an integer number of MiB, got 512.5$"
    ):
        size_for(memory_mib=512.5, cpu_units=256)  # type: ignore[arg-type]


def test_cpu_units_must_be_positive() -> None:
    with pytest.raises(ConfigError, match=r"^cpu_units: must be a positive integer .*got 0$"):
        size_for(memory_mib=512, cpu_units=0)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("60s", 60.0), ("1m30s", 90.0), ("500ms", 0.5), ("2h", 7200.0), ("0", 0.0), ("1.5s", 1.5)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text, setting="x") == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "60", "s", "1d", "1m x", "-1s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^t: must be a duration such as '60s'"):
        parse_duration(text, setting="t")


def test_merge_mappings_recursively() -> None:
    # GIVEN a nested base and an override touching one leaf
    base: dict[str, Any] = {"a": {"b": 1, "c": {"d": 2, "e": 3}}, "f": 4}
    override: dict[str, Any] = {"a": {"c": {"d": 20}}}
    # WHEN merged
    merged = deep_merge(base, override)
    # THEN only that leaf changes
    assert merged == {"a": {"b": 1, "c": {"d": 20, "e": 3}}, "f": 4}


def test_merge_replaces_lists() -> None:
    merged = deep_merge({"p": ["memory_limiter", "batch"]}, {"p": ["batch"]})
    assert merged == {"p": ["batch"]}


def test_merge_replaces_scalars_with_mappings_and_back() -> None:
    assert deep_merge({"a": 1}, {"a": {"b": 2}}) == {"a": {"b": 2}}
    assert deep_merge({"a": {"b": 2}}, {"a": 1}) == {"a": 1}


def test_merge_null_removes_a_key() -> None:
    merged = deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"b": None}, "missing": None})
    assert merged == {"a": {"c": 2}}


def test_merge_appends_new_keys_after_existing_ones() -> None:
    merged = deep_merge({"x": 1, "y": 2}, {"a": 0, "x": 10})
    assert list(merged) == ["x", "y", "a"]


def test_merge_leaves_inputs_untouched() -> None:
    base: dict[str, Any] = {"a": {"b": [1]}}
    override: dict[str, Any] = {"a": {"c": [2]}}
    merged = deep_merge(base, override)
    merged["a"]["b"].append(3)
    merged["a"]["c"].append(4)
    assert base == {"a": {"b": [1]}}
    assert override == {"a": {"c": [2]}}
