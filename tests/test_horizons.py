"""Issue 25 items 4 and 6: horizons as planners write them (calls in each day's opening
hours, one day label in the intervals and days tables, night profiles warned about) and
a normal day-to-day multiplier of mean 1 in the simulator and in Erlang's forecast cv."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from callsim.analytics.erlang import erlang_c, volume_slices, with_forecast_error
from callsim.scenario.model import Scenario
from callsim.sim import simulate
from callsim.sim.check import check_scenario
from callsim.sim.execute import Job, executor
from callsim.sim.plan import build_plan
from callsim.sim.run import SimulationResult
from callsim.sim.sample import day_multipliers
from tests.test_cli import run


def centre(start: str, end: str, days: int, arrivals: dict[str, Any], **horizon: int) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "horizons",
            "horizon": {"start": start, "end": end, "days": days, "interval_min": 60, **horizon},
            "queues": [{"name": "q", "skills": ["s"]}],
            "calls": [
                {"queue": "q", "arrivals": arrivals, "talk_s": {"dist": "constant", "value": 60}}
            ],
            "agents": [{"name": "a", "count": 6, "skills": ["s"]}],
        }
    )


def expected_calls(s: Scenario) -> float:
    return sum(r * (b - a) for st in build_plan(s).streams for a, b, r in st.pieces)


def calls_by_label(result: SimulationResult) -> dict[int, float]:
    out: dict[int, float] = {}
    for row in result.interval_rows:
        out[row.day] = out.get(row.day, 0.0) + (row.offered or 0.0)
    return out


def test_a_working_week_takes_calls_in_its_opening_hours_only() -> None:
    """Five days 08:00-18:00 at 150 calls an hour: 1,500 calls a day, none at night
    (they took calls all night: 3,600 a day)."""
    week = centre("08:00", "18:00", 5, {"per_hour": 150})
    assert expected_calls(week) == pytest.approx(5 * 1500)
    result = simulate(week, replications=2, workers=1)
    days = result.summary["days"]
    assert [d["day"] for d in days] == [1, 2, 3, 4, 5]
    for d in days:  # Poisson sd of a day's mean over 2 replications: 27
        assert d["offered"] == pytest.approx(1500, abs=110)
    night = [r for r in result.interval_rows if not "08:00" <= r.interval_start < "18:00"]
    assert len(night) == 4 * 14
    assert sum(r.offered or 0 for r in night) == 0
    assert check_scenario(week) == []


def test_a_warm_up_fills_day_one_only() -> None:
    week = centre("08:00", "18:00", 3, {"per_hour": 60}, warmup_min=60)
    [stream] = build_plan(week).streams
    hours = [(a / 3600, b / 3600) for a, b, _ in stream.pieces]  # clock 0 is 07:00 of day 1
    assert hours == [(0, 11), (25, 35), (49, 59)]


def test_round_the_clock_horizons_keep_their_nights() -> None:
    """00:00-24:00 and a whole day from 08:00 take calls every hour of every day."""
    for start, end in (("00:00", "24:00"), ("08:00", "08:00")):
        s = centre(start, end, 3, {"per_hour": 60})
        assert expected_calls(s) == pytest.approx(3 * 24 * 60)


def test_overnight_days_have_one_day_label_in_both_tables() -> None:
    """Three nights 22:00-06:00: each night's hours after midnight are its own day's in
    the intervals table as in the days table (the intervals said the calendar day), and
    the two add up to the same calls; no call arrives in the daytime."""
    nights = centre("22:00", "06:00", 3, {"per_hour": 60})
    assert expected_calls(nights) == pytest.approx(3 * 8 * 60)
    result = simulate(nights, replications=2, workers=1)
    labels = [(r.day, r.interval_start) for r in result.interval_rows]
    assert labels[:3] == [(1, "22:00"), (1, "23:00"), (1, "00:00")]
    assert labels[-1] == (3, "05:00")
    by_label = calls_by_label(result)
    assert by_label == {d["day"]: d["offered"] for d in result.summary["days"]}
    assert sum(by_label.values()) == result.summary["totals"]["offered"]["mean"]
    day = [r for r in result.interval_rows if "06:00" <= r.interval_start < "22:00"]
    assert sum(r.offered or 0 for r in day) == 0
    assert result.labels[2] == "d1 00:00"


def test_days_are_24_hours_from_the_start_whatever_the_interval() -> None:
    """16-hour intervals over three days 08:00-24:00: the days table sums the intervals
    its day labels (it cut every 1.5 intervals rounded, day 3 empty)."""
    s = centre("08:00", "24:00", 3, {"per_hour": 30})
    s = s.model_copy(update={"horizon": s.horizon.model_copy(update={"interval_min": 960})})
    result = simulate(s, replications=1, workers=1)
    assert [r.day for r in result.interval_rows] == [1, 1, 2, 3]
    assert calls_by_label(result) == {d["day"]: d["offered"] for d in result.summary["days"]}


NIGHT = {"profile": [{"at": "06:00", "per_hour": 0}, {"at": "22:00", "per_hour": 60}]}


@pytest.mark.parametrize(
    ("start", "end", "days", "hours"),
    [("22:00", "06:00", 3, "the opening hours 22:00-06:00"), ("00:00", "24:00", 1, "the day")],
)
def test_a_night_profile_cut_at_midnight_is_warned_about(
    start: str, end: str, days: int, hours: str
) -> None:
    """{06:00: 0, 22:00: 60}: the first point's 0/h also holds from midnight to 06:00."""
    [problem] = check_scenario(centre(start, end, days, NIGHT))
    assert str(problem) == (
        f"calls[0].arrivals.profile: covers only 22:00-24:00 of {hours}: the last point's "
        "60/h (from 22:00) stops at midnight and the first point's 0/h holds from 00:00 to "
        '06:00; to run 60/h through midnight add {at: "00:00", per_hour: 60}'
    )
    through = {"profile": [{"at": "00:00", "per_hour": 60}, *NIGHT["profile"]]}
    assert check_scenario(centre(start, end, days, through)) == []


