"""A roster day as a scenario ``callsim run`` simulates: each named agent who works that
day is a group of one with their shift and breaks, and the requirement's skill (the
requirement's queue is the only one, so an agent's other skills are left out); the day's
calls come from the requirement's plan (its calls per interval, and their handle time,
exponential with the day's call-weighted mean). The plan is so checked by the real
routing.

A shift that ends after midnight (a start plus a length past 24:00) is written as the
scenario reads it, a clock time at or before its start (22:00-02:00); so are its breaks
and the horizon's end, and the arrivals, on the plan's 24-hour grid, are 0 after
midnight."""

from __future__ import annotations

from datetime import date

import numpy as np

from callsim.plan.people import People
from callsim.plan.requirement import DayNeed
from callsim.plan.roster import Roster
from callsim.scenario.model import Scenario, hhmm


def clock(m: int) -> str:
    """Minutes after the day's midnight as the scenario's HH:MM: past 24:00, the next
    day's clock (26:00 is 02:00; 24:00 stays, the day's end)."""
    return hhmm(m - 1440 if m > 1440 else m)


def call_stream(
    queue: str, profile: list[dict[str, object]], aht_s: float, patience_s: float | None
) -> dict[str, object]:
    """A plan's calls as the scenario's call stream: the arrivals ``profile``, talk
    exponential with mean ``aht_s`` (Erlang's assumption), and exponential patience of
    mean ``patience_s`` (none: callers never hang up, as Erlang C's)."""
    calls: dict[str, object] = {
        "queue": queue,
        "arrivals": {"profile": profile},
        "talk_s": {"dist": "exponential", "mean": round(aht_s, 1)},
    }
    if patience_s is not None:
        calls["patience_s"] = {"dist": "exponential", "mean": patience_s}
    return calls


ROUTING = {"strategy": "longest_idle", "ring_timeout_s": 15}  # a plan's scenarios route so


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
    end = min(end, start + 1440)  # a day at most
    answered = need.calls[open_]
    aht = float(np.nansum(need.aht_s[open_] * answered) / answered.sum())
    profile = [{"at": hhmm(start), "per_hour": 0.0}] if start < open_[0] * iv else []
    if end > 1440 and start > 0:  # the first point's rate holds from 00:00: none after midnight
        profile.insert(0, {"at": "00:00", "per_hour": 0.0})
    profile += [
        {"at": hhmm(int(i) * iv), "per_hour": round(float(need.calls[i]) * 60 / iv, 3)}
        for i in range(int(open_[0]), int(open_[-1]) + 1)
    ]
    if (int(open_[-1]) + 1) * iv < end:
        profile.append({"at": hhmm((int(open_[-1]) + 1) * iv), "per_hour": 0.0})
    calls = call_stream(people.skill, profile, aht, patience_s)
    data = {
        "name": f"roster-{day.isoformat()}",
        "description": f"The roster's {day:%A} {day.isoformat()}: {len(work)} named agents "
        f"on their shifts; the requirement's calls ({need.source}).",
        "horizon": {"start": hhmm(start), "end": clock(end),
                    "interval_min": iv},
        "service_level": {"sl_threshold_s": sl_threshold_s, "sl_target": sl_target},
        "routing": ROUTING,
        "queues": [{"name": people.skill, "skills": [people.skill]}],
        "calls": [calls],
        "agents": [
            {
                "name": w.agent,
                "count": 1,
                "skills": [people.skill],
                "shift": {"start": clock(w.shift.start_min),
                          "end": clock(w.shift.start_min + w.shift.length_min)},
                "breaks": [{"start": clock(b), "minutes": n} for b, n in w.shift.breaks],
            }
            for w in work
        ],
    }  # fmt: skip
    return Scenario.model_validate(data)
