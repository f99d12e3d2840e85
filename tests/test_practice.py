"""Practice calls: the default set covers every branch; same seed, same bytes; the
expected handling is what the production inbound flow does with the same call; a policy
edit makes exactly the affected cards stale; handouts; one-line errors."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from callsim.core.client import ClientBook
from callsim.core.contact import ContactBook
from callsim.core.inbound import InboundFlow
from callsim.core.practice import Ask, caller_reply, expected_action
from callsim.practice import coverage, practice_set
from callsim.practice.audio import voice_of
from callsim.practice.grade import grade_one
from callsim.practice.handout import render
from callsim.scenario import load_scenario
from callsim.scenario.centre import clients
from tests.test_practice_drill import drill_in_a_terminal

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "answering-service.yaml"


def callsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "callsim", *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT, check=False)  # fmt: skip


def test_the_default_set_covers_every_branch_of_every_client() -> None:
    scenario = load_scenario(SCENARIO)
    found = practice_set(scenario)
    assert found["unreachable"] == []
    rows = coverage(scenario, found["cards"])
    assert len(rows) == len(scenario.clients)
    assert all(r["covered"] == r["branches"] and not r["missing"] for r in rows)
    kinds = {c["expected"]["result"] for c in found["cards"]}
    assert {"note", "forwarded_target_1", "forwarded_target_2", "forward_failed",
            "blocked"} <= kinds  # fmt: skip
    branches = {c["branch"] for c in found["cards"]}
    assert any(b.startswith("off hours") for b in branches)
    assert any(b.startswith("on a public holiday") for b in branches)
    assert any(b.startswith("exception ") for b in branches)
    assert any("asks for" in b for b in branches)
    assert any("FAQ" in b for b in branches)


def test_same_seed_same_bytes_and_another_seed_differs() -> None:
    scenario = load_scenario(SCENARIO)
    one = render(practice_set(scenario, count=40, seed=7, difficulty="hard"), "json")
    two = render(practice_set(load_scenario(SCENARIO), count=40, seed=7, difficulty="hard"), "json")
    assert one == two
    assert one != render(practice_set(scenario, count=40, seed=8, difficulty="hard"), "json")


def test_expected_handling_is_what_the_production_flow_does() -> None:
    """Each card replayed through a fresh InboundFlow (arrive, answer, treat), as the
    live service and the simulator run every call."""
    scenario = load_scenario(SCENARIO)
    book = ClientBook(clients(scenario))
    for card in practice_set(scenario, seed=3)["cards"]:
        at = datetime.fromisoformat(card["at"])
        flow = InboundFlow(book, ContactBook(), at)
        req = card["request"]
        inbound = flow.arrive(1, card["caller"]["number"], card["dialled"], 0.0,
                              advertising=bool(req.get("advertising")))  # fmt: skip
        if req.get("advertising"):
            assert inbound.result.value == card["expected"]["result"] == "blocked"
            continue
        instruction = flow.answer(inbound, "trainee", 0.0)
        result = flow.treat(inbound, employee=req.get("employee"), faq=req.get("faq") or (),
                            answered=card["forward_answers"])  # fmt: skip
        assert result.value == card["expected"]["result"], card["id"]
        assert instruction.in_hours == card["expected"]["in_hours"], card["id"]
        assert list(instruction.messages) == card["expected"]["messages"], card["id"]


def test_traps_and_difficulty() -> None:
    scenario = load_scenario(SCENARIO)
    easy = practice_set(scenario, count=60, seed=2, difficulty="easy")["cards"]
    hard = practice_set(scenario, count=60, seed=2, difficulty="hard")["cards"]
    assert not any(c["traps"] for c in easy)
    assert sum(len(c["traps"]) for c in hard) >= 2 * len(hard)
    own = [c for c in hard if any(t["trap"] == "callback_is_client_number" for t in c["traps"])]
    assert own
    for c in own:
        [trap] = [t for t in c["traps"] if t["trap"] == "callback_is_client_number"]
        assert "the client's own number; ask the caller for their number" in trap["explain"]
    closing = [c for c in hard if any(t["trap"] == "minute_before_closing" for t in c["traps"])]
    assert closing
    assert all(c["at"][14:16] in ("59", "29", "44", "14") and c["expected"]["in_hours"]
               for c in closing)  # fmt: skip
    new_number = [c for c in hard if c["caller"]["status"] == "known_new_number"]
    assert all(c["screen_pop"]["new_caller"] for c in new_number)  # only the number shows
    # no two traps contradict: a new number's pop marks no category, and a caller is
    # asked for a callback number only when a note is taken
    named = {c["id"]: {t["trap"] for t in c["traps"]} for c in hard}
    assert not any({"vip", "problem"} & named[c["id"]] for c in new_number)
    assert all(c["expected"]["note_fields"] for c in own)


def test_a_policy_edit_makes_exactly_its_cards_stale(tmp_path: Path) -> None:
    cards = tmp_path / "cards.json"
    made = callsim("practice", "generate", str(SCENARIO), "--seed", "5", "--out", str(cards))
    assert made.returncode == 0, made.stderr
    same = callsim("practice", "check", str(SCENARIO), str(cards))
    assert same.returncode == 0, same.stdout + same.stderr
    assert "0 of 173 cards are stale" in same.stdout
    text = SCENARIO.read_text()
    old = 'treatment: {kind: note, info: "Plumbing takes messages; we call you back within a working day."}'
    assert old in text
    edited = tmp_path / "edited.yaml"
    edited.write_text(
        text.replace(old, 'treatment: {kind: forward, targets: [{number: "+47 9900 00 09"}]}')
    )
    stale = callsim("practice", "check", str(edited), str(cards), "--json")
    assert stale.returncode == 1, stale.stderr
    found = json.loads(stale.stdout)
    assert found
    assert {s["client"] for s in found} == {"Nord Plumbing"}
    assert all(s["why"] == "the client's policy changed" for s in found)
    assert all("result" in s["changed"] for s in found)
    plumbing = json.loads(cards.read_text())["cards"]
    in_hours_messages = [c["id"] for c in plumbing if c["client"] == "Nord Plumbing"
                         and c["branch"].startswith("in hours: a message")]  # fmt: skip
    assert set(in_hours_messages) <= {s["id"] for s in found}


def test_handouts_group_by_client_and_escape(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIO)
    found = practice_set(scenario, client="Nord Plumbing", seed=1)
    md = render(found, "md")
    assert md.index("## Trainee sheet") < md.index("## Trainer's key")
    sheet = md[: md.index("## Trainer's key")]
    assert "Why:" not in sheet
    assert "Take a note" not in sheet
    assert md.count("### Nord Plumbing") == 2
    page = render(found, "html")
    assert page.startswith("<!doctype html>")
    assert "page-break-inside:avoid" in page
    assert "<script" not in page
    rows = render(found, "csv").splitlines()
    assert len(rows) == len(found["cards"]) + 1
    for fmt in ("md", "html", "csv", "json"):
        out = tmp_path / f"set.{fmt}"
        run = callsim("practice", "generate", str(SCENARIO), "--client", "Nord Plumbing",
                      "--format", fmt, "--out", str(out))  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert out.read_text() == render(found, fmt)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["generate", str(SCENARIO), "--difficulty", "extreme"],
            "--difficulty: 'extreme' is not one of easy, normal, hard",
        ),
        (["generate", str(SCENARIO), "--client", "Nobody"], "--client: no client 'Nobody'"),
        (["generate", str(SCENARIO), "--format", "pdf"], "--format: 'pdf' is not one of"),
        (["generate", str(SCENARIO), "--count", "0"], "--count: 0 is not from 1 to 10,000"),
        (["generate", str(ROOT / "scenarios" / "erlang-c-twin.yaml")], "no answering-service"),
        (["check", str(SCENARIO), str(SCENARIO)], "not JSON"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    run = callsim("practice", *args)
    assert run.returncode == 2, run.stderr
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr


def _answers_for(cards: list[dict], right: bool) -> list[dict[str, str]]:
    rows = []
    for c in cards:
        e = c["expected"]
        action = expected_action(c)
        rows.append({
            "card": c["id"],
            "greeting": f"{e['greeting']} {(e.get('recording') or {}).get('say', '')}".strip()
            if right else "Hello?",
            "action": action if right else ("note" if action != "note" else "forward"),
            "forward_target": e["forward"]["tried"][0] if e.get("forward") else "",
            "callback_number": c["screen_pop"]["caller_number"] if right else c["callback"],
        })  # fmt: skip
    return rows


def test_a_drill_in_a_pseudo_terminal_scores_and_explains() -> None:
    scenario = load_scenario(SCENARIO)
    cards = practice_set(scenario, count=3, seed=4, difficulty="hard")["cards"]
    typed = []
    for a, c in zip(_answers_for(cards, True), cards, strict=True):
        # the greeting, then two questions to the caller and an empty line (done)
        typed += [a["greeting"], "May I have your name?", "And your number?", "", a["action"]]
        if a["action"] == "forward":
            typed.append(a["forward_target"])
        if c["expected"]["note_fields"]:  # a note, or a forward nobody took
            typed.append(a["callback_number"])
    typed[0] = "Good morning"  # the first greeting without the client's name: one mistake
    shown = drill_in_a_terminal(["--count", "3", "--seed", "4", "--difficulty", "hard"], typed)
    text = re.sub(r"\x1b\[[0-9;]*m", "", shown)  # no colours
    flat = " ".join(text.replace("\r\n", "\n").split())
    assert "Call 1 of 3" in text
    assert cards[0]["says"][:40] in flat
    assert f'Caller: "{caller_reply(cards[0], Ask.NAME)}"' in flat  # the caller answers
    assert "wrong greeting (weight 1): Greet with the client's name" in flat
    assert "Your drill" in text
    said = {"said": ["May I have your name?", "And your number?"], "asked": ["name", "number"]}
    grades = [grade_one(c, {**a, **said}) for a, c in zip(_answers_for(cards, True), cards,
                                                          strict=True)]  # fmt: skip
    first = grade_one(
        cards[0], {**_answers_for(cards, True)[0], **said, "greeting": "Good morning"}
    )
    assert first["score"] < grades[0]["score"]
    total = (first["score"] + grades[1]["score"] + grades[2]["score"]) / 3
    assert f"Score: {100 * total:.0f}%" in text


def test_grading_a_class_from_a_csv(tmp_path: Path) -> None:
    cards_file = tmp_path / "cards.json"
    assert callsim("practice", "generate", str(SCENARIO), "--seed", "6", "--out",
                   str(cards_file)).returncode == 0  # fmt: skip
    cards = json.loads(cards_file.read_text())["cards"]
    rows = [{"trainee": "ana", **r} for r in _answers_for(cards, True)]
    rows += [{"trainee": "bo", **r} for r in _answers_for(cards, False)]
    answers = tmp_path / "answers.csv"
    with answers.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    run = callsim("practice", "grade", str(cards_file), str(answers), "--out",
                  str(tmp_path / "grades"), "--json")  # fmt: skip
    assert run.returncode == 0, run.stderr
    graded = json.loads(run.stdout)
    assert graded["trainees"]["ana"] == 1.0
    assert graded["trainees"]["bo"] < 0.5
    assert graded["answers"] == 2 * len(cards)
    bo = [g for g in graded["graded"] if g["trainee"] == "bo"]
    assert all(not g["parts"]["treatment"]["ok"] for g in bo)
    assert all(g["parts"]["treatment"]["why"].startswith("The handling is") for g in bo)
    trap = [g for g in bo if "callback_guard" in g["parts"]
            and any(t["trap"] == "callback_is_client_number" for t in
                    next(c for c in cards if c["id"] == g["card"])["traps"])]  # fmt: skip
    assert all("the client's own number" in g["parts"]["callback_guard"]["why"]
               for g in trap)  # fmt: skip
    for name in ("grades.csv", "grades.json", "scores.png"):
        assert (tmp_path / "grades" / name).stat().st_size > 0
    # a drill graded from a file: its own cards' answers
    drilled = practice_set(load_scenario(SCENARIO), count=3, seed=6)["cards"]
    mine = tmp_path / "mine.csv"
    with mine.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["card", "greeting", "action", "forward_target",
                                          "callback_number"])  # fmt: skip
        w.writeheader()
        w.writerows(_answers_for(drilled, True))
    ok = callsim("practice", "drill", str(SCENARIO), "--count", "3", "--seed", "6",
                 "--answers", str(mine))  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "100%" in ok.stdout
    assert "wrong" not in ok.stdout
    # the class's answers are the default set's ids, not this drill's
    ana = tmp_path / "ana.csv"
    ana.write_text("".join(line + "\n" for line in answers.read_text().splitlines()
                           if not line.startswith("bo,")))  # fmt: skip
    drill = callsim("practice", "drill", str(SCENARIO), "--count", "3", "--seed", "6",
                    "--answers", str(ana))  # fmt: skip
    assert drill.returncode == 2  # those cards are the default set's ids, not this drill's
    assert "no card" in drill.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("trainee,card,action\nbo,0001,shout\n")
    refused = callsim("practice", "grade", str(cards_file), str(bad))
    assert refused.returncode == 2
    assert "line 2: action 'shout' is not one of note, forward, reject" in refused.stderr


ESPEAK = shutil.which("espeak-ng")


@pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_audio_per_card_is_reproducible_byte_for_byte(tmp_path: Path) -> None:
    args = ["practice", "generate", str(SCENARIO), "--count", "4", "--seed", "9",
            "--difficulty", "hard", "--out", str(tmp_path / "set.json")]  # fmt: skip
    one = callsim(*args, "--audio", str(tmp_path / "one"))
    two = callsim(*args, "--audio", str(tmp_path / "two"))
    assert one.returncode == two.returncode == 0, one.stderr
    files = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert files == ["call-0001.wav", "call-0002.wav", "call-0003.wav", "call-0004.wav"]
    for name in files:
        data = (tmp_path / "one" / name).read_bytes()
        assert data[:4] == b"RIFF"
        assert data[8:12] == b"WAVE"
        assert len(data) > 50_000  # seconds of speech
        assert data == (tmp_path / "two" / name).read_bytes()
    cards = json.loads((tmp_path / "set.json").read_text())["cards"]
    assert len({voice_of(c) for c in cards}) > 1  # different callers sound different


def test_audio_without_espeak_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # python, no espeak-ng
    run = subprocess.run(
        [sys.executable, "-m", "callsim", "practice", "generate", str(SCENARIO), "--count", "1",
         "--out", str(tmp_path / "s.json"), "--audio", str(tmp_path / "wav")],
        capture_output=True, text=True, cwd=ROOT, env=env, check=False, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "--audio: espeak-ng is not installed (apt-get install espeak-ng)" in run.stderr


def say_it_right(s: Any, key: str, call_id: int, card: dict[str, Any]) -> None:
    """The trainee talks to the caller as the rubric wants: the greeting with the
    recording line the client asks for, the caller's name asked, a VIP named."""
    recording = card["expected"].get("recording") or {}
    greeting = f"{card['expected']['greeting']} {recording.get('say', '')}".strip()
    for line in (greeting, "May I have your name?", f"Thank you, {card['caller']['name']}."):
        s.ok("POST", f"/v1/calls/{call_id}/practice/say", key, json={"text": line})


