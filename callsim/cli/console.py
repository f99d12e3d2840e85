"""Terminal output: rich consoles, tables and progress. The only home of rich, which is
imported when first used: a quiet run, which prints no table and draws no bar, loads
none of it (54 modules)."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from rich.console import Console


@cache
def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


class _Stderr:
    """The rich console on stderr, made when first used."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_stderr(), name)


err = cast("Console", _Stderr())


def out() -> Console:
    """A console on the current stdout (made per call so test capture sees it)."""
    from rich.console import Console

    return Console(file=sys.stdout, highlight=False, soft_wrap=True)


def error_line(message: str) -> None:
    """One plain line on stderr, no markup, no wrapping: ``Error: ...``."""
    sys.stderr.write(f"Error: {message}\n")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A table on stdout. On a terminal, columns that would not fit its width go on into
    further tables (the first column repeated), so no number is ever cut, and a long
    title goes on over lines of the terminal's width; piped into a file or a log, the
    table keeps its natural width."""
    console = out()
    cells = [[_cell(v) for v in row] for row in rows]
    if console.is_terminal:
        chunks = fit_columns(columns, cells, console.width)
        title = "\n".join(textwrap.wrap(title, console.width))
    else:
        chunks = [list(range(1, len(columns)))]
    from rich.table import Table

    for n, chunk in enumerate(chunks):
        table = Table(title=title + (" (continued)" if n else ""), title_justify="left")
        table.add_column(columns[0], justify="left", overflow="fold")
        for i in chunk:
            table.add_column(columns[i], justify="right", no_wrap=True)
        for row in cells:
            table.add_row(row[0], *(row[i] for i in chunk))
        if not console.is_terminal:
            natural = console.measure(table, options=console.options.update(max_width=1000))
            console.width = max(console.width, natural.maximum)
        console.print(table)


def fit_columns(
    columns: Sequence[str], cells: Sequence[Sequence[str]], width: int
) -> list[list[int]]:
    """Split columns 1.. into runs that fit ``width`` beside column 0 (each column takes
    its widest cell plus 3 characters of padding and rule; the table 1 more)."""

    def need(i: int) -> int:
        return max([len(columns[i]), *(len(row[i]) for row in cells)]) + 3

    first = min(need(0), max(12, width // 3))  # a long name column wraps instead
    chunks: list[list[int]] = [[]]
    used = 1 + first
    for i in range(1, len(columns)):
        if chunks[-1] and used + need(i) > width:
            chunks.append([])
            used = 1 + first
        chunks[-1].append(i)
        used += need(i)
    return chunks


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


class _NoBar:
    """What the users of a progress bar call on it (rich's ``Progress``), doing nothing."""

    def __init__(self) -> None:
        self.task_ids: list[int] = []

    def add_task(self, description: str, total: float | None = None, **fields: Any) -> int:
        self.task_ids.append(len(self.task_ids))
        return self.task_ids[-1]

    def advance(self, task_id: int, advance: float = 1) -> None:
        pass

    def update(self, task_id: int, **fields: Any) -> None:
        pass


@contextmanager
def progress(description: str, total: int | None, *, enabled: bool = True) -> Iterator[Any]:
    """A progress bar on stderr (rich's ``Progress``); silent when stderr is not a
    terminal, and not made when not ``enabled``. ``total`` None: a count of what is
    done, with no end known."""
    if not enabled:
        quiet = _NoBar()
        quiet.add_task(description, total=total)
        yield quiet
        return
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = _stderr()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}" if total is not None else "{task.completed}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    )
    with bar:
        bar.add_task(description, total=total)
        yield bar
