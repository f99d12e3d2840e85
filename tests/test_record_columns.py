"""A day's call records written by the core as columns (issue 28: per-call output into
flat lists): ``Acd(columns=True)`` writes, where it would append a ``CallRecord``, the
fields a day's statistics read into a list each, and the shell reads them into the very
columns it got from the records (``record_columns`` against ``call_columns``), to the
last bit, on the same day run twice."""

from __future__ import annotations

import random
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from callsim.analytics.metrics import Frame, call_columns, record_columns
from callsim.core import (
    Acd,
    AcdConfig,
    AgentAnswered,
    AgentConfig,
    AgentLoggedIn,
    CallArrived,
    CallEnded,
    CallRecord,
    QueueConfig,
    RecordColumns,
    Ring,
    RoutingConfig,
)
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
    columns.append(core.run_columns(columns.append))
    assert [len(c) for c in columns] == [len(r) for r in records]
    assert sum(map(len, records)) > 100
    overflowed = 0
    for got, want in zip(columns, records, strict=True):
        a = record_columns(got, frame)
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


def test_a_replication_of_columns_has_no_records_to_take() -> None:
    """The records are the columns' or the list's, never both, and asking an ACD for the
    output it does not write is an error, not a day of zero calls (the default is the
    list: the live service, traces and ``take_records`` readers)."""
    plan = build_plan(load_scenario(SCENARIOS / "erlang-c-twin.yaml"))
    rep = Replication(plan, 1, 0, columns=True)
    with pytest.raises(RuntimeError, match="take_columns"):
        rep.run()
    assert len(Replication(plan, 1, 0, columns=True).run_columns()) > 100
    plain = Replication(plan, 1, 0)
    with pytest.raises(RuntimeError, match="take_records"):
        plain.run_columns()
    assert len(Replication(plan, 1, 0).run()) > 100


def test_an_agent_the_core_meets_during_the_day_is_named_in_its_columns() -> None:
    """Columns name the queues and agents their indexes point to as the core knew them when
    they were taken: an agent who logs in with skills of their own after the ACD was made
    answers a call, and the columns say it was that agent (not "no agent")."""
    config = AcdConfig(
        queues=(QueueConfig("general", ("general",)),),
        agents=(AgentConfig("a", {"general": 1}),),
        routing=RoutingConfig(),
    )
    acd = Acd(config, random.Random(1), columns=True)
    acd.handle(AgentLoggedIn("b", skills={"general": 1}), 0.0)
    offered = acd.handle(CallArrived(1, "general"), 1.0)
    (agent,) = {c.agent for c in offered if isinstance(c, Ring)}
    acd.handle(AgentAnswered(agent, 1), 2.0)
    acd.handle(CallEnded(1), 30.0)
    got = acd.take_columns()
    assert got.agents == ("a", "b")
    frame = Frame(0.0, 1800.0, 2, ("general",), ("b", "a"), 0, 20.0, 0.0)
    assert record_columns(got, frame, False).agent.tolist() == [frame.agents.index(agent)]
