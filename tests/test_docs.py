"""The Python examples of the docs pages run: each page's ```python blocks, in order, in
one namespace (a later block may use what an earlier one made)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]


@pytest.mark.parametrize("page", [p for p in PAGES if "```python" in p.read_text()], ids=str)
def test_python_examples_run(page: Path) -> None:
    namespace: dict[str, object] = {}
    for block in re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S):
        exec(compile(block, str(page), "exec"), namespace)
