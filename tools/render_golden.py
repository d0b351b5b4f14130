"""Regenerate the golden collector configurations under tests/library/golden/.

Usage: ``.venv/bin/python tools/render_golden.py`` (the same as running
``UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/library/test_config_golden.py``).
Review the diff like code before committing it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for entry in (str(ROOT / "constructs"), str(ROOT)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from otel_fargate.config import render  # noqa: E402

from tests.library.golden_cases import CASES  # noqa: E402

GOLDEN = ROOT / "tests" / "library" / "golden"


def main() -> int:
    """Write one YAML file per case and remove files of cases that no longer exist."""
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, options in sorted(CASES.items()):
        path = GOLDEN / f"{name}.yaml"
        text = render(options).yaml
        changed = not path.exists() or path.read_text(encoding="utf-8") != text
        path.write_text(text, encoding="utf-8")
        print(f"{'updated' if changed else 'unchanged'}: {path.relative_to(ROOT)}")
    for path in sorted(GOLDEN.glob("*.yaml")):
        if path.stem not in CASES:
            path.unlink()
            print(f"removed: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