def test_a_profile_with_calls_at_night_opens_the_nights_and_says_so() -> None:
    """Points with calls outside 08:00-18:00 set the nights' rate: calls arrive then, and
    a warning says the nights are open; points of 0/h there keep them closed."""
    open_nights = {
        "profile": [
            {"at": "00:00", "per_hour": 5},
            {"at": "08:00", "per_hour": 150},
            {"at": "18:00", "per_hour": 5},
        ]
    }
    week = centre("08:00", "18:00", 2, open_nights)
    assert expected_calls(week) == pytest.approx(2 * 1500 + 14 * 5)  # one night
    [problem] = check_scenario(week)
    assert str(problem) == (
        "calls[0].arrivals.profile: has calls outside the opening hours 08:00-18:00 "
        "(00:00 5/h, 18:00 5/h): the nights are open, calls arrive day and night by the "
        "profile (give those points per_hour 0 to close the nights, or write the horizon "
        "00:00-24:00 for a centre open round the clock)"
    )
    closed = json.loads(json.dumps(open_nights).replace('"per_hour": 5', '"per_hour": 0'))
    assert expected_calls(centre("08:00", "18:00", 2, closed)) == pytest.approx(2 * 1500)
    in_hours = {"profile": [{"at": "08:00", "per_hour": 150}, {"at": "12:00", "per_hour": 100}]}
    assert expected_calls(centre("08:00", "18:00", 2, in_hours)) == pytest.approx(2 * 1200)


@pytest.mark.parametrize("cv", [0.5, 1.0, 2.0])
def test_the_normal_multiplier_has_mean_1_and_sd_cv(cv: float) -> None:
    """Cut at 0 it had mean 1.40 at cv 2: the normal is now the one whose cut draws have
    mean 1 and standard deviation cv; gamma as before."""
    rng = np.random.default_rng(7)
    for dist in ("normal", "gamma"):
        m = day_multipliers(rng, dist, cv, 400_000)
        assert m.mean() == pytest.approx(1, abs=4 * cv / math.sqrt(400_000))
        assert m.std() == pytest.approx(cv, rel=0.02)
        slices = volume_slices(cv, dist)
        assert slices.mean() == pytest.approx(1, rel=1e-9)  # midpoint quantiles: 0.98-1.39
        assert slices.std() == pytest.approx(cv, rel=0.03)


def test_daily_calls_of_a_normal_multiplier_keep_the_forecast_mean_and_spread() -> None:
    """31 days x 40 replications of 200 calls a day, normal cv 2: a day's calls have the
    forecast's mean (it was 1.4 times it) and a cv of sqrt(cv^2 + 1/mean)."""
    arrivals = {"per_hour": 200, "day_to_day": {"dist": "normal", "cv": 2}}
    s = centre("08:00", "09:00", 31, arrivals)
    s = s.model_copy(update={"agents": [s.agents[0].model_copy(update={"count": 60})]})
    day_of = np.array([day for day, _ in build_plan(s).interval_labels()])
    with executor(1) as ex:
        [reps] = ex.run([Job(s.model_dump_json(), 1, 40)])
    calls = np.array([[r.offered[day_of == d].sum() for d in range(1, 32)] for r in reps])
    calls = calls.ravel()  # 1,240 independent days
    spread = math.sqrt(2**2 + 1 / 200)
    assert calls.mean() == pytest.approx(200, abs=3 * 200 * spread / math.sqrt(calls.size))
    assert calls.std(ddof=1) / calls.mean() == pytest.approx(spread, rel=0.15)
    assert (calls == 0).mean() == pytest.approx(0.67, abs=0.05)  # the cut: days of no calls


def test_erlang_forecast_cv_averages_over_a_mean_1_multiplier(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The rates Erlang is averaged over have the forecast's mean, for a normal cut at 0
    (it failed on slices of no calls: "rate_per_s: 0.0 is not a positive number") and for
    a gamma (its midpoint quantiles had mean 0.98 at cv 2)."""
    for dist in ("normal", "gamma"):
        seen: list[float] = []

        def model(rate: float, seen: list[float] = seen) -> Any:
            seen.append(rate)
            return erlang_c(rate, 180, 14, 20)

        x = with_forecast_error(model, 0.05, 2, dist)
        assert sum(seen[:-1]) / 64 == pytest.approx(0.05, rel=1e-9)  # the last: known volume
        assert x.service_level < x.service_level_known_volume
    code, out, err = run(
        capsys, "erlang", "c", "--calls", "100", "--aht-s", "180", "--agents", "14",
        "--forecast-cv", "2", "--forecast-dist", "normal", "--json",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert json.loads(out)["dist"] == "normal"


def test_a_day_without_calls_has_no_service_level_in_the_days_table() -> None:
    """Normal cv 1.5 gives days of no calls (about half); the days table's service level
    is the mean over the replications where the day had calls (it counted them as 0)."""
    arrivals = {"per_hour": 50, "day_to_day": {"dist": "normal", "cv": 1.5}}
    s = centre("08:00", "09:00", 4, arrivals)
    s = s.model_copy(update={"agents": [s.agents[0].model_copy(update={"count": 20})]})
    days = simulate(s, replications=12, seed=4).summary["days"]
    assert [d["service_level"]["mean"] for d in days] == [1.0] * 4  # 20 agents: no one waits
    assert [d["abandon_rate"]["mean"] for d in days] == [0.0] * 4
