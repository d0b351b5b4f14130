"""Reading ``cdk.json``: typed values of one mapping, with the key path in every error."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from otel_fargate import EnvironmentConfigError, OtelFargateError
from otel_fargate.task.fargate import check_fargate_size

T = TypeVar("T")


class Reader:
    """Reads one mapping of ``cdk.json``, remembering the key path for error messages."""

    def __init__(self, path: str, data: object) -> None:
        if not isinstance(data, Mapping):
            raise EnvironmentConfigError(
                f"{path}: must be an object, got {type(data).__name__} {data!r}"
            )
        self.path = path
        self.data: Mapping[str, Any] = data
        self.used: set[str] = set()

    def _get(self, key: str, default: T, kind: type | tuple[type, ...], what: str) -> T:
        self.used.add(key)
        if key not in self.data or self.data[key] is None:
            return default
        value = self.data[key]
        # bool is an int in Python: refuse it where a number is wanted.
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            raise EnvironmentConfigError(
                f"{self.path}.{key}: must be {what}, got {type(value).__name__} {value!r}"
            )
        return value  # type: ignore[return-value]

    def string(
        self,
        key: str,
        default: str | None,
        pattern: re.Pattern[str] | None = None,
        what: str = "a string",
    ) -> str | None:
        value = self._get(key, default, str, what)
        if value is not None and pattern is not None and not pattern.match(value):
            raise EnvironmentConfigError(f"{self.path}.{key}: must be {what}, got {value!r}")
        return value

    def integer(self, key: str, default: int, *, low: int, high: int) -> int:
        value = self._get(key, default, int, f"a whole number from {low} to {high}")
        if not low <= value <= high:
            raise EnvironmentConfigError(
                f"{self.path}.{key}: must be a whole number from {low} to {high}, got {value!r}"
            )
        return value

    def number(self, key: str, default: float, what: str) -> float:
        return self._get(key, default, (int, float), what)

    def boolean(self, key: str, default: bool) -> bool:
        return self._get(key, default, bool, "true or false")

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self._get(key, default, str, f"one of {', '.join(choices)}")
        if value not in choices:
            raise EnvironmentConfigError(
                f"{self.path}.{key}: must be one of {', '.join(choices)}, got {value!r}"
            )
        return value

    def child(self, key: str) -> Reader | None:
        self.used.add(key)
        if key not in self.data or self.data[key] is None:
            return None
        return Reader(f"{self.path}.{key}", self.data[key])

    def mapping(self, key: str) -> Mapping[str, Mapping[str, Any]] | None:
        self.used.add(key)
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping) or not all(
            isinstance(v, Mapping) for v in value.values()
        ):
            raise EnvironmentConfigError(
                f"{self.path}.{key}: must be an object of objects, got {value!r}"
            )
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise EnvironmentConfigError(
                f"{self.path}: unknown setting {unknown[0]!r} "
                f"(known: {', '.join(sorted(self.used))})"
            )


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def check_task_size(path: str, cpu: int, memory_mib: int) -> None:
    """A Fargate task size, its error naming the setting under ``path``."""
    try:
        check_fargate_size(f"{path}.", cpu, memory_mib)
    except OtelFargateError as err:
        raise EnvironmentConfigError(str(err)) from err
