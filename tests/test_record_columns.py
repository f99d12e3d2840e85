"""A day's call records written by the core as columns (issue 28: per-call output into
flat lists): ``Acd(columns=True)`` writes, where it would append a ``CallRecord``, the
fields a day's statistics read into a list each, and the shell reads them into the very
columns it got from the records (``record_columns`` against ``call_columns``), to the
last bit, on the same day run twice."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from callsim.analytics.metrics import OUTCOMES, call_columns, record_columns
from callsim.core import CallRecord, Outcome, RecordColumns
from callsim.core.record import outcome_index
from callsim.scenario import load_scenario
from callsim.sim.engine import Replication
from callsim.sim.plan import build_plan

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.mark.parametrize(
    "name",
    ["skills-centre", "callbacks", "answering-service", "channels", "two-sites", "erlang-c-twin"],
)
def test_the_cores_columns_are_the_records_columns(name: str) -> None:
    """Every column, part by part: queues and agents by index, outcomes, times, callback
    times, the overflow queues of the calls that overflowed (skills-centre, two-sites)."""
    plan = build_plan(load_scenario(SCENARIOS / f"{name}.yaml"))
    frame = plan.frame()
    records: list[list[CallRecord]] = []
    rep = Replication(plan, 11, 2)
    records.append(rep.run(records.append))
    columns: list[RecordColumns] = []
    core = Replication(plan, 11, 2, columns=True)
    queues, agents = core.acd.queue_names(), core.acd.agent_names()
    columns.append(core.run_columns(columns.append))
    assert core.acd.take_records() == []  # none written as records
    assert [len(c) for c in columns] == [len(r) for r in records]
    assert sum(map(len, records)) > 100
    overflowed = 0
    for got, want in zip(columns, records, strict=True):
        a = record_columns(got, frame, queues, agents)
        b = call_columns(want, frame)
        for f in fields(b):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if isinstance(y, np.ndarray):
                assert x.dtype == y.dtype, f.name
                assert x.tobytes() == y.tobytes(), f.name  # the same bits (NaN too)
            else:
                assert x == y, f.name
        overflowed += len(b.overflowed_to)
    if name in ("skills-centre", "two-sites"):
        assert overflowed > 0


def test_a_replication_of_columns_returns_no_records() -> None:
    """The records are the columns' or the list's, never both (and the default is the
    list: the live service, traces and ``take_records`` readers)."""
    plan = build_plan(load_scenario(SCENARIOS / "erlang-c-twin.yaml"))
    rep = Replication(plan, 1, 0, columns=True)
    assert rep.run() == []
    assert len(rep.acd.take_columns()) > 100  # written as columns, still to be taken
    plain = Replication(plan, 1, 0)
    assert len(plain.run()) > 100
    assert len(plain.acd.take_columns()) == 0


def test_an_outcome_is_written_as_its_place_in_outcomes_order() -> None:
    assert [outcome_index(o) for o in Outcome] == list(range(len(Outcome)))
    assert OUTCOMES[outcome_index(Outcome.ABANDONED)] == "abandoned"
