"""README.md read as data: its tables by heading and header names, and what a cell says.

Drift checks compare these with the code. Tables are found by their column names and the
heading above them, never by position, so rows and tables added later are read the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.conftest import REPO_ROOT

README = REPO_ROOT / "README.md"
_CODE = re.compile(r"`([^`]*)`")


@dataclass(frozen=True)
class Table:
    """A Markdown table: the heading it sits under, its column names, its rows by column."""

    heading: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...]


def split_row(line: str) -> list[str]:
    """The cells of a table line; a ``|`` inside backticks belongs to its cell."""
    cells, cell, in_code = [], "", False
    for char in line.strip().strip("|"):
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            cells.append(cell.strip())
            cell = ""
        else:
            cell += char
    cells.append(cell.strip())
    return cells


def tables(text: str | None = None) -> list[Table]:
    """Every table of the README (or of ``text``), with the heading it sits under."""
    lines = (text if text is not None else README.read_text()).splitlines()
    found: list[Table] = []
    heading, i = "", 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        is_table = (
            line.startswith("|") and i + 1 < len(lines) and re.match(r"^\|[-| :]+\|$", lines[i + 1])
        )
        if not is_table:
            i += 1
            continue
        columns = tuple(split_row(line))
        rows: list[dict[str, str]] = []
        i += 2
        while i < len(lines) and lines[i].startswith("|"):
            rows.append(dict(zip(columns, split_row(lines[i]), strict=False)))
            i += 1
        found.append(Table(heading=heading, columns=columns, rows=tuple(rows)))
    return found


def table(*, columns: tuple[str, ...], heading: str = "") -> Table:
    """The one table with these column names (each a header, or the end of one) under a
    heading containing ``heading``.
    """
    matches = [
        t
        for t in tables()
        if heading in t.heading
        and all(any(c == want or c.endswith(want) for c in t.columns) for want in columns)
    ]
    assert len(matches) == 1, f"README: expected one table {columns} under {heading!r}, found {len(matches)}"
    return matches[0]


def cell(row: dict[str, str], column: str) -> str:
    """The cell of ``row`` in the column named ``column`` (or ending with it)."""
    (key,) = [c for c in row if c == column or c.endswith(column)]
    return row[key]


def code_spans(text: str) -> list[str]:
    """What ``text`` writes in backticks, in order."""
    return _CODE.findall(text)


def identifiers(text: str) -> list[str]:
    """The Python identifiers ``text`` writes in backticks (``cpu``, ``memory_mib``)."""
    return [span for span in code_spans(text) if re.fullmatch(r"[a-z_][a-z0-9_]*", span)]


def iam_actions(text: str) -> set[str]:
    """The IAM actions ``text`` writes in backticks (``logs:PutLogEvents``)."""
    return {span for span in code_spans(text) if re.fullmatch(r"[a-z0-9-]+:[A-Z][A-Za-z]+", span)}


def paragraph(starting: str) -> str:
    """The README paragraph that contains ``starting``, joined into one line."""
    text = README.read_text()
    start = text.index(starting)
    begin = text.rfind("\n\n", 0, start) + 2
    end = text.find("\n\n", start)
    return " ".join(text[begin:end].split())
