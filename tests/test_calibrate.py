"""``callsim calibrate`` and ``callsim compare`` on the shipped Anonymous Bank log: the
reader's rules for the log's flaws, the fits against known answers, and the commands."""

from __future__ import annotations

import gzip
import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from callsim.calibrate.build import (
    WRAP_UP_MAX_S,
    Model,
    availability_blocks,
    calibrate,
    day_scenario,
    one_pool,
)
from callsim.calibrate.compare import _erlang, day_talk_means
from callsim.calibrate.fit import (
    Frame,
    fit_patience,
    fit_retrials,
    fit_wrap_up,
    infer_pools,
    observe,
    select_days,
)
from callsim.calibrate.log import CallLog, LoggedCall, read_log
from callsim.errors import InputError
from callsim.scenario import load_scenario
from callsim.scenario.model import dist_mean
from tests.test_cli import run

BANK = Path(__file__).resolve().parent.parent / "scenarios" / "anonymous-bank-1999"
JANUARY = BANK / "anonymous_bank_1999_01_january.txt.gz"
OCTOBER = BANK / "anonymous_bank_1999_10_october.txt.gz"
HEADER = (
    "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\t"
    "vru_time\tq_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver"
)


def bank_row(*fields: str) -> str:
    return "\t".join(fields)


def test_the_logs_flaws_have_rules(tmp_path: Path) -> None:
    rows = [
        HEADER,
        # answered after 17 s in the queue
        bank_row(
            "AA01",
            "1",
            "27997683",
            "2",
            "PS",
            "991003",
            "9:55:20",
            "9:55:26",
            "6",
            "9:55:26",
            "9:55:43",
            "17",
            "AGENT",
            "9:55:43",
            "9:56:37",
            "54",
            "MICHAL",
        ),
        # answered at once: no queue
        bank_row(
            "AA01",
            "2",
            "0",
            "0",
            "PS",
            "991003",
            "10:41:16",
            "10:41:26",
            "10",
            "0:00:00",
            "0:00:00",
            "0",
            "AGENT",
            "10:41:25",
            "10:44:53",
            "208",
            "BASCH",
        ),
        # hung up in the queue after 153 s
        bank_row(
            "AA01",
            "3",
            "9664491",
            "2",
            "PS",
            "991003",
            "11:00:31",
            "11:00:36",
            "5",
            "11:00:36",
            "11:03:09",
            "153",
            "HANG",
            "0:00:00",
            "0:00:00",
            "0",
            "NO_SERVER",
        ),
        # hung up in the voice menu
        bank_row(
            "AA01",
            "4",
            "0",
            "0",
            "PS",
            "991003",
            "12:34:12",
            "12:34:23",
            "11",
            "0:00:00",
            "0:00:00",
            "0",
            "HANG",
            "0:00:00",
            "0:00:00",
            "0",
            "NO_SERVER",
        ),
        bank_row(
            "AA01",
            "5",
            "0",
            "0",
            "PS",
            "991003",
            "12:00:00",
            "12:00:05",
            "5",
            "0:00:00",
            "0:00:00",
            "0",
            "PHANTOM",
            "0:00:00",
            "0:00:00",
            "0",
            "NO_SERVER",
        ),
        bank_row(
            "AA01",
            "6",
            "0",
            "0",
            "PS",
            "991003",
            "13:00:00",
            "13:00:05",
            "5",
            "0:00:00",
            "0:00:00",
            "0",
            "AGENT",
            "13:00:05",
            "13:01:00",
            "55",
            "NO_SERVER",
        ),
        # spaces instead of tabs, and past midnight
        "AA01 7 0 0       NW 991003 23:59:50 0:00:02 12 0:00:02 0:00:09 7 AGENT 0:00:09 "
        "0:01:00 51 DARMON",
        "AA01\t8\tbroken",
        bank_row(
            "AA01",
            "9",
            "0",
            "0",
            "PS",
            "991003",
            "13:xx:00",
            "13:00:05",
            "5",
            "0:00:00",
            "0:00:00",
            "0",
            "AGENT",
            "13:00:05",
            "13:01:00",
            "55",
            "BASCH",
        ),
        bank_row(
            "AA01",
            "10",
            "0",
            "0",
            "PS",
            "991005",
            "9:00:00",
            "9:00:05",
            "5",
            "0:00:00",
            "0:00:00",
            "0",
            "AGENT",
            "9:00:05",
            "9:01:00",
            "55",
            "BASCH",
        ),
    ]
    path = tmp_path / "log.txt.gz"
    path.write_bytes(gzip.compress("\r\n".join(rows).encode()))
    log = read_log(path)
    assert log.rows == 10
    assert dict(log.dropped) == {
        "voice-menu hang-up": 1,
        "phantom": 1,
        "answered by no agent": 1,
        "broken row": 1,
        "unreadable": 1,
    }
    assert log.examples["phantom"] == [6]
    assert dict(log.repaired) == {"separators": 1, "past midnight": 1}
    assert log.missing_days() == [date(1999, 10, 4)]
    first, second, hung, late, _ = log.calls
    assert (first.wait_s, first.answered, first.talk_s, first.caller) == (17, True, 54, "27997683")
    assert (second.wait_s, second.caller) == (0, "")
    assert (hung.wait_s, hung.answered, hung.agent) == (153, False, "")
    assert (late.type, late.arrival_s, late.wait_s) == ("NW", 86_402, 7)


