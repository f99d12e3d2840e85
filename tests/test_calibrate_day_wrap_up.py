"""A replay's after-call work is its own day's, read from its own log as the calibration
reads the period's (``fit.fit_wrap_up``), the way its talk is its own."""

from __future__ import annotations

from datetime import date

import pytest

from callsim.calibrate.build import WRAP_UP_MAX_S, Model, calibrate, day_scenario, replays
from callsim.calibrate.fit import Frame, infer_pools, observe
from callsim.calibrate.log import CallLog, LoggedCall
from callsim.scenario.model import dist_mean

DAYS = [date(2024, 1, 1), date(2024, 1, 2)]
FRAME = Frame(480, 720, 30, 20)


def _backlog(day: date, gap_s: float, n: int = 40) -> list[LoggedCall]:
    """One agent and a queue that never empties: a call every 5 s from 08:00, each
    talking 50-70 s, the agent taking the next ``gap_s`` after the last ended (every gap
    seen whole: calls waited all through it); beside each answered call, a caller who hangs
    up after 30 s."""
    calls = []
    start = 8 * 3600.0
    for k in range(n):
        at = 8 * 3600.0 + 5.0 * k
        talk = 50.0 + 10.0 * (k % 3)
        calls.append(LoggedCall(day, "X", "", at, start - at, True, talk, "a", 1))
        calls.append(LoggedCall(day, "X", "", at + 1, 30.0, False, 0.0, "", 1))
        start += talk + gap_s
    return calls


def _log(gaps: tuple[float, float]) -> CallLog:
    return CallLog("backlog", [c for d, g in zip(DAYS, gaps, strict=True) for c in _backlog(d, g)])


def _wrap_up_means(log: CallLog, model: Model) -> list[float]:
    cal = calibrate(log, DAYS, FRAME, model=model)
    sc = cal.average_day(1.0)
    out = []
    for r in cal.days_replayed or []:
        day = day_scenario(sc, r.observed, 0, r.pools, model, r.ranked, r.wrap_up)
        (mean,) = {dist_mean(c.wrap_up_s) for c in day.calls if c.wrap_up_s is not None}
        out.append(mean)
    return out


def test_a_replay_gets_its_days_own_after_call_work() -> None:
    """A day whose agent came back 5 s after each call, and one 40 s: the calibration's
    after-call work is the two days' together, each replay its own day's."""
    log = _log((5.0, 40.0))
    quick, slow = _wrap_up_means(log, Model())
    assert quick == pytest.approx(5.0, abs=0.5)
    assert slow == pytest.approx(40.0, abs=0.5)
    # without it, both days get the calibrated after-call work, the same
    same = _wrap_up_means(log, Model(day_wrap_up=False))
    assert same[0] == same[1]
    assert quick < same[0] < slow
    assert Model.without("day_wrap_up").off == ["day_wrap_up"]


def test_a_days_after_call_work_is_read_less_the_hand_over_and_ended() -> None:
    """The day's gaps less the hand-over the replays are given (``compare`` reads it
    from the scenario), and ended by ``WRAP_UP_MAX_S`` as the calibrated work is."""
    log = _log((10.0, 200.0))
    pools = infer_pools(log.calls)
    obs = observe(log, DAYS, FRAME, pools)
    ten, long = replays(log, obs, FRAME, pools, Model(), handover_s=3.0)
    assert ten.wrap_up is not None
    assert long.wrap_up is not None
    assert ten.wrap_up.mean_s == pytest.approx(7.0, abs=0.5)
    sc = calibrate(log, DAYS, FRAME).average_day(1.0)
    day = day_scenario(sc, long.observed, 0, long.pools, Model(), long.ranked, long.wrap_up)
    assert day.calls[0].wrap_up_s is not None
    assert dist_mean(day.calls[0].wrap_up_s) == pytest.approx(WRAP_UP_MAX_S)
    # no day's work without after-call work at all
    (off, _) = replays(log, obs, FRAME, pools, Model(wrap_up=False))
    assert off.wrap_up is None
