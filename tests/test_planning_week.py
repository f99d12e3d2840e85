"""The planner's week end to end on the bank's log (docs/planning.md, "The week of a
planner"): forecast with its backtest, the requirement of every forecast day, a two-week
roster of the bank's named agents keeping its rules, and its simulated check: four
commands, each reading what the one before wrote."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from callsim.cli.app import main
from callsim.plan.people import load_people
from tests.test_roster import check_rules

ROOT = Path(__file__).resolve().parent.parent
OCTOBER = ROOT / "scenarios" / "anonymous-bank-1999" / "anonymous_bank_1999_10_october.txt.gz"
AGENTS = ROOT / "scenarios" / "roster" / "bank-agents.yaml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_log_to_forecast_to_requirement_to_roster_to_simulated_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f, plans, r = tmp_path / "f", tmp_path / "plans", tmp_path / "r"
    code, _, err = run(capsys, "forecast", str(OCTOBER), "--until", "1999-10-21",
                       "--days", "16", "--out", str(f), "--json")  # fmt: skip
    assert code == 0, err
    doc = json.loads((f / "forecast.json").read_text())
    mstl = [a for a in doc["backtest"] if a["series"] == "all" and a["model"] == "MSTL"]
    naive = [a for a in doc["backtest"] if a["series"] == "all" and a["model"] != "MSTL"]
    assert all(a["wape"] < b["wape"] for a, b in zip(mstl, naive, strict=True))  # each horizon

    code, out, err = run(capsys, "staff", "--forecast", str(f), "--model", "a",
                         "--patience-s", "424", "--out", str(plans))  # fmt: skip
    assert code == 0, err
    assert "1999-10-24" in out
    assert _widest(out) <= 80
    written = sorted(p.parent.name for p in plans.glob("*/plan.csv"))
    assert written == [p.stem for p in sorted(f.glob("day-*.csv"))]  # 16 days, 22 Oct-6 Nov
    assert len(written) == 16

    code, out, err = run(capsys, "roster", str(AGENTS), "--requirement", str(plans),
                         "--start", "1999-10-24", "--weeks", "2", "--patience-s", "424",
                         "--time-limit-s", "16", "--check", "3", "--out", str(r),
                         "--no-plots")  # fmt: skip
    assert code == 0, err
    check_rules(r, load_people(AGENTS), date(1999, 10, 24), 2)
    roster = json.loads((r / "roster.json").read_text())
    assert roster["short_agent_h"] < 0.05 * roster["required_agent_h"]  # measured 0 to 2 %
    with (r / "check.csv").open() as fh:
        days = list(csv.DictReader(fh))
    assert [d["date"] for d in days] == [p.rstrip(".yaml") for p in
                                         sorted(x.name for x in (r / "days").glob("*.yaml"))]  # fmt: skip
    assert len(days) == 14
    weekdays = [d for d in days if d["weekday"] not in ("Fri", "Sat")]
    # the roster covers Erlang A's plan, so the simulated days meet 80 % in 20 s
    assert all(float(d["service_level"]) > 0.8 for d in weekdays), days
    assert "Simulated check" in out
    assert _widest(out) <= 80


def _widest(out: str) -> int:
    """The widest line of the tables printed (their titles wrap as text)."""
    return max(len(line) for line in out.splitlines() if line[:1] in "┏┃┡│└")


def test_a_folder_without_forecast_days_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "staff", "--forecast", str(tmp_path))
    assert code == 2
    assert err.strip() == (
        f"Error: --forecast: {tmp_path} holds no day-YYYY-MM-DD.csv (expected a forecast "
        "CSV, or the folder `callsim forecast` wrote)"
    )
    code, _, err = run(capsys, "roster", str(AGENTS), "--requirement", str(tmp_path),
                         "--start", "1999-10-24", "--check", "-1")  # fmt: skip
    assert code == 2
    assert err.strip() == "Error: --check: -1 is not a number of simulated days in 0..1000"


def test_roster_days_without_a_plan_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plans = tmp_path / "plans"
    for day in ("1999-10-24", "1999-10-25"):  # Sunday and Monday only
        (plans / f"day-{day}").mkdir(parents=True)
        plan = ROOT / "scenarios" / "roster" / "bank-plan-sun.csv"
        (plans / f"day-{day}" / "plan.csv").write_text(plan.read_text())
    code, _, err = run(capsys, "roster", str(AGENTS), "--requirement", str(plans),
                       "--start", "1999-10-24", "--weeks", "1", "--time-limit-s", "4",
                       "--out", str(tmp_path / "r"), "--no-plots")  # fmt: skip
    assert code == 0, err
    assert (
        "Warning: no requirement for 5 of the roster's days (Tue 1999-10-26, Wed 1999-10-27, "
        "Thu 1999-10-28, ...): nobody is needed there" in " ".join(err.split())
    ), err
