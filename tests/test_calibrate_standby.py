"""Standby agents (``callsim calibrate --standby``): agents at work who are not ready take
a call only once it has waited, through the scenario's own overflow to a standby queue
that no stream calls; the split is fitted to the log's service level."""

from __future__ import annotations

from pathlib import Path

import pytest

from callsim.calibrate.build import (
    STANDBY,
    STANDBY_AFTER_S,
    Model,
    calibrate,
    day_scenario,
    tune_factor,
)
from callsim.calibrate.fit import Frame, select_days
from callsim.calibrate.forecast import plan, spread
from callsim.calibrate.log import read_log
from callsim.scenario import load_scenario
from callsim.sim.engine import Replication
from callsim.sim.execute import executor
from callsim.sim.plan import build_plan
from tests.test_calibrate import JANUARY, _two_days

TEXT = """
name: standby
horizon: {start: "08:00", end: "16:00", interval_min: 60}
queues:
  - {name: q, skills: [q], overflow: {after_s: 20, to: [q_standby]}}
  - {name: q_standby, skills: [q_standby]}
calls:
  - queue: q
    arrivals: {per_hour: 60}
    talk_s: {dist: exponential, mean: 170}
    patience_s: {dist: exponential, mean: 300}
agents: [{name: ready, count: READY, skills: [q]}, {name: standby, count: 3, skills: [SKILL]}]
"""


def _days(tmp_path: Path, ready: int, skill: str) -> list[tuple[str, float]]:
    """Twelve simulated days: each answered call's agent and wait."""
    path = tmp_path / f"standby-{ready}-{skill}.yaml"
    path.write_text(TEXT.replace("READY", str(ready)).replace("SKILL", skill))
    plan = build_plan(load_scenario(path))  # a queue no stream calls is a valid scenario
    return [
        (rec.agent or "", rec.wait_s)
        for r in range(12)
        for rec in Replication(plan, 5, r).run()
        if rec.answer_s is not None
    ]


def test_standby_agents_take_only_calls_that_waited(tmp_path: Path) -> None:
    calls = _days(tmp_path, 3, "q_standby")
    by_standby = [w for agent, w in calls if agent.startswith("standby")]
    assert len(by_standby) > 100  # the standby agents work...
    assert min(by_standby) >= 20.0 - 1e-9  # ...on calls that waited 20 s, only
    # the same six agents all ready answer more calls at once: the shape of the waits
    all_ready = _days(tmp_path, 3, "q")
    at_once = [sum(w == 0 for _, w in c) / len(c) for c in (calls, all_ready)]
    assert at_once[0] < at_once[1] - 0.1


def test_a_calibrated_scenario_has_its_standby_agents() -> None:
    log, days = _two_days()
    frame = Frame(480, 720, 30, 20)
    cal = calibrate(log, days, frame, model=Model(standby=True))
    sc = cal.average_day([0.5] * frame.n, standby=[0.4] * frame.n)
    assert sc.calibration is not None
    assert sc.calibration.standby_factors == [0.4] * frame.n
    x = next(q for q in sc.queues if q.name == "x")
    assert x.overflow is not None
    assert (x.overflow.after_s, x.overflow.to) == (STANDBY_AFTER_S, ["x" + STANDBY])
    assert [q.skills for q in sc.queues if q.name == "x" + STANDBY] == [["x" + STANDBY]]
    assert {c.queue for c in sc.calls} == {"x"}  # no stream calls the standby queue
    groups = {g.name: g for g in sc.agents}
    for name in cal.observed.groups:
        standby = groups[name + STANDBY]
        assert standby.skills == [s + STANDBY for s in groups[name].skills]
    day = day_scenario(sc, cal.observed, 0, cal.pools, cal.model)
    assert {g.name for g in day.agents} == set(groups)
    on_duty = {g.name: sum(p.count for p in g.on_duty or []) for g in day.agents}
    ready = sum(v for k, v in on_duty.items() if not k.endswith(STANDBY))
    assert sum(on_duty.values()) - ready == pytest.approx(ready * 0.4 / 0.5, rel=0.1)
    # a forecast's Erlang A counts the standby agents in their pool, as agents
    fc = plan(sc, spread(sc, log), 2, 1)
    assert fc.pool_of_group == [cal.pools.of_type("X")] * len(sc.agents)
    # without standby, calibrate writes none, and a replay has none
    plain = calibrate(log, days, frame).average_day([0.5] * frame.n)
    assert plain.calibration is not None
    assert plain.calibration.standby_factors is None
    assert all(q.overflow is None for q in plain.queues)
    assert not [g for g in plain.agents if g.name.endswith(STANDBY)]


@pytest.mark.slow
def test_the_split_is_fitted_to_the_logs_service_level() -> None:
    log = read_log(JANUARY)
    days = select_days(log, "1999-01-13..1999-01-17")
    frame = Frame(420, 1440, 30, 20.0)
    got = {}
    for standby in (True, False):
        cal = calibrate(log, days, frame, model=Model(standby=standby))
        with executor(1) as ex:
            tune_factor(cal, ex, replications=4)
        assert cal.tuning is not None
        assert cal.factors is not None
        goal = cal.observed.within.sum() / cal.observed.offered.sum()
        assert cal.tuning[-1][1] == pytest.approx(cal.observed_abandon, abs=0.01)
        got[standby] = cal.tuning[-1][3] - goal
        if standby:
            assert cal.standby is not None
            assert max(cal.standby) > 0
            assert min(cal.standby) >= 0
            for b in cal.blocks or []:
                assert 0 < b.ready <= b.factor
        else:
            assert cal.standby is None
    # with standby agents the calibration days answer as many in time as the log did;
    # all agents ready, the factor that matches abandonment answers too many at once
    assert abs(got[True]) < 0.02
    assert got[False] > 0.05
