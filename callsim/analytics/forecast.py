"""A day's forecast (one CSV row per interval) and its per-interval staffing plan."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from callsim.analytics.staffing import Staffing, Target, required_agents
from callsim.errors import InputError, utf8_text

REQUIRED = ("interval_start", "calls", "aht_s")
OPTIONAL = ("patience_s",)


@dataclass(frozen=True, slots=True)
class Interval:
    start: str  # "HH:MM" as written
    calls: float
    aht_s: float
    patience_s: float | None


@dataclass(frozen=True, slots=True)
class PlanRow:
    interval: Interval
    staffing: Staffing


def load_forecast(path: Path) -> list[Interval]:
    """Read ``interval_start, calls, aht_s[, patience_s]`` rows; errors name file, row, column."""
    _, table = csv_table(path, "forecast", REQUIRED, OPTIONAL)
    rows = []
    seen: dict[str, int] = {}
    for line, row in table:
        start = row["interval_start"]
        if not is_hhmm(start):
            raise InputError(f"{path}: row {line}: interval_start {start!r} is not a time HH:MM")
        if start in seen:
            raise InputError(
                f"{path}: row {line}: interval_start {start} is given twice (first in row "
                f"{seen[start]}; expected one row per interval)"
            )
        seen[start] = line
        patience = row.get("patience_s", "")
        rows.append(
            Interval(
                start=start,
                calls=csv_number(path, line, "calls", row["calls"], positive=False),
                aht_s=csv_number(path, line, "aht_s", row["aht_s"], positive=True),
                patience_s=csv_number(path, line, "patience_s", patience, positive=True)
                if patience
                else None,
            )
        )
    if not rows:
        raise InputError(f"{path}: no interval rows (expected one row per interval)")
    return rows


def is_hhmm(value: str) -> bool:
    hh, sep, mm = value.partition(":")
    return (
        bool(sep)
        and hh.isdigit()
        and mm.isdigit()
        and int(hh) < 24
        and int(mm) < 60
        and len(mm) == 2
    )


def csv_table(
    path: Path, what: str, required: Sequence[str], optional: Sequence[str] | None
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """A CSV file of ``what``: its header and its rows that are not blank, each with its
    line number and its cells stripped. One line naming the file when it cannot be read,
    is not UTF-8, lacks a ``required`` column or has one that is neither required nor
    ``optional`` (``None``: any other column is allowed)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    text = utf8_text(data, str(path))
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    unknown = [] if optional is None else [c for c in header if c not in (*required, *optional)]
    if missing or unknown:
        problem = f"missing column {missing[0]!r}" if missing else f"unknown column {unknown[0]!r}"
        expected = ", ".join(required) + (f", optional {', '.join(optional)}" if optional else "")
        raise InputError(
            f"{path}: {problem} (expected: {expected}; found: {', '.join(header) or 'none'})"
        )
    rows = []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        if any(row.values()):
            rows.append((line, row))
    return header, rows


def csv_number(path: Path, line: int, column: str, value: str, *, positive: bool) -> float:
    """A CSV cell as a number >= 0 (> 0 if ``positive``); errors name file, row, column."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        expected = "a positive number" if positive else "a number >= 0"
        raise InputError(f"{path}: row {line}: {column} {value!r} is not {expected}")
    return number


def plan_day(
    intervals: list[Interval],
    interval_min: float,
    target: Target,
    *,
    model: str = "c",
    patience_s: float | None = None,
) -> list[PlanRow]:
    """Staff every interval; a row's own ``patience_s`` overrides the default for model a."""
    if not (math.isfinite(interval_min) and interval_min > 0):
        raise InputError(f"{interval_min!r} is not a positive number", field="interval_min")
    plan = []
    for iv in intervals:
        rate = iv.calls / (interval_min * 60.0)
        patience = iv.patience_s if iv.patience_s is not None else patience_s
        plan.append(
            PlanRow(iv, required_agents(rate, iv.aht_s, target, model=model, patience_s=patience))
        )
    return plan
