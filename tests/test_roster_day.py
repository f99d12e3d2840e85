"""A roster day as a scenario (``callsim.plan.check.day_scenario``) when a shift runs past
midnight: written as the scenario format reads it (22:00-02:00, not 26:00) and simulated
with its agent on the phones after midnight."""

from __future__ import annotations

from datetime import date

import numpy as np

from callsim.analytics.shifts import ShiftType
from callsim.plan.check import clock, day_scenario
from callsim.plan.people import People
from callsim.plan.requirement import DayNeed
from callsim.plan.roster import Roster, Work
from callsim.sim import simulate

DAY = date(2027, 1, 4)


def _people() -> People:
    return People.model_validate(
        {
            "skill": "general",
            "shifts": {"starts": ["08:00", "20:00"], "lengths_h": [6, 8]},
            "agents": [{"name": n, "skills": ["general"], "hours_per_week": 40}
                       for n in ("Day", "Night")],
        }
    )  # fmt: skip


def test_clock_wraps_past_midnight_only() -> None:
    assert [clock(m) for m in (0, 450, 1440, 1470, 1560)] == [
        "00:00", "07:30", "24:00", "00:30", "02:00",
    ]  # fmt: skip


def test_a_shift_past_midnight_is_written_as_the_next_days_clock_and_simulated() -> None:
    calls = np.zeros(48)
    calls[16:48] = 10.0  # 10 calls a half hour from 08:00 to midnight
    aht = np.full(48, 120.0)
    aht[16] = 60.0  # 08:00's calls are short
    need = DayNeed("test", np.ones(48), calls, aht)
    work = [
        Work("Day", DAY, ShiftType(8 * 60, 8 * 60, ((12 * 60, 30),))),
        Work("Night", DAY, ShiftType(16 * 60, 10 * 60, ((23 * 60 + 30, 30),))),  # 16:00-02:00
    ]
    found = Roster(DAY, 1, 30, work, np.ones((1, 48)), np.ones((1, 48)), [], "OPTIMAL",
                   0.0, 0.0, 0.0)  # fmt: skip
    scenario = day_scenario(found, DAY, need, _people())
    assert scenario is not None
    night = next(g for g in scenario.agents if g.name == "Night")
    assert night.shift is not None
    assert (night.shift.start, night.shift.end) == ("16:00", "02:00")
    assert [b.start for b in night.breaks] == ["23:30"]
    assert (scenario.horizon.start, scenario.horizon.end) == ("08:00", "02:00")
    # one call stream an interval, each with the plan's handle time of its interval
    talk = [(next(p.at for p in c.arrivals.profile if p.per_hour), c.talk_s.mean)
            for c in scenario.calls]  # type: ignore[union-attr]  # fmt: skip
    assert talk[:2] == [("08:00", 60.0), ("08:30", 120.0)]
    assert len(talk) == 32
    result = simulate(scenario, replications=2, seed=3, workers=1)
    staffed = {r.interval_start: r.agents_staffed for r in result.interval_rows}
    assert staffed["01:00"] == 1.0  # Night, on the phones after midnight
    assert staffed["23:30"] < 0.5  # on the break (after the call in hand)
    offered = {r.interval_start: r.offered for r in result.interval_rows}
    assert offered["00:30"] == 0.0  # the plan's calls end at midnight
