"""What a replay takes from its own day beside its calls: the queue discipline the day's
calls show (priority or first come) and the skills the day's agents used."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from callsim.calibrate.build import Model, calibrate, day_scenario, replays
from callsim.calibrate.fit import (
    MIN_PRIORITY_PAIRS,
    Frame,
    LoggedCall,
    day_pools,
    discipline,
    infer_pools,
    observe,
)
from callsim.calibrate.log import CallLog, read_log
from tests.test_calibrate import JANUARY

DAY = date(2024, 1, 7)


def _pairs(later_first: bool, n: int = 20) -> list[LoggedCall]:
    """``n`` pairs of queued calls of one type: a regular caller (1), and 30 s later a
    priority caller (2), answered first (``later_first``) or after the regular one; and
    as many pairs of two regular callers, answered in order."""
    calls = []
    for k in range(n):
        at = 36_000.0 + 600 * k
        first, second = (100.0, 60.0) if later_first else (60.0, 100.0)
        calls.append(LoggedCall(DAY, "PS", "", at, first, True, 60.0 + 10 * (k % 7), "a", 1))
        calls.append(LoggedCall(DAY, "PS", "", at + 30, second, True, 90.0 + 10 * (k % 5), "b", 2))
        calls.append(LoggedCall(DAY, "PS", "", at + 300, 40.0, True, 60.0 + 10 * (k % 7), "a", 1))
        calls.append(LoggedCall(DAY, "PS", "", at + 310, 60.0, True, 70.0 + 10 * (k % 3), "b", 1))
    return calls


def test_the_queue_discipline_as_the_calls_show_it() -> None:
    ranked = discipline(_pairs(later_first=True))
    assert (ranked.pairs, ranked.overtaken, ranked.same, ranked.on) == (20, 1.0, 0.0, True)
    fifo = discipline(_pairs(later_first=False))
    assert (fifo.pairs, fifo.overtaken, fifo.on) == (20, 0.0, False)
    # a later priority caller 90 s or more after the regular one had no credit left
    late = [
        c
        if c.priority == 1
        else LoggedCall(DAY, "PS", "", c.arrival_s + 60, 10.0, True, 1.0, "b", 2)
        for c in _pairs(later_first=True)
    ]
    assert discipline(late).pairs < MIN_PRIORITY_PAIRS
    assert discipline(_pairs(True, MIN_PRIORITY_PAIRS - 1)).on is None  # too few to tell


def test_the_bank_ranked_callers_from_13_january() -> None:
    """The bank's January log: its first six weekdays answered the callers first come,
    first served (no priority caller overtook a regular one); from 13 January (after the
    two missing days) a priority caller overtook a regular one who had waited less than
    90 s longer more than half the time."""
    log = read_log(JANUARY)
    by_day: dict[date, list[LoggedCall]] = defaultdict(list)
    for c in log.calls:
        by_day[c.day].append(c)
    weekdays = [d for d in log.days if d.weekday() not in (4, 5)]
    found = {d: discipline(by_day[d]) for d in weekdays}
    assert [d.day for d in weekdays if found[d].on is False] == [3, 4, 5, 6, 7, 10]
    assert all(found[d].on for d in weekdays if d.day >= 13)
    assert max(found[d].overtaken for d in weekdays if d.day <= 10) < 0.02
    assert min(found[d].overtaken for d in weekdays if d.day >= 13) > 0.45


def test_a_first_come_day_is_replayed_first_come() -> None:
    calls = _pairs(later_first=False) + [
        LoggedCall(
            date(2024, 1, 8), c.type, "", c.arrival_s, c.wait_s, True, c.talk_s, c.agent, c.priority
        )
        for c in _pairs(later_first=True)
    ]
    calls += [
        LoggedCall(d, "PS", "", 50_000.0 + k, 50.0, False, 0.0, "", 1)
        for d in (DAY, date(2024, 1, 8))
        for k in range(5)
    ]
    log = CallLog("two disciplines", calls)
    days = [DAY, date(2024, 1, 8)]
    frame = Frame(540, 1020, 30, 20)
    cal = calibrate(log, days, frame)
    assert [r.ranked for r in cal.days_replayed or []] == [False, True]
    sc = cal.average_day(1.0)
    fifo, ranked = (
        day_scenario(sc, r.observed, 0, r.pools, Model(), r.ranked) for r in cal.days_replayed or []
    )
    assert {c.priority for c in fifo.calls} == {0}
    assert fifo.queues[0].aging_per_s == 0
    assert {c.priority for c in ranked.calls} == {1, 2}
    assert ranked.queues[0].aging_per_s > 0


def _served(agent: str, plan: dict[str, int], day: date = DAY) -> list[LoggedCall]:
    return [
        LoggedCall(day, t, "", 36_000.0 + 60 * k, 0.0, True, 50.0, agent)
        for t, n in plan.items()
        for k in range(n)
    ]


def test_a_day_has_the_skills_its_agents_used() -> None:
    """Over the period a1 and a2 took prospects (NW); on the day only a2 did, a third of
    a2's 60 calls: a1's 60 calls would have held about 20 of them, so a1 had no NW skill
    that day. The rare call-back (TT) a1 took over the period but not that day (1 in 60
    of a2's calls) could not show: a1 keeps it."""
    period = _served("a1", {"PS": 80, "NW": 30, "TT": 6}) + _served("a2", {"PS": 80, "NW": 30})
    pools = infer_pools(period)
    assert pools.skills["a1"] == ["NW", "PS", "TT"]
    day = _served("a1", {"PS": 60}) + _served("a2", {"PS": 39, "NW": 20, "TT": 1})
    mine = day_pools(pools, day)
    assert mine.skills == {"a1": ["PS", "TT"], "a2": ["NW", "PS", "TT"]}
    assert mine.groups == {"ps_tt": ["a1"], "nw_ps_tt": ["a2"]}
    assert mine.types == pools.types
    assert mine.agents == pools.agents
    log = CallLog("day", day)
    frame = Frame(540, 1020, 30, 20)
    obs = observe(log, [DAY], frame, pools)
    (replay,) = replays(log, obs, frame, pools, Model())
    assert sorted(replay.observed.groups) == ["nw_ps_tt", "ps_tt"]
    (same,) = replays(log, obs, frame, pools, Model(day_skills=False))
    assert same.pools is pools
