"""`callsim intraday`: the rest of a day re-forecast from its calls so far, against the
planned agents; small exact cases, the bank's October and bad input."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from callsim.analytics.forecast import Interval, plan_day
from callsim.analytics.forecasting import ALL, interval_counts
from callsim.analytics.staffing import Target, required_agents
from callsim.calibrate.log import read_log
from callsim.cli.app import main
from callsim.plan.intraday import Actual, day_service_level, ratio, reforecast

ROOT = Path(__file__).resolve().parent.parent
OCTOBER = ROOT / "scenarios" / "anonymous-bank-1999" / "anonymous_bank_1999_10_october.txt.gz"
TARGET = Target(0.8, 20.0)
DAY = [Interval(f"{h:02d}:{m:02d}", 100.0, 180.0, None) for h in (8, 9, 10) for m in (0, 30)]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_actuals_equal_to_forecast_keep_the_forecast_and_its_requirement() -> None:
    actuals = {"08:00": Actual(100.0, None), "08:30": Actual(100.0, None)}
    est = ratio(DAY, actuals, 9 * 60, 80.0)
    assert (est.actual_calls, est.forecast_calls, est.estimate) == (200.0, 200.0, 1.0)
    assert est.lo < 1.0 < est.hi
    assert est.aht_ratio == 1.0
    rows = reforecast(DAY, {}, est, 9 * 60, 30, TARGET)
    assert [r.start for r in rows] == ["09:00", "09:30", "10:00", "10:30"]
    same = plan_day(DAY[2:], 30, TARGET)
    assert [r.reforecast for r in rows] == [100.0] * 4
    assert [r.required for r in rows] == [p.staffing for p in same]
    # nobody planned: every required agent is short and no call is answered in time
    assert [r.short for r in rows] == [r.required.agents for r in rows]
    assert day_service_level(rows) == 0.0


def test_more_calls_scale_the_rest_of_the_day() -> None:
    # 250 calls against 200 forecast: ratio 1.25; with Jeffreys' prior the ratio is
    # Gamma(250.5, rate 200), whose 80 % interval is 1.152-1.355
    actuals = {"08:00": Actual(120.0, 200.0), "08:30": Actual(130.0, 200.0)}
    est = ratio(DAY, actuals, 9 * 60, 80.0)
    assert est.estimate == 1.25
    assert (round(est.lo, 3), round(est.hi, 3)) == (1.152, 1.355)
    assert est.aht_ratio == pytest.approx(200.0 / 180.0)
    rows = reforecast(DAY, {iv.start: 14 for iv in DAY}, est, 9 * 60, 30, TARGET)
    need = required_agents(125.0 / 1800.0, 200.0, TARGET)
    assert all(r.reforecast == 125.0 and r.aht_s == pytest.approx(200.0) for r in rows)
    assert all(r.required == need and r.short == need.agents - 14 for r in rows)
    # the predictive band holds the ratio's uncertainty and the interval's Poisson noise
    assert all(r.lo < r.forecast * est.lo and r.hi > r.forecast * est.hi for r in rows)


def test_an_elapsed_interval_without_actuals_had_no_calls() -> None:
    est = ratio(DAY, {"08:00": Actual(100.0, None)}, 9 * 60, 80.0)
    assert est.estimate == 0.5


def _plan(folder: Path, agents: int) -> Path:
    rows = [f"{iv.start},{iv.calls},{iv.aht_s},{agents},{agents}" for iv in DAY]
    return write(folder / "plan.csv", "interval_start,calls,aht_s,agents,agents_scheduled", rows)


def test_command_files_and_live_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fc = write(tmp_path / "day.csv", "interval_start,calls,aht_s",
               [f"{iv.start},{iv.calls},{iv.aht_s}" for iv in DAY])  # fmt: skip
    # the live service's rows: one per interval and queue, offered summed over queues
    live = {"date": "2026-12-07", "interval_min": 30.0, "intervals": [
        {"interval_start": "08:00", "queue": "a", "offered": 60},
        {"interval_start": "08:00", "queue": "b", "offered": 40},
        {"interval_start": "08:30", "queue": "a", "offered": 100}]}  # fmt: skip
    (tmp_path / "stats.json").write_text(json.dumps(live))
    code, out, err = run(capsys, "intraday", str(fc), "--plan", str(_plan(tmp_path, 16)),
                         "--actuals", str(tmp_path / "stats.json"), "--out",
                         str(tmp_path / "out"))  # fmt: skip
    assert code == 0, err
    assert "Intraday reforecast from 09:00" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "ratio 1.000" in err
    doc = json.loads((tmp_path / "out" / "intraday.json").read_text())
    need = plan_day(DAY[2:], 30, TARGET)[0].staffing.agents
    assert [r["short"] for r in doc["intervals"]] == [need - 16] * 4
    with (tmp_path / "out" / "intraday.csv").open() as fh:
        assert [r["interval_start"] for r in csv.DictReader(fh)] == [
            "09:00",
            "09:30",
            "10:00",
            "10:30",
        ]
    assert (tmp_path / "out" / "intraday.png").stat().st_size > 10_000


def test_roster_coverage_is_read_for_its_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fc = write(tmp_path / "day.csv", "interval_start,calls,aht_s",
               [f"{iv.start},{iv.calls},{iv.aht_s}" for iv in DAY])  # fmt: skip
    actual = write(tmp_path / "now.csv", "interval_start,calls", ["08:00,100", "08:30,100"])
    cover = write(tmp_path / "coverage.csv", "date,interval_start,required,scheduled,short",
                  [f"{d},{iv.start},0,{n},0" for d, n in (("2026-12-07", 3), ("2026-12-08", 30))
                   for iv in DAY])  # fmt: skip
    base = ["intraday", str(fc), "--plan", str(cover), "--actuals", str(actual), "--json"]
    code, _, err = run(capsys, *base)
    assert code == 2
    assert err.count("\n") == 1
    assert "expected --date" in err
    code, out, _ = run(capsys, *base, "--date", "2026-12-08")
    assert code == 0
    assert {r["planned"] for r in json.loads(out)["intervals"]} == {30}


@pytest.mark.parametrize(
    ("actuals", "extra", "message"),
    [
        ("08:00,ten", [], "now.csv: row 2: calls 'ten' is not a number >= 0"),
        ("8h,10", [], "now.csv: row 2: interval_start '8h' is not a time HH:MM"),
        ("08:00,10", ["--now", "25:00"], "--now: '25:00' is not a time HH:MM"),
        ("08:00,10", ["--now", "07:00"], "the forecast has no calls before now"),
        ("08:00,10", ["--level", "100"], "--level: 100.0 is not within (0, 100)"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    actuals: str,
    extra: list[str],
    message: str,
) -> None:
    fc = write(tmp_path / "day.csv", "interval_start,calls,aht_s",
               [f"{iv.start},{iv.calls},{iv.aht_s}" for iv in DAY])  # fmt: skip
    now = write(tmp_path / "now.csv", "interval_start,calls", [actuals])
    code, _, err = run(capsys, "intraday", str(fc), "--plan", str(_plan(tmp_path, 16)),
                       "--actuals", str(now), "--json", *extra)  # fmt: skip
    assert code == 2
    assert err.count("\n") == 1, err
    assert message in err, err


@pytest.fixture(scope="module")
def monday(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Monday 25 October 1999: forecast from 1-21 October, planned by `staff --forecast`,
    re-forecast at 14:00 from the log's calls of that morning."""
    folder = tmp_path_factory.mktemp("intraday")
    for argv in (
        ["forecast", str(OCTOBER), "--until", "1999-10-21", "--days", "4", "--no-plots",
         "--out", str(folder / "fc"), "--json"],
        ["staff", "--forecast", str(folder / "fc" / "day-1999-10-25.csv"), "--no-plots",
         "--out", str(folder / "staff"), "--json"],
    ):  # fmt: skip
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code in (0, None)
    history = interval_counts(read_log(OCTOBER).calls, 30)
    k = (date(1999, 10, 25) - history.first).days
    day = history.calls[ALL][k * 48 : (k + 1) * 48]
    write(folder / "morning.csv", "interval_start,calls",
          [f"{i // 2:02d}:{i % 2 * 30:02d},{int(day[i])}" for i in range(28) if day[i]])  # fmt: skip
    with pytest.raises(SystemExit) as exc:
        main(["intraday", str(folder / "fc" / "day-1999-10-25.csv"), "--plan",
              str(folder / "staff" / "plan.csv"), "--actuals", str(folder / "morning.csv"),
              "--out", str(folder / "out"), "--json"])  # fmt: skip
    assert exc.value.code in (0, None)
    doc = json.loads((folder / "out" / "intraday.json").read_text())
    doc["afternoon"] = float(day[28:].sum())
    return doc


