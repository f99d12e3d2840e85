"""Terminal output: rich consoles, tables and progress. The only home of rich."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

err = Console(stderr=True, highlight=False, soft_wrap=True)


def out() -> Console:
    """A console on the current stdout (made per call so test capture sees it)."""
    return Console(file=sys.stdout, highlight=False, soft_wrap=True)


def error_line(message: str) -> None:
    """One plain line on stderr, no markup, no wrapping: ``Error: ...``."""
    sys.stderr.write(f"Error: {message}\n")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    console = out()
    # a terminal wraps the table to its width; piped into a file or a log, it keeps its
    # natural width (rich would squeeze it into 80 columns, wrapping cells)
    if not console.is_terminal:
        natural = console.measure(table, options=console.options.update(max_width=1000))
        console.width = max(console.width, natural.maximum)
    console.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


@contextmanager
def progress(description: str, total: int, *, enabled: bool = True) -> Iterator[Progress]:
    """A progress bar on stderr; silent when stderr is not a terminal."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not (enabled and err.is_terminal),
        transient=True,
    )
    with bar:
        bar.add_task(description, total=total)
        yield bar
