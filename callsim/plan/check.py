"""A roster day as a scenario ``callsim run`` simulates: each named agent who works that
day is a group of one with their shift and breaks, and the requirement's skill (the
requirement's queue is the only one, so an agent's other skills are left out); the day's
calls come from the requirement's plan: its calls per interval, each interval a call
stream with its own handle time (exponential), as the plan staffed it. The plan is so
checked by the real routing.

A shift that ends after midnight (a start plus a length past 24:00) is written as the
scenario reads it, a clock time at or before its start (22:00-02:00); so are its breaks
and the horizon's end; the plan's calls (a 24-hour grid) end at midnight."""

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


def call_streams(
    queue: str,
    intervals: list[tuple[int, float, float]],
    interval_min: int,
    patience_s: float | None,
) -> list[dict[str, object]]:
    """A plan's calls as the scenario's call streams, one per interval ``(start minute,
    calls, aht_s)``: its calls in that interval only, talk exponential with its handle
    time (Erlang's assumption, each interval its own, as the plan staffed it), and
    exponential patience of mean ``patience_s`` (none: callers never hang up, as Erlang
    C's)."""
    streams = []
    for start, calls, aht_s in intervals:
        if calls <= 0:
            continue
        profile = [{"at": "00:00", "per_hour": 0.0}] if start > 0 else []
        profile.append({"at": hhmm(start), "per_hour": round(calls * 60 / interval_min, 3)})
        if start + interval_min < 1440:
            profile.append({"at": hhmm(start + interval_min), "per_hour": 0.0})
        stream: dict[str, object] = {
            "queue": queue,
            "arrivals": {"profile": profile},
            "talk_s": {"dist": "exponential", "mean": round(aht_s, 1)},
        }
        if patience_s is not None:
            stream["patience_s"] = {"dist": "exponential", "mean": patience_s}
        streams.append(stream)
    return streams


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
    day_aht = float(np.nansum(need.aht_s[open_] * answered) / answered.sum())
    per_interval = [(int(i) * iv, float(need.calls[i]),
                     day_aht if np.isnan(need.aht_s[i]) else float(need.aht_s[i]))
                    for i in open_]  # fmt: skip
    data = {
        "name": f"roster-{day.isoformat()}",
        "description": f"The roster's {day:%A} {day.isoformat()}: {len(work)} named agents "
        f"on their shifts; the requirement's calls ({need.source}).",
        "horizon": {"start": hhmm(start), "end": clock(end),
                    "interval_min": iv},
        "service_level": {"sl_threshold_s": sl_threshold_s, "sl_target": sl_target},
        "routing": ROUTING,
        "queues": [{"name": people.skill, "skills": [people.skill]}],
        "calls": call_streams(people.skill, per_interval, iv, patience_s),
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
