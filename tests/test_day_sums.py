"""A day summed up as its records are written (issue 28: the per-call columns kept only
while a replication needs them): ``DaySums`` given the day's columns an interval at a
time gives the same statistics, to the last bit, as the whole day's columns at once."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from callsim.analytics.metrics import DaySums, call_columns, reduce_replication
from callsim.core import CallRecord
from callsim.scenario import load_scenario
from callsim.sim.engine import Replication
from callsim.sim.plan import build_plan

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.mark.parametrize("name", ["skills-centre", "callbacks", "erlang-c-twin"])
def test_a_day_summed_a_part_at_a_time_is_the_day_summed_at_once(name: str) -> None:
    plan = build_plan(load_scenario(SCENARIOS / f"{name}.yaml"))
    frame = plan.frame()
    callbacks = name == "callbacks"
    chunks: list[list[CallRecord]] = []
    rep = Replication(plan, 7, 1)
    chunks.append(rep.run(chunks.append))
    spans = rep.spans()
    assert len(chunks) > 4
    day = DaySums(frame, callbacks=callbacks)
    for chunk in chunks:
        day.add(call_columns(chunk, frame, callbacks))
    parts = day.stats(spans, 3)
    whole = reduce_replication(frame, [r for c in chunks for r in c], spans, 3,
                               callbacks=callbacks)  # fmt: skip
    assert parts.wait_answered_s.sum() > 0  # sums of times, not only counts
    for f in fields(whole):
        a, b = getattr(parts, f.name), getattr(whole, f.name)
        if isinstance(b, np.ndarray):
            assert a.dtype == b.dtype, f.name
            assert a.tobytes() == b.tobytes(), f.name  # the same bits
        else:
            assert a == b, f.name