def test_bank_half_day_says_who_is_short_where(monday: dict[str, object]) -> None:
    doc = monday
    est = doc["ratio"]
    assert doc["now"] == "14:00"
    assert (est["actual_calls"], round(est["forecast_calls"], 1)) == (613.0, 672.0)
    # 0.912, its 80 % band 0.866-0.960: the morning was surely quieter than forecast
    assert est["lo"] < est["estimate"] < est["hi"] < 1.0
    rows = doc["intervals"]
    assert [r["interval_start"] for r in rows][:2] == ["14:00", "14:30"]
    assert rows[-1]["interval_start"] == "23:30"
    # the afternoon came in below the forecast, as the morning said: the reforecast is
    # nearer the log's afternoon than the forecast was
    forecast = sum(r["forecast"] for r in rows)
    again = sum(r["reforecast"] for r in rows)
    assert abs(again - doc["afternoon"]) < abs(forecast - doc["afternoon"])
    # planned for the forecast, so no interval is short of the lower reforecast
    assert all(r["short"] <= 0 for r in rows)
    assert any(r["short"] < 0 for r in rows)
    assert doc["service_level_rest_of_day"] > 0.8
    # simulated from the state the 13:00-14:00 calls leave: 0.925 +- 0.012 (Erlang 0.914)
    sim = doc["simulated"]
    assert sim["service_level"] - sim["service_level_ci95"] > 0.8  # type: ignore[index]


def test_live_json_with_a_bad_interval_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fc = write(tmp_path / "day.csv", "interval_start,calls,aht_s",
               [f"{iv.start},{iv.calls},{iv.aht_s}" for iv in DAY])  # fmt: skip
    (tmp_path / "stats.json").write_text(
        json.dumps({"intervals": [{"interval_start": "8 am", "offered": 3}]})
    )
    code, _, err = run(capsys, "intraday", str(fc), "--plan", str(_plan(tmp_path, 16)),
                       "--actuals", str(tmp_path / "stats.json"), "--json")  # fmt: skip
    assert code == 2
    assert err.count("\n") == 1, err
    assert "stats.json: not the JSON of GET /v1/stats/intervals (interval_start '8 am'" in err
