"""The hand-over of a call that waited, read from a log's waits (``fit.fit_handover``):
a simulated log with a known hand-over gives it back, one without gives none."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from callsim.calibrate.fit import fit_handover
from callsim.calibrate.log import LoggedCall
from callsim.scenario import load_scenario
from callsim.sim.engine import Replication
from callsim.sim.plan import build_plan

TEXT = """
name: handover-log
horizon: {start: "08:00", end: "16:00", interval_min: 60}
queues: [{name: q, skills: [s]}]
routing: ROUTING
calls:
  - queue: q
    arrivals: {per_hour: 120}
    talk_s: {dist: exponential, mean: 170}
    patience_s: {dist: exponential, mean: 300}
agents: [{name: a, count: 6, skills: [s]}]
"""


def simulated_log(tmp_path: Path, routing: str) -> list[LoggedCall]:
    """Sixteen simulated days as a log's calls (waits as the simulator measured them)."""
    path = tmp_path / "handover.yaml"
    path.write_text(TEXT.replace("ROUTING", routing))
    plan = build_plan(load_scenario(path))
    day = date(2024, 1, 1)
    out = []
    for r in range(16):
        for rec in Replication(plan, 3, r).run():
            answered = rec.answer_s is not None
            out.append(
                LoggedCall(day, "q", "", rec.arrival_s, rec.wait_s, answered, rec.talk_s, "a")
            )
    return out


def test_a_known_handover_comes_back(tmp_path: Path) -> None:
    calls = simulated_log(tmp_path, "{handover_s: {dist: uniform, low: 2, high: 4}}")
    fit = fit_handover(calls)
    assert fit is not None
    assert fit.level >= 10
    assert fit.ramp[:2] == (0, 0)  # none answered after queueing within 1.5 s
    assert fit.mean_s == pytest.approx(3.0, abs=0.35)
    values = np.array(fit.values)
    assert values.min() >= 1.0
    assert values.max() <= 6.0  # the steady level from 6 s on: the ramp ends by then
    assert np.median(values) == pytest.approx(3.0, abs=0.35)


def test_no_handover_none_found(tmp_path: Path) -> None:
    assert fit_handover(simulated_log(tmp_path, "{}")) is None


def test_too_few_calls_that_queued_tell_nothing() -> None:
    day = date(2024, 1, 1)
    calls = [LoggedCall(day, "q", "", 100.0 * k, 5.0 + k % 10, True, 60.0, "a") for k in range(50)]
    assert fit_handover(calls) is None
