"""``--format queue_log``: Asterisk's queue log as a call log. The reader's rules on
hand-written lines, and the round trip: a known scenario simulated with the core's
queue_log journal, calibrated from that log, recovers what it simulated."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from callsim.calibrate.log import read_log
from callsim.scenario import Scenario, load_scenario
from callsim.scenario.model import minutes
from callsim.sim.run import trace_replication
from tests.test_cli import run

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
KNOWN = SCENARIOS / "queue-log-roundtrip.yaml"
DAYS = 4
T0 = 1_767_600_000  # 2026-01-05 08:00:00 UTC


def test_queue_log_rules(tmp_path: Path) -> None:
    lines = [
        f"{T0}|NONE|NONE|ann|AGENTLOGIN",
        f"{T0 + 5}|1|sales|NONE|ENTERQUEUE||4790001",
        f"{T0 + 5}|1|sales|ann|CONNECT|0|x|2",
        f"{T0 + 65}|1|sales|ann|COMPLETECALLER|0|60|1",
        f"{T0 + 70}|2|sales|NONE|ENTERQUEUE||",
        f"{T0 + 100}|2|sales|NONE|ABANDON|1|1|30",
        f"{T0 + 110}|3|sales|NONE|ENTERQUEUE||",
        f"{T0 + 400}|3|sales|NONE|EXITWITHTIMEOUT|1|1|290",
        f"{T0 + 500}|NONE|NONE|ann|PAUSE|lunch",
        f"{T0 + 800}|NONE|NONE|ann|UNPAUSE",
        f"{T0 + 810}|4|support|NONE|ENTERQUEUE||",
        f"{T0 + 830}|4|support|ann|CONNECT|20|x|3",
        f"{T0 + 900}|4|support|ann|BLINDTRANSFER|100|ctx|20|70",
        f"{T0 + 910}|5|support|NONE|ENTERQUEUE||",
        "garbage",
        f"{T0 + 1000}|NONE|NONE|ann|AGENTLOGOFF",
    ]
    path = tmp_path / "queue_log"
    path.write_text("\n".join(lines) + "\n")
    log = read_log(path, "queue_log")
    day = date(2026, 1, 5)
    at = 8 * 3600.0
    got = [(c.day, c.type, c.caller, c.arrival_s - at, c.wait_s, c.answered, c.talk_s, c.agent) for c in log.calls]  # fmt: skip
    assert got == [
        (day, "sales", "4790001", 5.0, 0.0, True, 60.0, "ann"),
        (day, "sales", "", 70.0, 30.0, False, 0.0, ""),
        (day, "support", "", 810.0, 20.0, True, 70.0, "ann"),
    ]
    assert log.dropped == {"left by the queue's timeout": 1, "no outcome": 1, "broken row": 1}
    assert log.examples["broken row"] == [15]
    assert log.staffed == {(day, "ann"): [(at, at + 500), (at + 800, at + 1000)]}
    oslo = read_log(path, "queue_log", "Europe/Oslo")  # one hour ahead of UTC in January
    assert oslo.calls[0].arrival_s == at + 3600 + 5


def _known_days(tmp_path: Path) -> Path:
    """The known scenario simulated on ``DAYS`` days (replication 0 of seeds 1, 2, ...),
    their queue_log lines in one file."""
    data = load_scenario(KNOWN).model_dump(mode="json", exclude_unset=True)
    lines: list[str] = []
    for k in range(DAYS):
        data["answering"] = {"day": (date(2026, 1, 5) + timedelta(days=k)).isoformat()}
        lines += trace_replication(Scenario.model_validate(data), seed=k + 1).queue_log
    path = tmp_path / "queue_log"
    path.write_text("\n".join(lines) + "\n")
    return path


def _rate(stream: dict[str, object], a: str, b: str) -> float:
    """A stream's mean calls per hour from ``a`` to ``b`` (its profile's points)."""
    points = stream["profile"]  # type: ignore[index]
    got = [p["per_hour"] for p in points if minutes(a) <= minutes(p["at"]) < minutes(b)]  # type: ignore[index]
    return float(np.mean(got))


def test_queue_log_round_trip(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Tolerances: arrivals per window within 12 % (about three standard errors of a
    Poisson count over the days), talk means within 6 % and cvs within 15 %, the
    exponential patience within 35 % (about 100 abandonments a desk), staffing exact
    outside the minutes a shift or break starts or ends, availability 1."""
    log = _known_days(tmp_path)
    out = tmp_path / "cal.yaml"
    code, _, err = run(
        capsys, "calibrate", str(log), "--format", "queue_log", "--days", "all",
        "--hours", "08:00-16:00", "--out", str(out), "-n", "2", "--workers", "1",
        "--report", str(tmp_path / "report"), "--no-plots", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    sc = load_scenario(out)
    cal = sc.calibration
    assert cal is not None
    assert cal.types == ["sales", "support"]  # one stream each: no priorities in a queue_log
    assert cal.pools == {"sales": ["sales"], "support": ["support"]}
    assert cal.availability_factors == [1.0] * 16  # from the log's login and pause records
    streams = {c.queue: c.model_dump(mode="json") for c in sc.calls}
    sales, support = streams["sales"]["arrivals"], streams["support"]["arrivals"]
    for got, want in (
        (_rate(sales, "08:00", "10:00"), 80),
        (_rate(sales, "10:00", "14:00"), 110),
        (_rate(sales, "14:00", "16:00"), 80),
        (_rate(support, "08:00", "16:00"), 80),
    ):
        assert abs(got - want) / want < 0.12, (got, want)
    for queue, mean, cv in (("sales", 180, 0.8), ("support", 240, 0.6)):
        talk = streams[queue]["talk_s"]
        assert talk["dist"] == "lognormal"
        assert abs(talk["mean"] - mean) / mean < 0.06, (queue, talk)
        assert abs(talk["cv"] - cv) / cv < 0.15, (queue, talk)
    report = json.loads((tmp_path / "report" / "calibration.json").read_text())
    for queue, mean in (("sales", 120), ("support", 300)):
        fit = report["patience_by_group"][f"{queue} priority all"]
        assert fit["abandoned"] >= 60
        assert abs(fit["exponential_mean_s"] - mean) / mean < 0.35, (queue, fit)
    groups = {g.name: g for g in sc.agents}
    assert set(groups) == {"sales", "support"}
    on = {
        name: {p.at: p.count for p in g.on_duty or []} for name, g in groups.items()
    }  # agents at work per 5-minute slot, as the log's logins and pauses say
    assert (on["sales"]["08:30"], on["sales"]["10:00"]) == (6, 9)  # sales-c from 09:00
    assert (on["support"]["09:00"], on["support"]["10:30"]) == (6, 9)  # support-c from 10:00
    assert on["sales"]["12:10"] == 6  # sales-b on a break 12:00-12:30
    assert on["support"]["11:05"] == 6  # support-a on a break 11:00-11:20
    # 64.5 agent-hours of sales, 64.0 of support (shifts less breaks) over the 8 hours
    assert abs(np.mean(list(on["sales"].values())) - 64.5 / 8) < 0.15
    assert abs(np.mean(list(on["support"].values())) - 64.0 / 8) < 0.15


def test_a_wrong_time_zone_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_text(f"{T0}|1|sales|NONE|ENTERQUEUE||\n")
    code, _, err = run(
        capsys, "calibrate", str(path), "--format", "queue_log", "--time-zone", "Mars/Base",
        "--out", str(tmp_path / "s.yaml"),
    )  # fmt: skip
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        "Error: --time-zone: 'Mars/Base' is not a time zone (e.g. Europe/Oslo)"
    )
