"""What a check found, and the table and JSON ``verify`` prints."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: its name, whether it holds, and what was seen."""

    name: str
    ok: bool
    detail: str


def all_ok(results: Sequence[CheckResult]) -> bool:
    """Whether every check holds (and there was at least one)."""
    return bool(results) and all(r.ok for r in results)


def format_table(results: Sequence[CheckResult]) -> str:
    """A plain-text table: CHECK, RESULT, DETAIL."""
    rows = [("CHECK", "RESULT", "DETAIL")] + [
        (r.name, "ok" if r.ok else "FAIL", r.detail) for r in results
    ]
    width = max(len(row[0]) for row in rows)
    lines = [f"{name:<{width}}  {result:<6}  {detail}".rstrip() for name, result, detail in rows]
    return "\n".join(lines)


def format_json(env: str, region: str | None, results: Sequence[CheckResult]) -> str:
    """Machine-readable output: environment, region, overall ok and every check."""
    return json.dumps(
        {
            "environment": env,
            "region": region,
            "ok": all_ok(results),
            "checks": [asdict(r) for r in results],
        },
        indent=2,
    )
