"""The Python examples of the docs pages run and print what they say: each page's
```python blocks, in order, in one namespace (a later block may use what an earlier one
made); the ``# `` lines right under a ``print(...)`` are the lines it prints, compared as
SimPy compares its examples' output. A block that prints without saying what fails."""

from __future__ import annotations

import contextlib
import io
import itertools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]


@pytest.mark.parametrize("page", [p for p in PAGES if "```python" in p.read_text()], ids=str)
def test_python_examples_run(page: Path) -> None:
    namespace: dict[str, object] = {}
    for block in re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(block, str(page), "exec"), namespace)
        assert printed.getvalue().splitlines() == said(block), block


def said(block: str) -> list[str]:
    """What a block says it prints: the ``# `` lines right under each ``print(``."""
    lines = block.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.startswith("print("):
            out += [
                x[2:] for x in itertools.takewhile(lambda x: x.startswith("# "), lines[i + 1 :])
            ]
    return out
