"""The requirement a roster covers: the agents each interval of a day needs, as
``callsim staff`` writes it, given for dates or weekdays: ``plan.csv`` of ``staff
--forecast`` (interval_start, calls, aht_s, ..., agents, agents_scheduled) or
``staff.csv`` of ``staff SCENARIO [--simulate]`` (interval_start, calls, ..., one column
of agents per profile)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from callsim.analytics.forecast import csv_number, csv_table
from callsim.errors import InputError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
COLUMNS = ("interval_start", "calls")


@dataclass(frozen=True, slots=True)
class DayNeed:
    """One day on the 24-hour grid: agents needed, calls and their handle time."""

    source: str
    agents: np.ndarray  # [interval] whole agents
    calls: np.ndarray  # [interval]
    aht_s: np.ndarray  # [interval], NaN where not given


def read_need(path: Path, interval_min: int, column: str = "agents_scheduled") -> DayNeed:
    """A staffing plan's ``column`` of agents per interval: ``agents_scheduled`` (after
    shrinkage) or ``agents`` (on the phones) of ``plan.csv``, or a profile of
    ``staff.csv``; ``aht_s`` where the plan has it."""
    header, table = csv_table(path, "requirement", (), None)
    missing = [c for c in (*COLUMNS, column) if c not in header]
    if missing or column in (*COLUMNS, "aht_s"):
        raise InputError(
            f"{path}: no column {(missing or [column])[0]!r} of agents (expected a staffing "
            "plan of `callsim staff`: interval_start, calls, and the agents' column; found: "
            f"{', '.join(header) or 'none'})"
        )
    per_day = 1440 // interval_min
    agents, calls, aht = np.zeros(per_day), np.zeros(per_day), np.full(per_day, np.nan)
    for line, row in table:
        start = row["interval_start"]
        hh, _, mm = start.partition(":")
        at = int(hh) * 60 + int(mm) if hh.isdigit() and mm.isdigit() else -1
        if not 0 <= at < 1440 or at % interval_min:
            raise InputError(
                f"{path}: row {line}: interval_start {start!r} is not a time HH:MM on the "
                f"{interval_min}-minute grid"
            )
        i = at // interval_min
        agents[i] = csv_number(path, line, column, row[column], positive=False)
        calls[i] = csv_number(path, line, "calls", row["calls"], positive=False)
        if row.get("aht_s"):
            aht[i] = csv_number(path, line, "aht_s", row["aht_s"], positive=True)
    return DayNeed(str(path), np.ceil(agents), calls, aht)


def needs_by_day(
    given: dict[str, DayNeed], first: date, days: int, interval_min: int
) -> list[DayNeed]:
    """Each roster day's requirement: its date's, else its weekday's, else ``all``'s,
    else none (no agent needed)."""
    for when in given:
        if when not in WEEKDAYS and when != "all":
            try:
                date.fromisoformat(when)
            except ValueError:
                raise InputError(
                    f"{when!r} is not a date YYYY-MM-DD, a weekday ({', '.join(WEEKDAYS)}) or all",
                    field="requirement",
                ) from None
    per_day = 1440 // interval_min
    none = DayNeed("none", np.zeros(per_day), np.zeros(per_day), np.full(per_day, np.nan))
    out = []
    for k in range(days):
        day = first + timedelta(days=k)
        keys = (day.isoformat(), WEEKDAYS[day.weekday()], "all")
        out.append(next((given[w] for w in keys if w in given), none))
    return out
