"""How ready a day's agents were, from the day's log (``fit.idle_waiting``): the time its
agents at work sat out a gap between calls while calls of their skills waited. With
standby agents (``calibrate --standby``), a replay's ready agents follow that measure of
its own day (``build.standby_split``), as it gets its own staffing."""

from __future__ import annotations

from datetime import date

import pytest

from callsim.calibrate.build import (
    MAX_STANDBY,
    STANDBY,
    Model,
    calibrate,
    day_scenario,
    standby_split,
    tune_factor,
)
from callsim.calibrate.compare import compare
from callsim.calibrate.fit import Frame, idle_waiting, observe
from callsim.calibrate.log import CallLog, LoggedCall
from callsim.errors import InputError
from callsim.scenario import Scenario
from callsim.sim.execute import executor
from tests.test_calibrate import _two_days

DAY = date(2024, 3, 4)
NINE = 9 * 3600.0


def _gap_day() -> list[LoggedCall]:
    """ann talks 09:00:00-09:01:00 and from 09:03:00 (a gap of 120 s); an X call waits
    09:01:30-09:02:30 and hangs up; a Y call waits 09:01:00-09:03:00 for bob."""
    return [
        LoggedCall(DAY, "X", "", NINE, 0.0, True, 60.0, "ann"),
        LoggedCall(DAY, "X", "", NINE + 90, 60.0, False, 0.0, ""),
        LoggedCall(DAY, "Y", "", NINE + 60, 120.0, True, 100.0, "bob"),
        LoggedCall(DAY, "X", "", NINE + 180, 0.0, True, 60.0, "ann"),
    ]


def test_idle_while_calls_of_the_agents_skills_waited() -> None:
    frame = Frame(480, 600, 30, 20.0)
    t_index = {"X": 0, "Y": 1}
    calls = _gap_day()
    # ann's gap from 20 s after her call (09:01:20) to her next (09:03:00): X waited
    # 09:01:30-09:02:30, 60 s of it, in the interval from 09:00
    idle = idle_waiting(calls, frame, t_index, {"ann": ["X"], "bob": ["Y"]})
    assert list(idle) == [0.0, 0.0, 60.0, 0.0]
    # with every type her skill, the Y call waited through all of the 100 s
    assert list(idle_waiting(calls, frame, t_index, {})) == [0.0, 0.0, 100.0, 0.0]
    # a gap's first 20 s are after-call work: a call waiting only then does not count
    early = [*calls[:1], LoggedCall(DAY, "X", "", NINE + 62, 15.0, False, 0.0, ""), calls[3]]
    assert idle_waiting(early, frame, t_index, {}).sum() == 0
    # the day's idle share: of its agents' time at work, each to 20 s after their last
    # call (ann 09:00:00-09:04:20, bob 09:03:00-09:05:00)
    obs = observe(CallLog("gap", calls), [DAY], frame)
    assert obs.idle_share(0) == pytest.approx(100 / (260 + 120))


def test_a_days_standby_share_follows_its_idle_share() -> None:
    ready, standby = standby_split([1.0, 0.8], [2.0, 4.0], 0.1)
    assert ready == pytest.approx([0.8, 0.48])
    assert standby == pytest.approx([0.2, 0.32])
    assert standby_split([1.0], [4.0], 0.0) == ([1.0], [0.0])  # nobody sat out: all ready
    _, most = standby_split([1.0], [4.0], 0.5)
    assert most == [pytest.approx(MAX_STANDBY)]