@pytest.mark.slow
@pytest.mark.live
def test_practice_calls_pushed_to_a_live_desk_are_scored_by_the_service(tmp_path: Path) -> None:
    from tests.live_server import serving

    args = ["--count", "3", "--seed", "3", "--client", "Nord Plumbing", "--difficulty", "easy"]
    cards = practice_set(load_scenario(SCENARIO), count=3, seed=3, client="Nord Plumbing",
                         difficulty="easy")["cards"]  # fmt: skip
    with serving(SCENARIO, str(tmp_path / "practice.db"), speedup=10) as s:
        trainer = s.key("trainer")
        trainee = s.key("agent", agent="bilingual-1")
        s.ok("POST", "/v1/agents/bilingual-1/login", trainee)
        push = ["practice", "push", str(SCENARIO), "--host", s.url, "--key", trainer,
                "--agent", "bilingual-1", "--rate-per-min", "600", *args, "--json"]  # fmt: skip
        placed = callsim(*push)
        assert placed.returncode == 0, placed.stderr
        rows = json.loads(placed.stdout)
        assert [r["card"] for r in rows] == [c["id"] for c in cards]
        for k, (row, card) in enumerate(zip(rows, cards, strict=True)):
            if card["expected"]["result"] == "blocked":
                assert row["status"] == "blocked"  # never reaches the trainee
                continue
            offers = s.ok("GET", "/v1/agents/bilingual-1/offers", trainee, params={"wait_s": 10})
            assert offers[0]["call_id"] == row["call_id"]
            assert offers[0]["practice"] is True
            call = s.ok("POST", f"/v1/offers/{offers[0]['offer_id']}/accept", trainee)
            assert call["practice"]["card"]["id"] == card["id"]
            # the instruction is the card's: read at the card's date and time
            assert call["instruction"]["in_hours"] == card["expected"]["in_hours"]
            assert call["instruction"]["messages"] == card["expected"]["messages"]
            req = card["request"]
            right = k != 1  # the second call is handled without its callback number
            say_it_right(s, trainee, row["call_id"], card)
            body = {"note": f"{card['caller']['name']} wants a plumber", **({"employee": req["employee"]} if
                    req.get("employee") else {}), **({"faq": req["faq"]} if req.get("faq") else {})}  # fmt: skip
            if right:
                body["callback_number"] = card["screen_pop"]["caller_number"]
            s.ok("POST", f"/v1/calls/{row['call_id']}/complete", trainee, json=body)
            s.ok("POST", "/v1/agents/bilingual-1/ready", trainee)  # wrap-up ends now
        graded = callsim(*push[:-1], "--wait", "20", "--json")  # the same keys: the same calls
        assert graded.returncode == 0, graded.stderr
        views = json.loads(graded.stdout)
        assert [v["call_id"] for v in views] == [r["call_id"] for r in rows]
        for k, (view, card) in enumerate(zip(views, cards, strict=True)):
            if card["expected"]["result"] == "blocked":
                continue
            score = view["practice"]["score"]
            assert score["card"] == card["id"]
            assert score["parts"]["treatment"]["ok"], score
            if k == 1 and card["expected"]["note_fields"]:
                assert not score["parts"]["callback_guard"]["ok"]
                assert score["compliance_failed"] == ["callback_guard"]
                assert not score["passed"]
                assert score["score"] < 1
            else:
                assert score["score"] == 1.0, score
        events = s.call("GET", "/v1/events", params={"after": 0, "follow": "false"}).text
        assert "event: practice_scored" in events