def test_generic_csv(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "arrival,answered,abandoned,talk_s,agent,type,caller\n"
        "2024-03-04T09:00:00,2024-03-04T09:00:12,,180,ann,sales,+4711\n"
        "2024-03-04T09:01:00,,2024-03-04T09:03:00,,,sales,+4711\n"
        "2024-03-04T09:02:00,,,,,sales,\n"
    )
    log = read_log(path, "csv")
    assert [(c.wait_s, c.answered) for c in log.calls] == [(12, True), (120, False)]
    assert log.calls[0].arrival_s == 9 * 3600
    assert dict(log.dropped) == {"no outcome": 1}
    path.write_text("when,answered\n2024-03-04T09:00:00,\n")
    with pytest.raises(InputError, match="missing column 'arrival'"):
        read_log(path, "csv")


def test_patience_estimates_against_a_known_answer() -> None:
    """Exponential patience of mean 300 s, waits censored by answers at exponential
    times of mean 200 s: the censored MLE and Kaplan-Meier recover it."""
    rng = np.random.default_rng(3)
    patience = rng.exponential(300, 20_000)
    answer = rng.exponential(200, 20_000)
    calls = [
        LoggedCall(
            date(2024, 1, 1), "x", "", 0.0, float(min(p, a)), bool(a < p), 1.0, "a" if a < p else ""
        )
        for p, a in zip(patience, answer, strict=True)
    ]
    fit = fit_patience(calls)
    assert fit.exp_mean_s == pytest.approx(300, rel=0.04)
    assert fit.median_s == pytest.approx(300 * math.log(2), rel=0.06)
    assert fit.tail_mean_s == pytest.approx(300, rel=0.25)
    values = fit.values()
    assert np.median(values) == pytest.approx(300 * math.log(2), rel=0.08)


def test_retrials_from_caller_ids() -> None:
    day = date(2024, 1, 1)
    calls = [
        LoggedCall(day, "x", "c1", 100.0, 50.0, False, 0.0, ""),  # abandons
        LoggedCall(day, "x", "c1", 700.0, 5.0, True, 60.0, "a"),  # back after 600 s
        LoggedCall(day, "x", "c2", 100.0, 80.0, False, 0.0, ""),  # abandons, never back
        LoggedCall(day, "x", "c3", 100.0, 80.0, False, 0.0, ""),
        LoggedCall(day, "x", "c3", 9000.0, 5.0, True, 60.0, "a"),  # too late to be one
        LoggedCall(day, "x", "", 100.0, 80.0, False, 0.0, ""),  # no id: not counted
    ]
    fit = fit_retrials(calls)
    assert (fit.identified, fit.abandoned_identified, fit.retried) == (5, 3, 1)
    assert fit.probability == pytest.approx(1 / 3)
    assert fit.mean_delay_s == 600


def test_observed_day_matches_the_raw_log() -> None:
    log = read_log(OCTOBER)
    days = select_days(log, "1999-10-03")
    obs = observe(log, days, Frame(420, 1440, 30, 20))
    raw = [
        line.split("\t") for line in gzip.decompress(OCTOBER.read_bytes()).decode().splitlines()[1:]
    ]
    day = [r for r in raw if len(r) == 17 and r[5] == "991003"]
    queued_or_served = [
        r
        for r in day
        if (r[12] == "AGENT" and r[16].strip() != "NO_SERVER")
        or (r[12] == "HANG" and (r[9] != "0:00:00" or int(r[11]) > 0))
    ]
    assert obs.offered.sum() + obs.outside == len(queued_or_served)
    hang = sum(1 for r in queued_or_served if r[12] == "HANG")
    assert obs.abandoned.sum() <= hang
    assert len(select_days(log, "weekdays")) == 21
    with pytest.raises(InputError, match="selects none of the log's days"):
        select_days(log, "1998-01-01")
    with pytest.raises(InputError, match="is not a date"):
        select_days(log, "yesterday")


