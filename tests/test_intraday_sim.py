"""`callsim intraday`'s simulated service level: the rest of the day as a scenario
(``plan.intraday.rest_scenario``), started from the state the last hour's actual calls
leave (a warm-up), simulated with the planned agents beside Erlang's figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callsim.analytics.forecast import Interval
from callsim.analytics.staffing import Target
from callsim.cli.app import main
from callsim.plan.intraday import Actual, ratio, reforecast, rest_scenario
from callsim.sim import simulate

TARGET = Target(0.8, 20.0)
DAY = [Interval(f"{h:02d}:{m:02d}", 100.0, 180.0, None) for h in (8, 9, 10) for m in (0, 30)]
PLANNED = {iv.start: 14 for iv in DAY}


def _rest(morning: float) -> tuple[list[object], object]:
    actuals = {"08:00": Actual(morning, None), "08:30": Actual(morning, None)}
    est = ratio(DAY, actuals, 9 * 60, 80.0)
    rows = reforecast(DAY, PLANNED, est, 9 * 60, 30, TARGET)
    return rows, rest_scenario(rows, actuals, PLANNED, 30, TARGET)


def test_the_rest_of_the_day_is_a_scenario_after_the_actual_last_hour() -> None:
    _, scenario = _rest(120.0)
    assert scenario is not None
    h = scenario.horizon  # type: ignore[attr-defined]
    assert (h.start, h.end, h.warmup_min) == ("09:00", "11:00", 60)
    streams = scenario.calls  # type: ignore[attr-defined]
    # one stream an interval: the warm-up's actual calls (120 a half hour), then the
    # reforecast (100 x 1.2), each with its handle time, none after 11:00
    assert [[(p.at, p.per_hour) for p in c.arrivals.profile] for c in streams[:1]] == [
        [("00:00", 0.0), ("08:00", 240.0), ("08:30", 0.0)]
    ]
    assert [next(p.at for p in c.arrivals.profile if p.per_hour) for c in streams] == [
        "08:00", "08:30", "09:00", "09:30", "10:00", "10:30",
    ]  # fmt: skip
    assert {p.per_hour for c in streams for p in c.arrivals.profile} == {0.0, 240.0}
    assert {c.talk_s.mean for c in streams} == {180.0}
    assert streams[-1].arrivals.profile[-1].at == "11:00"
    on_duty = scenario.agents[0].on_duty  # type: ignore[attr-defined]
    assert [(p.at, p.count) for p in on_duty][:3] == [("08:00", 14), ("08:30", 14), ("09:00", 14)]
    assert scenario.calls[0].patience_s is None  # type: ignore[attr-defined]


def test_a_swamped_morning_leaves_a_queue_that_the_next_interval_inherits() -> None:
    """The same afternoon, the same agents: after a morning of 300 calls a half hour for
    14 agents (far beyond them), the first interval starts with a queue; after a quiet
    one it does not. Erlang, which starts every interval empty, cannot tell them apart."""
    rows, _ = _rest(100.0)  # the forecast's afternoon: 100 calls a half hour, 14 agents
    levels = {}
    for morning in (60.0, 300.0):
        actuals = {"08:00": Actual(morning, None), "08:30": Actual(morning, None)}
        scenario = rest_scenario(rows, actuals, PLANNED, 30, TARGET)  # type: ignore[arg-type]
        assert scenario is not None
        result = simulate(scenario, replications=4, seed=5, workers=1)
        first = next(r for r in result.interval_rows if r.interval_start == "09:00")
        levels[morning] = first.service_level
    swamped, quiet = levels[300.0], levels[60.0]
    assert swamped is not None
    assert quiet is not None
    assert swamped < 0.2, levels
    assert quiet > 0.8, levels


def test_the_command_prints_both_service_levels_and_writes_the_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fc = tmp_path / "day.csv"
    fc.write_text("interval_start,calls,aht_s\n" + "".join(f"{iv.start},100,180\n" for iv in DAY))
    plan = tmp_path / "plan.csv"
    plan.write_text("interval_start,calls,agents\n" + "".join(f"{iv.start},100,16\n" for iv in DAY))
    now = tmp_path / "now.csv"
    now.write_text("interval_start,calls\n08:00,100\n08:30,100\n")
    with pytest.raises(SystemExit) as exc:
        main(["intraday", str(fc), "--plan", str(plan), "--actuals", str(now), "-n", "8",
              "--out", str(tmp_path / "out"), "--no-plots"])  # fmt: skip
    assert exc.value.code in (0, None)
    out, err = capsys.readouterr()
    assert " sim " in out.splitlines()[2].replace("┃", " ")
    assert "service level for the rest of the day with the planned agents: Erlang " in err
    assert "simulated " in err
    doc = json.loads((tmp_path / "out" / "intraday.json").read_text())
    sim = doc["simulated"]
    assert (sim["replications"], sim["warmup_min"]) == (8, 60)
    # 100 calls of 180 s a half hour to 16 agents: Erlang C 0.842; the simulated day
    # agrees within its CI and the simulation's own wider noise
    erlang = doc["service_level_rest_of_day"]
    assert abs(sim["service_level"] - erlang) < sim["service_level_ci95"] + 0.03, (sim, erlang)
    assert all(r["service_level_simulated"] is not None for r in doc["intervals"])
    assert (tmp_path / "out" / "rest.yaml").exists()
