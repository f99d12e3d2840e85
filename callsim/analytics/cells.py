"""What a verdict per interval and queue needs of a replication, and no more: each
(interval, queue) cell's offered, abandoned and answered-within-threshold calls, counted
exactly as ``metrics.reduce_replication`` counts them (a test holds the two equal on
the shipped scenarios), and the service level and abandon rate over replications, as
``metrics.metric_samples`` gives them.

The staffing search (``sim.staffing``) judges hundreds of simulated days on these three
counts alone; the whole reduction (busy and staffed time per agent, wait histograms and
atoms, clients, overflow) costs a third of a day's time with the compiled core and is
not read there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from operator import itemgetter

import numpy as np

from callsim.analytics.metrics import (
    _CALLBACK_S,
    _DIVERTED,
    _OUTCOME_BY_ID,
    _OUTCOME_INDEX,
    CallFacts,
    Frame,
)
from callsim.core import CallRecord, Outcome

_AT = {name: itemgetter(i) for i, name in enumerate(CallRecord._fields)}


@dataclass(frozen=True, slots=True)
class CellCounts:
    """One replication's counts per cell; arrays are [interval, queue]."""

    offered: np.ndarray
    abandoned: np.ndarray
    within: np.ndarray


def reduce_cells(
    frame: Frame,
    records: list[CallRecord],
    facts: CallFacts | None = None,
    callbacks: bool = False,
) -> CellCounts:
    """The cells' counts of one replication (``reduce_replication``'s ``offered``,
    ``abandoned`` and ``within``, from the same arguments)."""
    n_int, n_q = frame.n_intervals, len(frame.queues)
    n = len(records)
    qidx = {q: i for i, q in enumerate(frame.queues)}
    queue = np.fromiter(map(qidx.__getitem__, map(_AT["queue"], records)), np.intp, n)
    outcome = np.fromiter(
        map(_OUTCOME_BY_ID.__getitem__, map(id, map(_AT["outcome"], records))), np.intp, n
    )
    wait = np.fromiter(map(_AT["wait_s"], records), float, n)
    arrival = np.fromiter(map(_AT["arrival_s"], records), float, n)
    answered = outcome == _OUTCOME_INDEX[Outcome.ANSWERED]
    abandoned = outcome == _OUTCOME_INDEX[Outcome.ABANDONED]
    short = abandoned & (wait < frame.short_abandon_s)
    if facts:
        ids = np.fromiter(map(_AT["call"], records), np.intp, n)
        diverted = np.isin(facts.result[ids], _DIVERTED)
    else:
        diverted = np.isin(np.zeros(n, dtype=np.intp), _DIVERTED)
    k = np.floor((arrival - frame.count_from_s) / frame.interval_s).astype(np.intp)
    counted = (k >= 0) & (k < n_int) & ~short & ~diverted
    if callbacks:
        asked = np.fromiter(
            (math.nan if v is None else v for v in map(itemgetter(_CALLBACK_S), records)), float, n
        )
        counted &= np.isnan(asked)
    cell = k * n_q + queue

    def count(mask: np.ndarray | None) -> np.ndarray:
        m = counted if mask is None else counted & mask
        return np.bincount(cell[m], None, n_int * n_q).reshape(n_int, n_q)

    return CellCounts(
        offered=count(None),
        abandoned=count(abandoned),
        within=count(answered & (wait <= frame.sl_threshold_s)),
    )


def cell_samples(cells: list[CellCounts], by_queue: bool = True) -> dict[str, np.ndarray]:
    """Per replication: ``offered``, ``service_level`` and ``abandon_rate`` of every cell
    [replication, interval, queue], or with ``by_queue`` False of every interval, all
    queues together [replication, interval] (``metric_samples`` with axis None or (1,))."""

    def stack(name: str) -> np.ndarray:
        arr = np.stack([getattr(c, name) for c in cells])
        return arr if by_queue else arr.sum(axis=2)

    offered, abandoned, within = stack("offered"), stack("abandoned"), stack("within")
    with np.errstate(invalid="ignore", divide="ignore"):
        safe = np.where(offered > 0, offered, 1)
        return {
            "offered": offered,
            "service_level": np.where(offered > 0, within / safe, np.nan),
            "abandon_rate": np.where(offered > 0, abandoned / safe, np.nan),
        }
