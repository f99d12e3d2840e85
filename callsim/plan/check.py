"""A roster day as a scenario ``callsim run`` simulates: each named agent who works that
day is a group of one with their shift and breaks, and the requirement's skill (the
requirement's queue is the only one, so an agent's other skills are left out); the day's
calls come from the requirement's plan (its calls per interval, and their handle time,
exponential with the day's call-weighted mean). The plan is so checked by the real
routing."""

from __future__ import annotations

from datetime import date

import numpy as np

from callsim.plan.people import People
from callsim.plan.requirement import DayNeed
from callsim.plan.roster import Roster
from callsim.scenario.model import Scenario, hhmm


def day_scenario(
    roster: Roster,
    day: date,
    need: DayNeed,
    people: People,
    *,
    sl_target: float = 0.8,
    sl_threshold_s: float = 20.0,
    patience_s: float | None = None,
) -> Scenario | None:
    """The roster's ``day`` as a scenario; None on a day without calls or agents, or
    whose plan has no handle time (``staff.csv`` of a scenario)."""
    work = [w for w in roster.work if w.day == day]
    open_ = np.nonzero(need.calls > 0)[0]
    if not work or not len(open_) or np.isnan(need.aht_s[open_]).all():
        return None
    iv = roster.interval_min
    start = min(int(open_[0]) * iv, *(w.shift.start_min for w in work))
    end = max((int(open_[-1]) + 1) * iv, *(w.shift.start_min + w.shift.length_min for w in work))
    answered = need.calls[open_]
    aht = float(np.nansum(need.aht_s[open_] * answered) / answered.sum())
    profile = [{"at": hhmm(start), "per_hour": 0.0}] if start < open_[0] * iv else []
    profile += [
        {"at": hhmm(int(i) * iv), "per_hour": round(float(need.calls[i]) * 60 / iv, 3)}
        for i in range(int(open_[0]), int(open_[-1]) + 1)
    ]
    if (int(open_[-1]) + 1) * iv < end:
        profile.append({"at": hhmm((int(open_[-1]) + 1) * iv), "per_hour": 0.0})
    calls: dict[str, object] = {
        "queue": people.skill,
        "arrivals": {"profile": profile},
        "talk_s": {"dist": "exponential", "mean": round(aht, 1)},
    }
    if patience_s is not None:
        calls["patience_s"] = {"dist": "exponential", "mean": patience_s}
    data = {
        "name": f"roster-{day.isoformat()}",
        "description": f"The roster's {day:%A} {day.isoformat()}: {len(work)} named agents "
        f"on their shifts; the requirement's calls ({need.source}).",
        "horizon": {"start": hhmm(start), "end": hhmm(end),
                    "interval_min": iv},
        "service_level": {"sl_threshold_s": sl_threshold_s, "sl_target": sl_target},
        "routing": {"strategy": "longest_idle", "ring_timeout_s": 15},
        "queues": [{"name": people.skill, "skills": [people.skill]}],
        "calls": [calls],
        "agents": [
            {
                "name": w.agent,
                "count": 1,
                "skills": [people.skill],
                "shift": {"start": hhmm(w.shift.start_min),
                          "end": hhmm(w.shift.start_min + w.shift.length_min)},
                "breaks": [{"start": hhmm(b), "minutes": n} for b, n in w.shift.breaks],
            }
            for w in work
        ],
    }  # fmt: skip
    return Scenario.model_validate(data)
