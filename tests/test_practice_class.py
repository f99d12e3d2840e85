"""A class over weeks: each trainee's graded calls per session (a calendar day), criterion
and client, the weakest branches and the next set by spaced repetition; from results
files (drills) and the service's stored desk calls; `practice report` writes CSV, JSON,
PNG and the next sets as cards; the trainer's page shows the class in Chromium."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from callsim.core.practice import expected_action
from callsim.practice import practice_set
from callsim.practice.progress import progress
from callsim.scenario import load_scenario
from tests.live_server import ROOT

SCENARIO = ROOT / "scenarios" / "answering-service.yaml"
DAY = 86_400.0
MONDAY = 1_796_000_000.0  # a calendar time (UTC) well inside a day


def _row(trainee: str, day: int, branch: str, passed: bool, **parts: bool) -> dict[str, Any]:
    return {"trainee": trainee, "at_unix": MONDAY + day * DAY, "client": "Nord Plumbing",
            "branch": branch, "score": 1.0 if passed else 0.5, "passed": passed,
            "parts": {k: {"ok": v} for k, v in parts.items()}}  # fmt: skip


def test_the_next_set_brings_back_what_was_wrong_and_later_what_was_right() -> None:
    rows = [
        _row("ana", 0, "off hours: note", False, greeting=True, callback_guard=False),
        _row("ana", 0, "in hours: a message: note", True, greeting=True, callback_guard=True),
        _row("bo", 0, "off hours: note", True, greeting=False),
    ]
    first = progress(rows)
    ana = first["trainees"]["ana"]
    assert [n["branch"] for n in ana["next"]] == ["off hours: note"]  # wrong: next session
    assert ana["next"][0]["why"] == "handled wrongly last time"
    assert ana["criteria"] == {"callback_guard": 0.5, "greeting": 1.0}
    assert ana["weakest"] == [{"branch": "Nord Plumbing: off hours: note", "score": 0.5}]
    assert first["trainees"]["bo"]["next"] == []  # passed: due after 2 sessions
    # a second session: ana gets it right; two sessions on, both passed branches are due
    rows += [_row("ana", 1, "off hours: note", True, greeting=True, callback_guard=True)]
    second = progress(rows)["trainees"]["ana"]
    assert [s["session"] for s in second["sessions"]] == ["2026-11-30", "2026-12-01"]
    assert [s["score"] for s in second["sessions"]] == [0.75, 1.0]
    assert [n["branch"] for n in second["next"]] == ["in hours: a message: note"]
    assert second["next"][0]["why"] == "passed 1 time(s) in a row: due again"


def callsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "callsim", *args], capture_output=True,
                          text=True, cwd=ROOT, check=False, timeout=300)  # fmt: skip


def test_practice_report_writes_the_class_from_drill_results(tmp_path: Path) -> None:
    cards = practice_set(load_scenario(SCENARIO), count=4, seed=6)["cards"]
    answers = tmp_path / "answers.csv"
    lines = ["trainee,card,greeting,action,forward_target,callback_number"]
    for c in cards:
        e = c["expected"]
        target = e["forward"]["tried"][0] if e.get("forward") else ""
        lines.append(f'ana,{c["id"]},"{e["greeting"]}",{expected_action(c)},"{target}",'
                     f'"{c["screen_pop"]["caller_number"]}"')  # fmt: skip
        lines.append(f'bo,{c["id"]},Hello?,note,,"{c["callback"]}"')
    answers.write_text("\n".join(lines) + "\n")
    results = tmp_path / "results.jsonl"
    drill = callsim("practice", "drill", str(SCENARIO), "--count", "4", "--seed", "6",
                    "--answers", str(answers), "--results", str(results))  # fmt: skip
    assert drill.returncode == 0, drill.stderr
    assert len(results.read_text().splitlines()) == 8
    out = tmp_path / "progress"
    run = callsim("practice", "report", str(results), "--out", str(out), "--scenario",
                  str(SCENARIO), "--json")  # fmt: skip
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    assert found["trainees"]["ana"]["score"] == 1.0
    assert found["trainees"]["bo"]["score"] < found["trainees"]["ana"]["score"]
    assert found["trainees"]["ana"]["next"] == []  # all passed just now
    bo_next = found["trainees"]["bo"]["next"]
    assert bo_next
    assert json.loads((out / "progress.json").read_text()) == found
    assert (
        (out / "progress.csv")
        .read_text()
        .startswith("trainee,session,calls,score,passed,criterion,share_right")
    )
    assert (out / "criteria.png").read_bytes()[:4] == b"\x89PNG"
    next_set = json.loads((out / "next-bo.json").read_text())["cards"]
    assert [(c["client"], c["branch"]) for c in next_set] == [
        (n["client"], n["branch"]) for n in bo_next
    ]
    table = callsim("practice", "report", str(results))
    assert table.returncode == 0, table.stderr
    assert "Trainees" in table.stdout
    assert all(len(line) <= 80 for line in table.stdout.splitlines())
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"trainee": "x"}\n')
    refused = callsim("practice", "report", str(bad))
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"Error: --results: {bad}: line 1: no 'at_unix' (expected the lines practice drill "
        "--results writes)"
    )


TRAINEES = ("english-desk-1", "english-desk-2", "english-desk-3")


def _handle(s: Any, who: str, key: str, card: dict[str, Any], slip: str) -> None:
    """The trainee takes the call alone: greets (with the recording line unless the slip
    is forgetting it), asks the caller's name and number, completes (with the caller's
    own number unless the slip is writing another)."""
    (offer,) = s.ok("GET", f"/v1/agents/{who}/offers", key, params={"wait_s": 5})
    call = s.ok("POST", f"/v1/offers/{offer['offer_id']}/accept", key)
    path = f"/v1/calls/{call['call_id']}/practice/say"
    recording = (
        "" if slip == "recording" else (card["expected"].get("recording") or {}).get("say", "")
    )
    for line in (f"{card['expected']['greeting']} {recording}", "Your name and number, please?"):
        s.ok("POST", path, key, json={"text": line})
    req = card["request"]
    body = {"note": f"{card['caller']['name']} called",
            "callback_number": "+4790000000" if slip == "number" else card["screen_pop"]["caller_number"],
            **({"employee": req["employee"]} if req.get("employee") else {}),
            **({"faq": req["faq"]} if req.get("faq") else {})}  # fmt: skip
    if not card["expected"]["note_fields"]:
        body.pop("callback_number")
    s.ok("POST", f"/v1/calls/{call['call_id']}/complete", key, json=body)
    s.ok("POST", f"/v1/agents/{who}/ready", key)


@pytest.mark.slow
@pytest.mark.live
def test_three_trainees_over_two_sessions_on_the_trainer_page(tmp_path: Path) -> None:
    from tests.live_server import clocked
    from tests.test_browser import CHROMIUM, DRIVER, fits, shot, wait_for

    if CHROMIUM is None or DRIVER is None:
        pytest.skip("Chromium or its driver is not installed")
    from selenium import webdriver
    from selenium.webdriver.common.by import By

    with clocked(SCENARIO, str(tmp_path / "class.db")) as s:
        trainer = s.key("trainer")
        keys = {who: s.key("agent", agent=who) for who in TRAINEES}
        for who, key in keys.items():
            s.ok("POST", f"/v1/agents/{who}/login", key)
        slips = {"english-desk-1": ("", ""), "english-desk-2": ("recording", "recording"),
                 "english-desk-3": ("number", "")}  # fmt: skip
        for session in (0, 1):
            args = ["--count", "2", "--seed", str(7 + session), "--client", "Nord Plumbing"]
            cards = practice_set(load_scenario(SCENARIO), count=2, seed=7 + session,
                                 client="Nord Plumbing")["cards"]  # fmt: skip
            for who, key in keys.items():
                pushed = callsim("practice", "push", str(SCENARIO), "--host", s.url, "--key",
                                 trainer, "--agent", who, "--rate-per-min", "600", *args,
                                 "--json")  # fmt: skip
                assert pushed.returncode == 0, pushed.stderr
                for card in cards:
                    if card["expected"]["result"] != "blocked":
                        _handle(s, who, key, card, slips[who][session])
            s.advance(DAY)  # the next session is the next day
        found = s.ok("GET", "/v1/practice/class", trainer)
        assert set(found["trainees"]) == set(TRAINEES)
        one, two, three = (found["trainees"][who] for who in TRAINEES)
        assert all(len(t["sessions"]) == 2 for t in (one, two, three))
        assert one["passed"] == one["calls"]
        assert two["criteria"]["recording"] == 0.0  # forgot it both times: failed calls
        assert two["passed"] == 0
        assert [x["criteria"]["callback_guard"] for x in three["sessions"]] == [0.0, 1.0]
        assert s.call("GET", "/v1/practice/class", keys["english-desk-1"]).status_code == 403

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    "--window-size=1280,1000", f"--user-data-dir={tmp_path / 'profile'}"):  # fmt: skip
            options.add_argument(arg)
        browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
        try:
            browser.get(f"{s.url}/trainer")
            browser.find_element(By.ID, "trainer-key").send_keys(trainer)
            browser.find_element(By.CSS_SELECTOR, "#signin-form button").click()
            wait_for(browser, "#summary", "3 trainees")
            rows = browser.find_elements(By.CSS_SELECTOR, "#class-criteria tbody tr")
            assert [r.find_element(By.TAG_NAME, "th").text for r in rows] == ["class", *TRAINEES]
            heads = [
                h.text
                for h in browser.find_elements(By.CSS_SELECTOR, "#class-criteria th[scope=col]")
            ]
            assert heads[1] == "recording announcement"  # the weakest criterion first
            two_card = browser.find_element(By.CSS_SELECTOR, "[data-trainee='english-desk-2']")
            assert len(two_card.find_elements(By.CSS_SELECTOR, "table")[0].find_elements(
                By.CSS_SELECTOR, "tbody tr")) == 2  # two sessions  # fmt: skip
            assert "Next set (spaced repetition)" in two_card.text
            assert "handled wrongly last time" in two_card.text
            shot(browser, tmp_path, "trainer-class")
            browser.set_window_size(390, 844)
            assert fits(browser)  # the wide tables scroll inside their cards
            shot(browser, tmp_path, "trainer-phone")
            assert not browser.find_element(By.ID, "alert").text
        finally:
            browser.quit()


def test_practice_report_in_process(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from callsim.cli.app import main

    results = tmp_path / "results.jsonl"
    rows = [_row("ana", 0, "off hours: note", False, greeting=True),
            _row("ana", 1, "off hours: note", True, greeting=True)]  # fmt: skip
    results.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(SystemExit) as exc:
        main(["practice", "report", str(results), "--json"])
    assert not exc.value.code
    ana = json.loads(capsys.readouterr().out)["trainees"]["ana"]
    assert [s["score"] for s in ana["sessions"]] == [0.5, 1.0]
    assert ana["next"] == []  # passed at the last session: due in 2
