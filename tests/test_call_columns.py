"""A day's records as columns, an interval at a time (issue 28: nothing per call kept
that no output needs): the records handed over while the day runs are the day's records,
in order, and their columns joined are the columns of the whole day's records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from callsim.analytics.metrics import CallColumns, call_columns, reduce_replication
from callsim.core import CallRecord
from callsim.scenario import load_scenario
from callsim.sim.engine import Replication
from callsim.sim.plan import build_plan

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.mark.parametrize("name", ["skills-centre", "callbacks"])
def test_records_handed_over_while_the_day_runs_are_the_days_records(name: str) -> None:
    plan = build_plan(load_scenario(SCENARIOS / f"{name}.yaml"))
    whole = Replication(plan, 7, 1).run()
    chunks: list[list[CallRecord]] = []
    last = Replication(plan, 7, 1).run(chunks.append)
    assert len(chunks) >= plan.n_intervals  # one a cut: never the whole day at once
    assert max(map(len, chunks)) < len(whole) / 4
    assert [r for c in chunks for r in c] + last == whole

    frame = plan.frame()
    joined = CallColumns.joined([call_columns(c, frame) for c in [*chunks, last]])
    at_once = call_columns(whole, frame)
    for field in CallColumns.__dataclass_fields__:
        a, b = getattr(joined, field), getattr(at_once, field)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b, field
    if name == "skills-centre":  # calls overflow to other queues' agents there
        assert joined.overflowed_to
    rep = Replication(plan, 7, 1)
    rep.run()
    spans = rep.spans()
    callbacks = name == "callbacks"
    a = reduce_replication(frame, joined, spans, 0, callbacks=callbacks)
    b = reduce_replication(frame, whole, spans, 0, callbacks=callbacks)
    for field in ("offered", "answered", "within", "busy_s", "wait_hist", "overflowed"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    if callbacks:
        assert a.callbacks is not None
        assert a.callbacks.sum() > 0
        np.testing.assert_array_equal(a.callbacks, b.callbacks)
