"""A day summed up as its records are written (issue 28: the per-call columns kept only
while a replication needs them): ``DaySums`` given the day's columns an interval at a
time gives the same statistics, to the last bit, as the whole day's columns at once."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from callsim.analytics.metrics import DaySums, call_columns, reduce_replication
from callsim.core import CallRecord, Channel
from callsim.scenario import load_scenario
from callsim.sim.channels import channel_window
from callsim.sim.engine import Replication
from callsim.sim.plan import build_plan

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.mark.parametrize(
    "name", ["skills-centre", "callbacks", "erlang-c-twin", "answering-service", "channels"]
)
def test_a_day_summed_a_part_at_a_time_is_the_day_summed_at_once(name: str) -> None:
    """Every statistic, also the clients' counts (the inbound flow's facts) and the
    chats' merged busy time, which the shell sums after the day from its kept parts."""
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    plan = build_plan(scenario)
    frame = plan.frame()
    callbacks = name == "callbacks"
    chunks: list[list[CallRecord]] = []
    rep = Replication(plan, 7, 1)
    chunks.append(rep.run(chunks.append))
    spans = rep.spans()
    facts = rep.facts() if plan.clients else None
    window = channel_window(scenario, plan)
    held = None
    if window is not None:
        held = np.array([window.channel[q] is Channel.CHAT for q in frame.queues])
        assert held.any()
    assert (facts is not None) == (name == "answering-service")
    assert len(chunks) > 4
    day = DaySums(frame, facts, callbacks=callbacks, held=held)
    for chunk in chunks:
        day.add(call_columns(chunk, frame, callbacks))
    parts = day.stats(spans, 3)
    whole = reduce_replication(frame, [r for c in chunks for r in c], spans, 3, facts,
                               callbacks=callbacks, held=held)  # fmt: skip
    assert parts.wait_answered_s.sum() > 0  # sums of times, not only counts
    assert (parts.client_counts.sum() > 0) == (facts is not None)
    with pytest.raises(RuntimeError):  # the sums are the day's: read once, then final
        day.stats(spans, 3)
    for f in fields(whole):
        a, b = getattr(parts, f.name), getattr(whole, f.name)
        if isinstance(b, np.ndarray):
            assert a.dtype == b.dtype, f.name
            assert a.tobytes() == b.tobytes(), f.name  # the same bits
        else:
            assert a == b, f.name
