"""README.md against the code it describes: option tables and defaults, the IAM table, the
probe's exit codes, and the benchmark figures' scripts.

Each check reads the README's tables by their column names, so a row added later is checked
like the others, and a README or code change that makes them disagree fails here.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import Any

import otel_fargate
import pytest
from otel_fargate import (
    CollectorGateway,
    CollectorOptions,
    CollectorSidecar,
    EmbeddedCollector,
    PrometheusScraper,
    SamplingTier,
)
from otel_fargate.config.model.component_iam import COMPONENT_IAM

from tests.conftest import REPO_ROOT
from tests.readme import Table, cell, code_spans, iam_actions, identifiers, table, tables

_NO_DEFAULT = object()


# -- option tables: every name is a parameter, every default is the code's, docstring included --


def _docstring_entry(owner: Any, name: str) -> str:
    """The Google-style ``Args:``/``Attributes:`` entry of ``name`` in ``owner``'s docstring."""
    doc = inspect.getdoc(owner) or ""
    match = re.search(
        rf"^(?P<indent>\s*){re.escape(name)}: (?P<text>.*(?:\n(?P=indent)\s+.*)*)", doc, re.MULTILINE
    )
    assert match is not None, f"{owner.__name__}'s docstring does not document {name}"
    return " ".join(match["text"].split())


def _code_default(owners: tuple[Any, ...], name: str) -> tuple[Any, Any]:
    """``name``'s default and the class documenting it: a constructor parameter or a field."""
    for owner in owners:
        if dataclasses.is_dataclass(owner):
            fields = {f.name: f for f in dataclasses.fields(owner)}
            if name in fields:
                return fields[name].default, owner
        else:
            parameters = inspect.signature(owner.__init__).parameters
            if name in parameters:
                default = parameters[name].default
                return (_NO_DEFAULT if default is inspect.Parameter.empty else default), owner
    raise AssertionError(f"README option {name!r} is not an argument of {owners[0].__name__}")


def _says(text: str, value: Any) -> bool:
    """Whether README or docstring ``text`` states the default ``value``."""
    if isinstance(value, bool):
        words = ("off", "False") if not value else ("on", "True")
        return any(re.search(rf"(?<![\w-]){w}(?![\w-])", text) for w in words)
    if isinstance(value, int):
        return re.search(rf"(?<![\d.]){value}(?!\d|\.\d)", text) is not None
    if isinstance(value, str):
        return f"`{value}`" in text or f"``{value}``" in text
    raise TypeError(value)


def _parts(default_cell: str, count: int) -> list[str]:
    """The default cell cut into one part per option named in its row, when it is written
    that way (``256 units, 512 MiB``; ``on; no topic; off``); else the whole cell for each.
    """
    first_clause = re.split(r"[;:]", default_cell, maxsplit=1)[0]
    for parts in (first_clause.split(", "), default_cell.split("; ")):
        if len(parts) == count:
            return parts
    return [default_cell] * count


def _checked_defaults(
    rows: tuple[dict[str, str], ...], owners: tuple[Any, ...]
) -> list[tuple[str, str, str, Any]]:
    """(option, README part, docstring entry, code default) for every scalar default."""
    checked = []
    for row in rows:
        names = identifiers(cell(row, "option"))
        if cell(row, "default").startswith("as for the sidecar"):
            continue  # stated, and checked, in the sidecar's table
        for name, part in zip(names, _parts(cell(row, "default"), len(names)), strict=True):
            default, owner = _code_default(owners, name)
            if isinstance(default, bool | int | str) and default is not _NO_DEFAULT:
                checked.append((name, part, _docstring_entry(owner, name), default))
    return checked


OPTION_TABLES: list[tuple[str, tuple[Any, ...]]] = [
    ("CollectorSidecar(", (CollectorSidecar, CollectorOptions)),
    ("CollectorGateway(", (CollectorGateway, CollectorOptions)),
    ("The scale tier", (SamplingTier,)),
    ("EmbeddedCollector(", (EmbeddedCollector, CollectorOptions)),
    ("PrometheusScraper(", (PrometheusScraper, CollectorOptions)),
]


@pytest.mark.parametrize(("heading", "owners"), OPTION_TABLES, ids=[h for h, _ in OPTION_TABLES])
def test_option_tables_state_the_codes_defaults(heading: str, owners: tuple[Any, ...]) -> None:
    # GIVEN the README's option table of a construct
    rows = table(columns=("option", "default"), heading=heading).rows
    checked = _checked_defaults(rows, owners)
    assert len(checked) >= 5, checked
    # THEN every scalar default it states is the code's, and the docstring says the same
    for name, part, docstring, default in checked:
        assert _says(part, default), f"README {heading}: {name} default is {default!r}, the table says {part!r}"
        said = re.split(r"[Dd]efault:", docstring, maxsplit=1)
        assert len(said) == 2 and _says(said[1], default), (
            f"{owners[0].__name__}: the docstring of {name} does not say its default {default!r}: {docstring!r}"
        )


@pytest.mark.parametrize(
    "construct", [CollectorSidecar, CollectorGateway, SamplingTier, EmbeddedCollector, PrometheusScraper]
)
def test_every_argument_of_a_construct_is_in_its_table(construct: Any) -> None:
    heading = {CollectorSidecar: "CollectorSidecar(", CollectorGateway: "CollectorGateway(",
               SamplingTier: "The scale tier", EmbeddedCollector: "EmbeddedCollector(",
               PrometheusScraper: "PrometheusScraper("}[construct]
    documented = {
        name for row in table(columns=("option", "default"), heading=heading).rows
        for name in identifiers(cell(row, "option"))
    }
    if dataclasses.is_dataclass(construct):
        own = {f.name for f in dataclasses.fields(construct)}
    else:
        own = set(inspect.signature(construct.__init__).parameters) - {
            "self", "scope", "construct_id", "options", "kwargs"
        }
    assert own - documented == set(), f"README's {heading} table misses {sorted(own - documented)}"


