"""`callsim roster`: every roster keeps its hard rules (read back from roster.csv), covers
what it can, grants preferences the coverage allows, names an agent no roster can hold,
and writes day scenarios that validate and run."""

from __future__ import annotations

import csv
import itertools
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callsim.cli.app import main
from callsim.plan.people import People, load_people, span_minutes
from callsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
BANK = ROOT / "scenarios" / "roster"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

SMALL = """\
skill: general
shifts:
  starts: ["08:00", "12:00"]
  lengths_h: [4, 8]
  breaks: [{minutes: 30, from_length_h: 6, after_min: 120, before_end_min: 90}]
rules: {min_rest_h: 11, max_consecutive_days: 5, hours_tolerance_h: 0}
agents:
  - {name: Ann, skills: [general], hours_per_week: 32}
  - {name: Bob, skills: [general, sales], hours_per_week: 32}
  - {name: Cai, skills: [general], hours_per_week: 32, prefer_start: "12:00-12:00"}
  - {name: Dee, skills: [general], hours_per_week: 32, days_off: ["2027-01-06"]}
  - {name: Eve, skills: [sales], hours_per_week: 40}
  - {name: Fay, skills: [general], hours_per_week: 32}
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def _plan(path: Path) -> Path:
    """One agent 08:00-12:00, two 12:00-16:00, one 16:00-20:00; 20 calls a half hour."""
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["interval_start", "calls", "aht_s", "agents", "agents_scheduled"])
        for m in range(8 * 60, 20 * 60, 30):
            need = 2 if 12 * 60 <= m < 16 * 60 else 1
            w.writerow([f"{m // 60:02d}:{m % 60:02d}", 20, 120, need, need])
    return path


def _hhmm(text: str) -> int:
    return int(text[:2]) * 60 + int(text[3:])


def check_rules(folder: Path, people: People, first: date, weeks: int) -> list[dict[str, str]]:
    """Every hard rule, from roster.csv alone; returns its rows."""
    with (folder / "roster.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    by_agent: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        by_agent[r["agent"]].append(r)
    rules, shifts = people.rules, people.shifts
    starts = set(shifts.start_times())
    for person in people.rostered():
        mine = sorted(by_agent[person.name], key=lambda r: r["date"])
        days = [date.fromisoformat(r["date"]) for r in mine]
        assert len(days) == len(set(days)), f"{person.name}: two shifts a day"
        for r in mine:  # an allowed shift, within availability, its break by the rule
            start, end = _hhmm(r["start"]), _hhmm(r["end"])
            assert start in starts
            assert (end - start) / 60 in shifts.lengths_h
            assert float(r["paid_h"]) == (end - start) / 60
            if person.available is not None:
                lo, hi = span_minutes(person.available[r["weekday"].lower()])  # type: ignore[index]
                assert lo <= start
                assert end <= hi
            rules_of = [b for b in shifts.breaks if end - start >= b.from_length_h * 60]
            breaks = sorted(r["breaks"].split())
            assert len(breaks) == len(rules_of)
            for b, rule in zip(breaks, rules_of, strict=True):
                at, _, minutes = b.partition("+")
                assert int(minutes) == rule.minutes
                assert start + rule.after_min <= _hhmm(at)
                assert _hhmm(at) <= end - rule.before_end_min - rule.minutes
        for a, b in itertools.pairwise(mine):  # rest between days in a row
            if date.fromisoformat(b["date"]) - date.fromisoformat(a["date"]) == timedelta(1):
                rest = 1440 - _hhmm(a["end"]) + _hhmm(b["start"])
                assert rest >= rules.min_rest_h * 60, (person.name, a, b)
        run_ = 0  # days in a row
        for k in range(weeks * 7):
            run_ = run_ + 1 if first + timedelta(days=k) in days else 0
            assert run_ <= rules.max_consecutive_days
        for w in range(weeks):  # hours within contract
            paid = sum(float(r["paid_h"]) for r in mine
                       if (date.fromisoformat(r["date"]) - first).days // 7 == w)  # fmt: skip
            assert abs(paid - person.hours_per_week) <= rules.hours_tolerance_h
    assert not set(by_agent) - {p.name for p in people.rostered()}
    return rows


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("roster")
    people = tmp / "people.yaml"
    people.write_text(SMALL)
    plan = _plan(tmp / "plan.csv")
    folder = tmp / "out"
    with pytest.raises(SystemExit) as exc:
        main(["roster", str(people), "--requirement", f"all={plan}", "--start", "2027-01-03",
              "--weeks", "1", "--time-limit-s", "10", "--out", str(folder), "--json"])  # fmt: skip
    assert exc.value.code in (0, None)
    return people, folder


def test_small_roster_keeps_the_rules_and_covers(small: tuple[Path, Path]) -> None:
    people, folder = small
    rows = check_rules(folder, load_people(people), date(2027, 1, 3), 1)
    assert {r["agent"] for r in rows} == {"Ann", "Bob", "Cai", "Dee", "Fay"}  # not Eve: sales
    doc = json.loads((folder / "roster.json").read_text())
    assert doc["required_agent_h"] == 7 * 16.0
    # 160 paid hours for 112 on the phones: room for every break, nothing short
    assert doc["short_agent_h"] == 0
    assert (doc["status"], doc["gap"]) == ("OPTIMAL", 0.0)  # proven, in well under 1 s
    weekend = [a["weekend_days"] for a in doc["agents"]]
    assert max(weekend) - min(weekend) <= 1  # shared fairly
    with (folder / "coverage.csv").open() as fh:
        cover = list(csv.DictReader(fh))
    assert all(float(r["scheduled"]) >= int(r["required"]) for r in cover)


def test_small_roster_grants_the_preferences_coverage_allows(small: tuple[Path, Path]) -> None:
    _, folder = small
    doc = json.loads((folder / "roster.json").read_text())
    agents = {a["agent"]: a for a in doc["agents"]}
    assert (agents["Dee"]["preferences"], agents["Dee"]["preferences_met"]) == (1, 1)
    assert agents["Cai"]["preferences_met"] == agents["Cai"]["preferences"]
    with (folder / "roster.csv").open() as fh:
        assert not any(
            r["agent"] == "Dee" and r["date"] == "2027-01-06" for r in csv.DictReader(fh)
        )


def test_small_roster_day_scenario_validates_and_runs(
    small: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, folder = small
    day = folder / "days" / "2027-01-04.yaml"
    scenario = load_scenario(day)
    with (folder / "roster.csv").open() as fh:
        working = sorted(r["agent"] for r in csv.DictReader(fh) if r["date"] == "2027-01-04")
    assert sorted(g.name for g in scenario.agents) == working
    assert all(g.count == 1 and g.shift is not None for g in scenario.agents)
    code, out, err = run(capsys, "run", str(day), "-n", "2", "--out", str(tmp_path / "run"),
                         "--json", "--no-plots")  # fmt: skip
    assert code == 0, err
    offered = json.loads(out)["queues"]["general"]["offered"]["mean"]
    assert 400 < offered < 560  # 24 half hours of 20 calls


def test_bank_two_weeks_keep_the_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plans = [f"--requirement={d}={BANK / f'bank-plan-{d}.csv'}" for d in WEEKDAYS]
    code, out, err = run(capsys, "roster", str(BANK / "bank-agents.yaml"), *plans,
                         "--start", "1999-10-31", "--weeks", "2", "--time-limit-s", "12",
                         "--patience-s", "424", "--out", str(tmp_path), "--json")  # fmt: skip
    assert code == 0, err
    check_rules(tmp_path, load_people(BANK / "bank-agents.yaml"), date(1999, 10, 31), 2)
    doc = json.loads(out)
    assert doc["short_agent_h"] < 0.1 * doc["required_agent_h"]  # measured 15 of 1,296 in 30 s
    assert len(doc["scenarios"]) == 14
    load_scenario(Path(doc["scenarios"][5]))  # a Friday


def test_a_profile_of_staff_scenario_is_covered(
    small: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """staff.csv of `callsim staff SCENARIO`: a column of agents per profile, no aht_s."""
    people, _ = small
    plan = tmp_path / "staff.csv"
    with _plan(tmp_path / "plan.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    with plan.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["interval_start", "calls", "erlang_agents", "team", "others"])
        w.writerows([r["interval_start"], r["calls"], 9, r["agents"], 7] for r in rows)
    out = tmp_path / "out"
    code, _, err = run(capsys, "roster", str(people), "--requirement", f"all={plan}",
                       "--cover", "team", "--start", "2027-01-03", "--weeks", "1",
                       "--time-limit-s", "10", "--out", str(out), "--no-plots")  # fmt: skip
    assert code == 0, err
    assert "no day scenarios: the plans have no aht_s" in err
    doc = json.loads((out / "roster.json").read_text())
    assert (doc["required_agent_h"], doc["short_agent_h"], doc["scenarios"]) == (112.0, 0, [])
    code, _, err = run(capsys, "roster", str(people), "--requirement", f"all={plan}",
                       "--cover", "teem", "--start", "2027-01-03")  # fmt: skip
    assert (code, err.strip()) == (2, (
        f"Error: {plan}: no column 'teem' of agents (expected a staffing plan of `callsim "
        "staff`: interval_start, calls, and the agents' column; found: interval_start, "
        "calls, erlang_agents, team, others)"
    ))  # fmt: skip


def test_dated_plans_are_found_by_a_pattern(
    small: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`dated=PATTERN`: the plans `staff --forecast` wrote for forecast's day files."""
    people, _ = small
    for k in (0, 1, 2):  # Sunday to Tuesday; the other days need nobody
        folder = tmp_path / "plans" / f"day-2027-01-0{3 + k}"
        folder.mkdir(parents=True)
        _plan(folder / "plan.csv")
    out = tmp_path / "out"
    code, _, err = run(capsys, "roster", str(people), "--requirement",
                       f"dated={tmp_path}/plans/*/plan.csv", "--start", "2027-01-03",
                       "--weeks", "1", "--time-limit-s", "10", "--out", str(out), "--json")  # fmt: skip
    assert code == 0, err
    with (out / "coverage.csv").open() as fh:
        days = {r["date"] for r in csv.DictReader(fh) if int(r["required"])}
    assert days == {"2027-01-03", "2027-01-04", "2027-01-05"}
    code, _, err = run(capsys, "roster", str(people), "--requirement",
                       f"dated={tmp_path}/nothing/*.csv", "--start", "2027-01-03")  # fmt: skip
    assert (code, err.strip()) == (
        2,
        f"Error: --requirement: dated={tmp_path}/nothing/*.csv: no file matches",
    )