def test_each_replayed_day_gets_its_own_readiness() -> None:
    log, days = _two_days()  # day 1: 40 s gaps while calls wait; day 2: no gaps at all
    frame = Frame(480, 720, 30, 20.0)
    cal = calibrate(log, days, frame, model=Model(standby=True))
    assert cal.days_replayed is not None
    shares = [r.observed.idle_share(0) for r in cal.days_replayed]
    assert shares[0] > 0.01
    assert shares[1] == 0
    # as tune_factor leaves it: the average day's split on the days' mean idle share
    cal.idle_share = sum(shares) / 2
    cal.standby_slope = [0.4 / cal.idle_share] * frame.n
    sc = cal.average_day([0.6] * frame.n, standby=[0.4] * frame.n)
    assert sc.calibration is not None
    assert sc.calibration.standby_per_idle_share == [round(0.4 / cal.idle_share, 3)] * frame.n
    ready, standby = [], []
    for r in cal.days_replayed:
        day = day_scenario(sc, r.observed, 0, r.pools, cal.model, r.ranked)
        count = {g.name: sum(p.count for p in g.on_duty or []) for g in day.agents}
        ready.append(sum(n for g, n in count.items() if not g.endswith(STANDBY)))
        standby.append(sum(n for g, n in count.items() if g.endswith(STANDBY)))
    # both days' agents at work, times 0.6 ready and 0.4 standby on the days' mean idle
    # share; a day's standby are the average day's, its ready follow its own idle share:
    # the day whose agents never sat out while calls waited has all of the 1.0 ready
    at_work = [r.observed.present_group[0].sum() for r in cal.days_replayed]
    assert standby[0] == pytest.approx(0.4 * at_work[0], abs=1)
    assert standby[1] == pytest.approx(0.4 * at_work[1], abs=1)
    assert ready[1] == pytest.approx(1.0 * at_work[1], abs=1)
    assert ready[0] == pytest.approx(
        1.0 * (1 - 0.4 * shares[0] / cal.idle_share) * at_work[0], abs=1
    )
    assert ready[0] < 0.6 * at_work[0]  # sat out more than the mean: fewer than the average


def _standby_scenario() -> tuple[CallLog, list[date], Frame, Scenario]:
    """Two logged days calibrated with standby agents: 0.6 ready and 0.4 standby on the
    average day, a slope of 8 (the log, its days, the frame and the scenario)."""
    log, days = _two_days()
    frame = Frame(480, 720, 30, 20.0)
    cal = calibrate(log, days, frame, model=Model(standby=True))
    cal.idle_share = 0.05
    cal.standby_slope = [8.0] * frame.n
    return log, days, frame, cal.average_day([0.6] * frame.n, standby=[0.4] * frame.n)


def test_a_forecast_keeps_the_calibrated_split() -> None:
    log, days, frame, sc = _standby_scenario()
    with executor(1) as ex:
        doc = compare(sc, log, days, ex, replications=2, forecast=log)
    assert doc["forecast"]["readiness"] == "calibrated"  # and says so
    plain = calibrate(log, days, frame).average_day([0.9] * frame.n)
    with executor(1) as ex:
        assert (
            compare(plain, log, days, ex, replications=2, forecast=log)["forecast"]["readiness"]
            is None
        )


def test_standby_on_days_where_nobody_sat_out_is_refused() -> None:
    """A split by the days' idle share when no agent sat out while calls waited would
    silently give all agents ready: refused, naming the option."""
    log, days = _two_days()
    frame = Frame(480, 720, 30, 20.0)
    cal = calibrate(log, days[1:], frame, model=Model(standby=True))
    assert [r.observed.idle_share(0) for r in cal.days_replayed or []] == [0.0]
    with executor(1) as ex, pytest.raises(InputError, match=r"^standby: .*idle share 0"):
        tune_factor(cal, ex, replications=1)


@pytest.mark.parametrize(
    "name", ["availability_factors", "standby_factors", "standby_per_idle_share"]
)
def test_a_hand_edited_factor_list_of_the_wrong_length_is_named(name: str) -> None:
    log, days, frame, sc = _standby_scenario()
    assert sc.calibration is not None
    short = getattr(sc.calibration, name)[:-1]
    edited = sc.model_copy(update={"calibration": sc.calibration.model_copy(update={name: short})})
    with executor(1) as ex, pytest.raises(InputError) as err:
        compare(edited, log, days, ex, replications=1)
    assert str(err.value) == (
        f"calibration.{name}: {frame.n - 1} values, expected one per interval of the "
        f"horizon ({frame.n}): the scenario is not as callsim calibrate wrote it"
    )
