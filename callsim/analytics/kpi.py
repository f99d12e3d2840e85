"""The contact-centre KPI ratios, each written once, and the interval row both shells show.

Every ratio takes its counts or sums (numbers, or numpy arrays of them: per replication,
interval or queue) and is NaN where its denominator is zero (an interval without calls
has no service level). Callers turn NaN into None at their boundary (``shown``).

- ``service_level`` = calls answered within the threshold / offered calls
- ``abandon_rate`` = abandoned calls / offered calls
- ``asa_s`` = summed wait of answered calls / answered calls
- ``aht_s`` = summed talk + wrap-up of answered calls / answered calls
- ``occupancy`` = agent time busy with calls / agent time staffed
- ``p_wait`` = offered calls that waited in queue / offered calls

What counts as offered, answered or staffed is ``analytics.metrics``' business.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass, fields
from typing import Any

import numpy as np


def ratio(num: Any, den: Any) -> Any:
    """``num / den``, NaN where ``den`` is not positive (elementwise for arrays)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out if out.ndim else float(out)


def service_level(within: Any, offered: Any) -> Any:
    """Calls answered within the threshold, of the offered calls."""
    return ratio(within, offered)


def abandon_rate(abandoned: Any, offered: Any) -> Any:
    """Abandoned calls, of the offered calls."""
    return ratio(abandoned, offered)


def asa_s(wait_answered_s: Any, answered: Any) -> Any:
    """Average speed of answer: the mean wait of answered calls, seconds."""
    return ratio(wait_answered_s, answered)


def aht_s(handle_s: Any, answered: Any) -> Any:
    """Average handle time: the mean talk + wrap-up of answered calls, seconds."""
    return ratio(handle_s, answered)


def occupancy(busy_s: Any, staffed_s: Any) -> Any:
    """Agent time busy with calls (talk + wrap-up), of agent time staffed."""
    return ratio(busy_s, staffed_s)


def p_wait(waited: Any, offered: Any) -> Any:
    """Offered calls that waited in queue, of the offered calls."""
    return ratio(waited, offered)


def mean_wait_s(wait_answered_s: Any, wait_abandoned_s: Any, answered: Any, abandoned: Any) -> Any:
    """The mean wait of the calls that ended in the queue: answered and abandoned."""
    return ratio(np.add(wait_answered_s, wait_abandoned_s), np.add(answered, abandoned))


def share(part: Any, whole: Any) -> Any:
    """``part`` of a count ``whole`` of calls or callers, 0 where there were none (the
    counts-a-day shares of the simulator's summary: busy, callbacks, right-party)."""
    out = np.asarray(part, dtype=float) / np.maximum(np.asarray(whole, dtype=float), 1)
    return out if out.ndim else float(out)


def recall_free_share(served: Any, recalled: Any) -> Any:
    """The simulator's follow-up figure: of the served first calls (no follow-ups
    themselves), the share whose caller did not call again, however late (the recalls
    that would come after the horizon's end count). Not the live service's
    ``first_contact_resolution``, which has a window and counts open tickets
    (``analytics.metrics.first_contact_resolution``); 0 without served calls."""
    return 1 - share(recalled, served)


def shown(x: Any, digits: int | None = None) -> float | None:
    """A figure for JSON and tables: NaN (undefined) as None, else a float (rounded to
    ``digits`` when given)."""
    value = float(x)
    if math.isnan(value):
        return None
    return value if digits is None else round(value, digits)


@dataclass(frozen=True, slots=True)
class IntervalRow:
    """One interval and queue: the simulator's ``intervals.csv`` row (means over the
    replications, with 95 % CI half-widths) and the live service's ``/v1/stats/intervals``
    row (one observed day: ``day`` 1 and no CI). None: undefined (no calls, nobody
    staffed)."""

    day: int  # 1, 2, ...: the run's day (a live day: 1)
    interval_start: str  # HH:MM on the day's clock
    queue: str
    offered: float | None
    answered: float | None
    abandoned: float | None
    service_level: float | None
    service_level_ci95: float | None
    abandon_rate: float | None
    abandon_rate_ci95: float | None
    asa_s: float | None
    asa_s_ci95: float | None
    aht_s: float | None
    occupancy: float | None
    occupancy_ci95: float | None
    p_wait: float | None
    agents_staffed: float | None  # mean agents staffed for the queue: staffed time / interval

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON (field names as the CSV's columns)."""
        return dict(zip(INTERVAL_COLUMNS, astuple(self), strict=True))

    def values(self) -> tuple[Any, ...]:
        """The row's values, in ``INTERVAL_COLUMNS`` order (a CSV line)."""
        return astuple(self)


INTERVAL_COLUMNS = tuple(f.name for f in fields(IntervalRow))
