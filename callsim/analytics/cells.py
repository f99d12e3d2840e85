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

from dataclasses import dataclass

import numpy as np

from callsim.analytics import kpi
from callsim.analytics.metrics import (
    _OUTCOME_INDEX,
    CallColumns,
    CallFacts,
    Frame,
    call_columns,
    counted_cells,
)
from callsim.core import CallRecord, Outcome


@dataclass(frozen=True, slots=True)
class CellCounts:
    """One replication's counts per cell; arrays are [interval, queue]."""

    offered: np.ndarray
    abandoned: np.ndarray
    within: np.ndarray


def reduce_cells(
    frame: Frame,
    records: list[CallRecord] | CallColumns,
    facts: CallFacts | None = None,
    callbacks: bool = False,
) -> CellCounts:
    """The cells' counts of one replication (``reduce_replication``'s ``offered``,
    ``abandoned`` and ``within``, from the same arguments and the same rule,
    ``metrics.counted_cells``), of its records or their columns."""
    n_int, n_q = frame.n_intervals, len(frame.queues)
    # records are read as the replication reads them (``call_columns``)
    c = records if isinstance(records, CallColumns) else call_columns(records, frame, callbacks)
    queue, outcome, wait, arrival = c.queue, c.outcome, c.wait_s, c.arrival_s
    ids = c.call if facts else np.zeros(0, np.intp)
    # columns read without callback times cannot say who asked for one
    assert not callbacks or c.callback_s is not None
    asked = c.callback_s if callbacks else None
    answered = outcome == _OUTCOME_INDEX[Outcome.ANSWERED]
    abandoned = outcome == _OUTCOME_INDEX[Outcome.ABANDONED]
    found = counted_cells(frame, asked, queue, outcome, wait, arrival, ids, facts)
    counted, cell = found.counted, found.cell

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
    return {
        "offered": offered,
        "service_level": kpi.service_level(within, offered),
        "abandon_rate": kpi.abandon_rate(abandoned, offered),
    }