@pytest.mark.slow
def test_calibrate_then_compare(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    scenario = tmp_path / "bank.yaml"
    code, _, err = run(
        capsys,
        "calibrate",
        str(JANUARY),
        "--out",
        str(scenario),
        "--days",
        "1999-01-03..1999-01-07",
        "-n",
        "3",
        "--workers",
        "1",
        "--report",
        str(tmp_path / "report"),
    )
    assert code == 0, err
    sc = load_scenario(scenario)
    assert sc.calibration is not None
    assert 0.3 < sc.calibration.availability_factor < 1.5
    assert "PS" in sc.calibration.types
    assert set(sc.calibration.types) <= {"IN", "NE", "NW", "PE", "PS", "TT"}
    assert len(sc.calibration.types) == len(sc.calls)
    report = json.loads((tmp_path / "report" / "calibration.json").read_text())
    assert report["dropped"]["phantom"] == 240
    assert "PS" in report["pools"]["ps"]["types"]  # pools found from who served what
    assert sc.calibration.pools == {p: v["types"] for p, v in report["pools"].items()}
    assert {q.name for q in sc.queues} == {t.lower() for t in sc.calibration.types}
    assert len(sc.agents) == len(report["agent_groups"]) > 1
    assert sc.calibration.availability_factors is not None
    assert len(sc.calibration.availability_factors) == 34
    assert report["missing_days"] == ["1999-01-11", "1999-01-12"]
    # the ACD's hand-over of a call that waited, from the log's waits: 2-5 s
    assert sc.routing.handover_s is not None
    assert 2.5 < report["handover"]["mean_s"] < 4.5
    assert report["handover"]["answered_after_queueing_by_second"][:2] == [0, 0]
    # after-call work ends by WRAP_UP_MAX_S: a longer gap while calls waited was time away
    wrap_ups = [c.model_dump(mode="json")["wrap_up_s"]["values"] for c in sc.calls]
    assert max(max(v) for v in wrap_ups) == WRAP_UP_MAX_S
    assert report["wrap_up"]["scenario_mean_s"] < report["wrap_up"]["mean_s"]
    # each day's own after-call work, as its replays are given it: ended as the scenario's
    own = report["day_wrap_up_mean_s"]
    assert len(own) == len(sc.calibration.days)
    assert all(0 < v < WRAP_UP_MAX_S for v in own.values())
    for name in ("arrivals.png", "talk.png", "patience.png"):
        assert (tmp_path / "report" / name).stat().st_size > 10_000
    out = tmp_path / "cmp"
    code, stdout, err = run(
        capsys,
        "compare",
        str(OCTOBER),
        str(scenario),
        "--days",
        "1999-10-03..1999-10-05",
        "-n",
        "4",
        "--workers",
        "1",
        "--out",
        str(out),
    )
    assert code == 0, err
    assert "Errors over 3 days" in stdout
    assert "MAE ErlA" in stdout
    assert "worst day sim" in stdout
    doc = json.loads((out / "compare.json").read_text())
    assert [r["day"] for r in doc["per_day"]] == ["1999-10-03", "1999-10-04", "1999-10-05"]
    for m in ("abandon_rate", "asa_s", "service_level"):
        s = doc["summary"][m]
        assert s["mae"] is not None
        assert s["erlang_a_mae"] is not None
        assert s["interval_mae"] is not None
        assert s["erlang_a_interval_mae"] is not None
        assert s["worst_day"]["day"] in doc["days"]
        assert 0 <= s["intervals_in_band"] <= 1
    assert doc["pools"]["in"]["types"] == ["IN"]  # October's internet desk, found
    first = doc["per_day"][0]["abandon_rate"]
    assert first["band"][0] <= first["predicted"] <= first["band"][1]
    assert (out / "days.png").stat().st_size > 10_000


def test_mistakes_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_text(
        (Path(__file__).resolve().parent.parent / "scenarios" / "erlang-c-twin.yaml").read_text()
    )
    not_bank = tmp_path / "x.txt"
    not_bank.write_text("a,b\n1,2\n")
    cases = [
        (
            ["calibrate", str(not_bank), "--out", str(tmp_path / "s.yaml")],
            f"Error: {not_bank}: line 1 is not the Anonymous Bank header (vru+line, call_id, "
            "customer_id, priority, ...)",
        ),
        (
            ["calibrate", str(JANUARY), "--out", str(tmp_path / "s.yaml"), "--days", "friday,x"],
            "Error: --days: 'friday' is not a date YYYY-MM-DD, a range A..B, weekdays, friday, "
            "saturday or all",
        ),
        (
            ["calibrate", str(JANUARY), "--out", str(tmp_path / "s.yaml"), "--hours", "7-24"],
            "Error: --hours: '7-24' is not HH:MM-HH:MM (e.g. 07:00-24:00)",
        ),
        (
            ["compare", str(OCTOBER), str(plain), "--without", "talk"],
            "Error: --without: 'talk' is not one of pools, priorities, day_talk, "
            "availability_by_interval, patience_by_group, wrap_up, day_skills, handover, "
            "wrap_up_max, day_wrap_up",
        ),
        (
            ["compare", str(OCTOBER), str(plain)],
            "Error: the scenario has no calibration block: make it with callsim calibrate (it "
            "keeps the availability factor compare needs)",
        ),
    ]
    for argv, line in cases:
        code, _, err = run(capsys, *argv)
        assert (code, err.strip().splitlines()[-1]) == (2, line), argv


def _served(day: date, agent: str, t: str, k: int, talk: float = 120.0) -> LoggedCall:
    """The ``k``-th answered call of ``agent`` on ``day``, of type ``t``."""
    return LoggedCall(day, t, "", 8 * 3600 + 600.0 * k, 0.0, True, talk, agent)


def test_pools_and_skills_from_who_served_what() -> None:
    """Two desks, as the bank's October: agents a1-a3 take X and Y (a3 mostly X), b1-b2
    take only Z, a1 took Z twice (a few calls make no pool) and everyone a rare W now and
    then (nobody's own type: it joins the pool whose agents took most of it)."""
    day = date(2024, 1, 1)
    calls = []
    plan = {
        "a1": {"X": 60, "Y": 40, "Z": 2, "W": 1},
        "a2": {"X": 50, "Y": 50, "W": 1},
        "a3": {"X": 95, "Y": 1},
        "b1": {"Z": 80},
        "b2": {"Z": 70, "W": 1},
    }
    for agent, row in plan.items():
        k = 0
        for t, n in row.items():
            for _ in range(n):
                calls.append(_served(day, agent, t, k))
                k += 1
    pools = infer_pools(calls)
    assert pools.types == {"x": ["W", "X", "Y"], "z": ["Z"]}
    assert pools.agents == {"x": ["a1", "a2", "a3"], "z": ["b1", "b2"]}
    assert pools.of_type("W") == "x"
    # skills: what an agent took at least 2 % of and 5 times; W was nobody's skill, so
    # everyone who took it has it
    assert pools.skills == {
        "a1": ["W", "X", "Y"],
        "a2": ["W", "X", "Y"],
        "a3": ["X"],
        "b1": ["Z"],
        "b2": ["W", "Z"],
    }
    assert pools.groups == {"w_x_y": ["a1", "a2"], "z": ["b1"], "x": ["a3"], "w_z": ["b2"]}
    assert pools.outside_calls() == 2 + 1  # a1's two Z, b2's W
    assert {g: pools.of_group(g) for g in pools.groups} == {
        "w_x_y": "x",
        "x": "x",
        "z": "z",
        "w_z": "z",
    }
    one = one_pool(pools)
    assert one.types == {"calls": ["W", "X", "Y", "Z"]}
    assert set(one.groups["calls"]) == set(plan)


def _two_days() -> tuple[CallLog, list[date]]:
    """Two days of one type served by two agents; talk 60 s on the first, 300 s on the
    second; a third of the calls wait 30 s (priority 2 one day in two) and a few abandon."""
    days = [date(2024, 1, 1), date(2024, 1, 2)]
    calls = []
    for d, talk in zip(days, (60.0, 300.0), strict=True):
        for k in range(60):
            at = 9 * 3600 + 50.0 * k
            queued = k % 3 == 0
            if k % 10 == 9:
                calls.append(LoggedCall(d, "X", "", at, 40.0, False, 0.0, "", 1))
                continue
            calls.append(
                LoggedCall(
                    d, "X", "", at, 30.0 if queued else 0.0, True, talk, f"a{k % 2}",
                    2 if queued and k % 2 else 1,
                )
            )  # fmt: skip
    return CallLog("two-days", calls), days


def test_a_replay_gets_the_days_own_talk_and_priorities() -> None:
    log, days = _two_days()
    frame = Frame(480, 720, 30, 20)
    cal = calibrate(log, days, frame)
    sc = cal.average_day(0.9)
    assert sc.calibration is not None
    assert sc.queues[0].aging_per_s == pytest.approx(1 / 90, rel=1e-3)  # the 90 s credit
    assert sorted(sc.calibration.priorities) == [1, 2]
    means = []
    for d in range(2):
        day = day_scenario(sc, cal.observed, d, cal.pools)
        talk = {dist_mean(c.talk_s) for c in day.calls}
        assert len(talk) == 1
        means.append(talk.pop())
        assert sorted(c.priority or 0 for c in day.calls) == [1, 2]
    assert means == [pytest.approx(60), pytest.approx(300)]
    # without the day's talk, both days get January's (here: the two days') fit
    plain = [day_scenario(sc, cal.observed, d, cal.pools, Model(day_talk=False)) for d in range(2)]
    assert dist_mean(plain[0].calls[0].talk_s) == dist_mean(plain[1].calls[0].talk_s)
    # Erlang A is given the same day's talk: the second day, five times the work, waits more
    staff = np.full((frame.n, len(cal.observed.groups)), 2.0)
    obs, pools = cal.observed, cal.pools
    groups = [pools.of_group(g) for g in obs.groups]
    of_type = {t: pools.of_type(t) for t in obs.types}
    first, second = (
        _erlang(sc, obs.types, obs.arrivals[d], day_talk_means(sc, obs, d), staff, groups, of_type)
        for d in range(2)
    )
    assert np.nanmax(first["asa_s"]) < np.nanmax(second["asa_s"])
    without = Model.without("pools,day_talk")
    assert without.off == ["pools", "day_talk"]
    with pytest.raises(InputError, match="--without: 'talk' is not one of pools, "):
        Model.without("talk")


def test_after_call_work_from_the_gaps_before_waiting_calls() -> None:
    day = date(2024, 1, 1)
    calls = []
    for k in range(40):  # each call waited; the agent took it 6 s after the last ended
        start = 1000.0 + k * 106.0
        wait = 50.0 if k else 0.0
        calls.append(LoggedCall(day, "X", "", start - wait, wait, True, 100.0, "a"))
    fit = fit_wrap_up(calls)
    assert fit is not None
    assert (fit.gaps, fit.whole) == (39, 39)
    assert fit.median_s == pytest.approx(6.0)


def test_after_call_work_of_the_agents_who_came_back_late() -> None:
    """Agent b is back 60 s after each call while other callers wait all along: b's calls
    were never waiting when b's last ended (a took the waiting ones), yet b was not ready
    for 60 s. Where the queue emptied, b's time is only known to be longer (censored)."""
    day = date(2024, 1, 1)
    calls = [LoggedCall(day, "X", "", 0.0, 20_000.0, False, 0.0, "")]  # waits all along
    for k in range(40):
        start = 1000.0 + k * 160.0  # 100 s of talk, then 60 s not ready
        calls.append(LoggedCall(day, "X", "", start, 0.0, True, 100.0, "b"))
    fit = fit_wrap_up(calls)
    assert fit is not None
    assert (fit.gaps, fit.whole) == (39, 39)
    assert fit.median_s == pytest.approx(60.0)
    late = [
        LoggedCall(day, "X", "", 30_000.0 + k * 160.0, 0.0, True, 100.0, "b") for k in range(40)
    ]
    fit = fit_wrap_up([*calls, *late])  # nobody waits after 20,000 s: censored at 0
    assert fit is not None
    assert (fit.gaps, fit.whole) == (78, 39)  # the 6-hour gap between the two: time away
    assert fit.median_s == pytest.approx(60.0)


def test_availability_blocks_merge_light_hours() -> None:
    frame = Frame(420, 1440, 30, 20)
    log, days = _two_days()
    obs = observe(log, days, frame)
    obs.abandoned[:] = 0
    obs.abandoned[:, 4] = 60  # 09:00 and 15:00: the only abandonments, 120 each over the days
    obs.abandoned[:, 16] = 60
    # 07-09 had too few, so it joins 09-11; 11-13 and 13-15 join 15-17; the evening had
    # none, so it joins the block before it
    assert availability_blocks(obs, frame) == [list(range(8)), list(range(8, frame.n))]
    obs.abandoned[:] = 0
    assert availability_blocks(obs, frame) == [list(range(frame.n))]