def test_an_agent_no_roster_can_hold_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = tmp_path / "people.yaml"
    people.write_text(
        SMALL + '  - {name: Zoe, skills: [general], hours_per_week: 40, '
        'available: {sun: "08:00-12:00"}}\n'
    )  # fmt: skip
    plan = _plan(tmp_path / "plan.csv")
    code, _, err = run(capsys, "roster", str(people), "--requirement", f"all={plan}",
                       "--start", "2027-01-03", "--weeks", "1", "--out", str(tmp_path / "o"))  # fmt: skip
    assert code == 2
    assert err.strip() == (
        "Error: agents[6] (Zoe): no roster keeps 40 h +- 0 a week from 2027-01-03 over 1 week "
        "with shifts of 4, 8 h, available sun 08:00-12:00, at most 5 days in a row and 11 h "
        "of rest (expected a contract the availability and the shift lengths can give)"
    )


def test_bad_roster_files_say_where(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    people = tmp_path / "people.yaml"
    people.write_text(SMALL.replace("max_consecutive_days: 5", "max_consecutive_dayz: 5"))
    plan = _plan(tmp_path / "plan.csv")
    args = ["roster", str(people), "--requirement", f"all={plan}", "--start", "2027-01-03"]
    code, _, err = run(capsys, *args)
    assert code == 2
    assert err.splitlines()[0].startswith(f"Error: {people}: rules.max_consecutive_dayz")
    code, _, err = run(capsys, *args, "--patience-s", "-5")
    assert (code, err.strip()) == (2, "Error: --patience-s: -5.0 is not a positive number")
    code, _, err = run(capsys, *args[:3], f"fri={tmp_path / 'none.csv'}", *args[4:])
    assert code == 2
    assert err.startswith(f"Error: {tmp_path / 'none.csv'}: cannot read the requirement")


def test_subprocess_bad_requirement_is_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "callsim", "roster", "x.yaml", "--requirement", "plan.csv",
         "--start", "2027-01-03"],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Error: --requirement: 'plan.csv' is not WHEN=PLAN (e.g. sun=plan.csv) or a folder of "
        "plans (`callsim staff --forecast FOLDER`'s)"
    )