def test_the_shared_options_the_readme_lists_are_collector_options() -> None:
    # GIVEN the sentence listing the options both constructs share
    text = " ".join(README_TEXT.split())
    listed = text[text.index("The options both constructs share (") :].split(")", 1)[0]
    names = identifiers(listed)
    # THEN each is a field of CollectorOptions
    fields = {f.name for f in dataclasses.fields(CollectorOptions)}
    assert len(names) >= 10 and set(names) <= fields, set(names) - fields


README_TEXT = (REPO_ROOT / "README.md").read_text()


# -- the IAM table against the component-IAM data -------------------------------------------------


def _exporter_classes() -> dict[str, Any]:
    return {
        name: getattr(otel_fargate, name)
        for name in otel_fargate.__all__
        if name.endswith("Exporter") and inspect.isclass(getattr(otel_fargate, name))
    }


def test_every_exporter_row_grants_what_component_iam_names() -> None:
    # GIVEN the README's table of exporters and the IAM they grant
    rows = table(columns=("signals", "task role gets"), heading="Exporters and the IAM").rows
    classes = _exporter_classes()
    seen: set[str] = set()
    previous: set[str] = set()
    for row in rows:
        first = cell(row, "exporter (Python / cdk.json key)")
        names = [s for s in code_spans(first) if s in classes]
        granted = cell(row, "task role gets")
        actions = previous if granted.startswith("the same") else iam_actions(granted)
        previous = actions
        for name in names:
            seen.add(name)
            entry = COMPONENT_IAM["exporters"][classes[name].component_type]
            # THEN the row names exactly the actions component_iam.py names for its component
            assert actions == set(entry.actions), (
                f"README IAM row {name}: {sorted(actions)}; component_iam.py: {sorted(entry.actions)}"
            )
            assert actions or granted.startswith("nothing"), name
    # AND every exporter the library exports has a row
    assert seen == set(classes), f"exporters without a README IAM row: {sorted(set(classes) - seen)}"


def test_the_xray_daemon_receivers_iam_row_is_component_iams() -> None:
    rows = table(columns=("what", "how"), heading="X-Ray SDK").rows
    (iam_row,) = [row for row in rows if cell(row, "what") == "IAM"]
    assert iam_actions(cell(iam_row, "how")) == set(COMPONENT_IAM["receivers"]["awsxray"].actions)


# -- the probe's exit codes ------------------------------------------------------------------------


def _exit_codes(readme_tables: list[Table]) -> dict[int, str]:
    """Exit code -> the stderr prefix the table gives it (the last row's, for a repeated code)."""
    (codes,) = [t for t in readme_tables if t.columns[0] in ("exit code", "code") and t.columns[1] == "meaning"]
    return {int(row[codes.columns[0]]): row[codes.columns[2]] for row in codes.rows}


def test_the_probe_exit_codes_are_the_same_in_both_readmes_and_the_code() -> None:
    # GIVEN the exit-code tables of README.md and healthcheck/README.md and the probe's constants
    ours = _exit_codes(tables())
    probes = _exit_codes(tables((REPO_ROOT / "healthcheck" / "README.md").read_text()))
    source = (REPO_ROOT / "healthcheck" / "main.go").read_text()
    constants = {int(v) for v in re.findall(r"^\s*exit[A-Z]\w*\s*=\s*(\d+)$", source, re.MULTILINE)}
    # THEN they list the same codes
    assert set(ours) == set(probes) == constants == {0, 2, 3, 4}
    assert ours[2] == probes[2] == "`error:`"
    assert ours[4] == probes[4] == "`unhealthy:`"


# -- every benchmark figure is printed by the script its row names ---------------------------------


def _label(benchmark: str) -> str:
    """A row's label: its benchmark text up to the first comma or parenthesis, as printed."""
    return re.split(r",| \(", benchmark.replace("`", ""), maxsplit=1)[0].strip()


def _script(command: str) -> str:
    (path,) = [s for s in command.replace("`", " ").split() if s.startswith("benchmarks/")]
    return path


def _prints(source: str, label: str) -> bool:
    """Whether ``source`` prints a line holding ``label`` (print, printf or echo)."""
    lines = source.splitlines()
    return any(
        label in line and any(w in " ".join(lines[max(0, i - 3) : i + 1]) for w in ("print", "echo"))
        for i, line in enumerate(lines)
    )


def test_every_benchmark_row_names_a_script_that_prints_its_label() -> None:
    # GIVEN the README's benchmark table ("same" repeats the row above's command)
    rows = table(columns=("benchmark", "command", "figure", "target"), heading="Benchmarks").rows
    assert len(rows) >= 9
    command = ""
    for row in rows:
        command = command if cell(row, "command") == "same" else cell(row, "command")
        label = _label(cell(row, "benchmark"))
        script = REPO_ROOT / _script(command)
        # THEN the script exists, and it prints the figure under the README's label
        assert script.is_file(), f"README benchmark {label!r}: no {script}"
        assert _prints(script.read_text(), label), f"{script.name} prints no {label!r}"


def test_make_bench_runs_every_script_the_table_names() -> None:
    rows = table(columns=("benchmark", "command", "figure", "target"), heading="Benchmarks").rows
    scripts = {_script(cell(r, "command")) for r in rows if cell(r, "command") != "same"}
    makefile = (REPO_ROOT / "Makefile").read_text()
    bench = makefile[makefile.index("\nbench:") :].split("\n\n", 1)[0]
    assert scripts and all(s in bench for s in scripts), (scripts, bench)

