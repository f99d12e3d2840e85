"""Staffing: published answers, minimality (no smaller feasible staff), constraints, plans."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callsim.analytics.erlang import erlang_a, erlang_c
from callsim.analytics.forecast import load_forecast, plan_day
from callsim.analytics.staffing import Target, required_agents
from callsim.errors import InputError

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def test_published_staffing() -> None:
    r = required_agents(100 / 1800, 180, Target(0.8, 20))
    assert (r.agents, r.service_level, r.p_wait) == (
        14,
        pytest.approx(0.88835, abs=5e-6),
        pytest.approx(0.17413, abs=5e-6),
    )
    assert required_agents(100 / 1800, 180, Target(0.9, 20)).agents == 15
    assert required_agents(200 / 1800, 180, Target(0.8, 60)).agents == 23


def test_fractional_and_scheduled() -> None:
    r = required_agents(100 / 1800, 180, Target(0.8, 20, shrinkage=0.3))
    assert 13 < r.agents_fractional <= 14
    assert r.agents_scheduled == math.ceil(14 / 0.7)
    occ = required_agents(100 / 1800, 180, Target(0.5, 20, max_occupancy=0.6))
    assert occ.agents == 17
    assert occ.occupancy <= 0.6
    assert occ.agents_fractional == pytest.approx(10 / 0.6)


@settings(max_examples=150, deadline=None)
@given(
    st.floats(0.2, 400),
    st.floats(20, 600),
    st.floats(0.5, 0.95),
    st.floats(0, 60),
    st.sampled_from(["c", "a"]),
    st.floats(10, 2000),
    st.none() | st.floats(0.01, 0.2),
)
def test_staffing_is_the_smallest_feasible(
    traffic: float,
    aht: float,
    sl: float,
    t: float,
    model: str,
    patience: float,
    max_ab: float | None,
) -> None:
    rate = traffic / aht
    if model == "c":
        max_ab = None
    target = Target(sl, t, max_abandon=max_ab)
    r = required_agents(rate, aht, target, model=model, patience_s=patience)

    def ok(n: int) -> bool:
        if n <= 0:
            return False
        if model == "c":
            return erlang_c(rate, aht, n, t).service_level >= sl
        m = erlang_a(rate, aht, patience, n, t)
        return m.service_level >= sl and (max_ab is None or m.p_abandon <= max_ab)

    assert ok(r.agents)
    assert not ok(r.agents - 1)
    assert r.agents - 1 <= r.agents_fractional <= r.agents


def test_ten_thousand_erlangs() -> None:
    r = required_agents(10_000 / 240, 240, Target(0.8, 20))
    assert r.agents > 10_000
    assert r.service_level >= 0.8
    assert erlang_c(10_000 / 240, 240, r.agents - 1, 20).service_level < 0.8


def test_bad_targets_name_the_parameter_not_a_flag() -> None:
    with pytest.raises(InputError, match=r"^sl_target: 1.5") as info:
        required_agents(0.1, 100, Target(1.5))
    assert info.value.field == "sl_target"
    with pytest.raises(InputError, match=r"^shrinkage: 1.0"):
        required_agents(0.1, 100, Target(0.8, shrinkage=1.0))
    with pytest.raises(InputError, match="max_abandon"):
        required_agents(0.1, 100, Target(0.8, max_abandon=0.05))
    with pytest.raises(InputError, match="patience_s"):
        required_agents(0.1, 100, Target(0.8), model="a")


def test_shipped_forecast_plans_every_interval() -> None:
    intervals = load_forecast(SCENARIOS / "bank-weekday-forecast.csv")
    assert len(intervals) == 34
    assert intervals[0].start == "07:00"
    plan = plan_day(intervals, 30, Target(0.8, 20), model="a")
    assert all(p.staffing.service_level >= 0.8 for p in plan)
    peak = max(plan, key=lambda p: p.staffing.traffic_erl)  # the heaviest workload
    assert peak.staffing.agents == max(p.staffing.agents for p in plan)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("interval_start,calls\n08:00,3\n", "missing column 'aht_s'"),
        (
            "interval_start,calls,aht_s\n08:00,3,100\n08:30,x,100\n",
            "row 3: calls 'x' is not a number >= 0",
        ),
        (
            "interval_start,calls,aht_s\n8h,3,100\n",
            "row 2: interval_start '8h' is not a time HH:MM",
        ),
        ("interval_start,calls,aht_s\n08:00,3,0\n", "row 2: aht_s '0' is not a positive number"),
        ("interval_start,calls,aht_s,colour\n", "unknown column 'colour'"),
        ("interval_start,calls,aht_s\n", "no interval rows"),
    ],
)
def test_forecast_errors_name_file_row_column_and_value(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "day.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        load_forecast(path)
    assert str(path) in str(info.value)


def test_forecasts_that_are_not_utf8_or_repeat_an_interval(tmp_path: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match=r"odd.csv: line 1: byte 0xff is not UTF-8 text"):
        load_forecast(odd)
    twice = tmp_path / "twice.csv"
    twice.write_text("interval_start,calls,aht_s\n08:00,100,180\n08:00,90,180\n")
    with pytest.raises(
        InputError, match=r"row 3: interval_start 08:00 is given twice \(first in row 2"
    ):
        load_forecast(twice)


# -- decisions the noise allows (analytics.verdict) ------------------------------------------


def test_a_mean_meets_a_target_only_when_its_ci_clears_it() -> None:
    from callsim.analytics.metrics import mean_ci
    from callsim.analytics.verdict import Verdict, verdict_at_least, verdict_at_most

    days = np.array([[0.70, 0.80, 0.90], [0.72, 0.82, 0.92], [0.71, 0.86, 0.91]])
    mean, half = mean_ci(days)
    assert list(verdict_at_least(days, 0.8)) == [Verdict.MISSES, Verdict.NOT_SURE, Verdict.MEETS]
    assert (mean - half >= 0.8).tolist() == [False, False, True]
    assert (mean + half < 0.8).tolist() == [True, False, False]
    assert list(verdict_at_most(days, 0.8)) == [Verdict.MEETS, Verdict.NOT_SURE, Verdict.MISSES]
    assert verdict_at_least(np.array([[0.9], [np.nan]]), 0.8)[0] == Verdict.NOT_SURE  # one day
    assert min(Verdict) is Verdict.MISSES
    assert Verdict.NOT_SURE.label == "not sure"


def test_a_share_of_days_is_judged_by_its_wilson_interval() -> None:
    from callsim.analytics.verdict import share_ci, share_needed, verdict_share

    share, low, high = share_ci(np.ones((10, 1), dtype=bool))
    z2 = 1.959963984540054**2
    assert (share[0], high[0]) == (1.0, pytest.approx(1.0))
    assert low[0] == pytest.approx(10 / (10 + z2))  # Wilson at 10 of 10: n / (n + z^2)
    # 18 of 20 days: the published Wilson 95 % interval (0.699, 0.972)
    _, low, high = share_ci(np.arange(20)[:, None] < 18)
    assert (low[0], high[0]) == (pytest.approx(0.6990, abs=5e-4), pytest.approx(0.9721, abs=5e-4))
    assert verdict_share(np.ones((20, 1), dtype=bool), 0.9)[0] == 0  # 20 of 20: not sure of 90 %
    assert verdict_share(np.ones((40, 1), dtype=bool), 0.9)[0] == 1
    assert share_needed(0.9, 20) == 1.0  # all (and 20 of 20 is not even sure)
    assert share_needed(0.9, 35) == 1.0  # 35 of 35: sure, just (Wilson low 0.901)
    needed = share_needed(0.9, 160)
    k = round(needed * 160)
    assert verdict_share(np.arange(160)[:, None] < k, 0.9)[0] == 1
    assert verdict_share(np.arange(160)[:, None] < k - 1, 0.9)[0] == 0


# -- the staffing search's counts per cell (analytics.cells) ---------------------------------


@pytest.mark.parametrize(
    "name", ["bank-day", "skills-centre", "answering-service", "callbacks", "blended-outbound"]
)
def test_the_cells_a_verdict_reads_are_the_whole_reductions(name: str) -> None:
    """The staffing search reduces each day to its cells' offered, abandoned and answered
    within the threshold (a fraction of the whole reduction's cost): the same counts, and
    the same service levels and abandon rates, as the whole reduction gives (clients'
    diverted calls, short abandons, callbacks and the warm-up left out alike)."""
    from callsim.analytics.cells import cell_samples
    from callsim.analytics.metrics import metric_samples
    from callsim.scenario import load_scenario
    from callsim.sim.execute import run_cells, run_replication
    from callsim.sim.plan import build_plan

    plan = build_plan(load_scenario(SCENARIOS / f"{name}.yaml"))
    whole = [run_replication(plan, 3, r) for r in range(2)]
    cells = [run_cells(plan, 3, r) for r in range(2)]
    for w, c in zip(whole, cells, strict=True):
        for field in ("offered", "abandoned", "within"):
            assert np.array_equal(getattr(w, field), getattr(c, field)), field
    for axis, by_queue in ((None, True), ((1,), False)):
        m, got = metric_samples(whole, axis), cell_samples(cells, by_queue)
        for key in ("offered", "service_level", "abandon_rate"):
            np.testing.assert_array_equal(got[key], m[key])


def test_an_interval_without_calls_needs_one_agent_and_nobody_waits_in_both_models() -> None:
    """A forecast interval of 0 calls: Erlang A staffs it as Erlang C does (it stopped the
    whole plan with "rate_per_s: 0.0 is not a positive number")."""
    target = Target(sl_target=0.8, sl_threshold_s=20.0)
    c = required_agents(0.0, 180.0, target)
    a = required_agents(0.0, 180.0, target, model="a", patience_s=60.0)
    for s in (c, a):
        assert (s.agents, s.agents_fractional, s.service_level, s.asa_s) == (1, 0.0, 1.0, 0.0)
    assert a.p_abandon == 0.0