@st.composite
def _inputs(draw: st.DrawFn) -> tuple[str, list[int]]:
    """A random small roster file (YAML text) and a day's requirement 08:00-20:00."""
    rules = {
        "min_rest_h": draw(st.sampled_from([8, 11, 12])),
        "max_consecutive_days": draw(st.integers(3, 5)),
        "hours_tolerance_h": draw(st.sampled_from([0, 4])),
    }
    agents = []
    for k in range(draw(st.integers(2, 5))):
        agent: dict[str, object] = {
            "name": f"a{k}",
            "skills": ["general"],
            "hours_per_week": draw(st.sampled_from([16, 24, 32])),
        }
        days = draw(st.sets(st.sampled_from(WEEKDAYS), min_size=2, max_size=7))
        if len(days) < 7:
            agent["available"] = dict.fromkeys(sorted(days), "08:00-20:00")
        if draw(st.booleans()):
            agent["days_off"] = [f"2027-01-0{draw(st.integers(3, 9))}"]
        agents.append(agent)
    people = {
        "skill": "general",
        "shifts": {"starts": ["08:00", "12:00"], "lengths_h": [4, 8],
                   "breaks": [{"minutes": 30, "from_length_h": 6}]},
        "rules": rules,
        "agents": agents,
    }  # fmt: skip
    need = draw(st.lists(st.integers(0, 2), min_size=24, max_size=24))
    return json.dumps(people), need  # JSON is YAML


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(inputs=_inputs())
def test_any_roster_keeps_the_rules_or_names_an_agent(
    inputs: tuple[str, list[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    text, need = inputs
    with tempfile.TemporaryDirectory() as tmp:
        people, plan = Path(tmp) / "people.yaml", Path(tmp) / "plan.csv"
        people.write_text(text)
        with plan.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["interval_start", "calls", "aht_s", "agents_scheduled"])
            for i, n in enumerate(need):
                w.writerow([f"{8 + i // 2:02d}:{30 * (i % 2):02d}", 10, 120, n])
        code, _, err = run(capsys, "roster", str(people), "--requirement", f"all={plan}",
                           "--start", "2027-01-03", "--weeks", "1", "--time-limit-s", "4",
                           "--out", str(Path(tmp) / "out"), "--no-plots")  # fmt: skip
        if code == 2:  # an agent no week can hold: named, one line
            assert err.startswith("Error: agents["), err
            assert len(err.strip().splitlines()) == 1
            return
        assert code == 0, err
        check_rules(Path(tmp) / "out", load_people(people), date(2027, 1, 3), 1)
