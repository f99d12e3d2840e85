"""Practice calls: the default set covers every branch; same seed, same bytes; the
expected handling is what the production inbound flow does with the same call; a policy
edit makes exactly the affected cards stale; handouts; one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from callsim.core.client import ClientBook
from callsim.core.contact import ContactBook
from callsim.core.inbound import InboundFlow
from callsim.practice import coverage, practice_set
from callsim.practice.handout import render
from callsim.scenario import load_scenario
from callsim.scenario.centre import clients

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
        inbound = flow.arrive(1, card["caller"]["number"], card["dialed"], 0.0,
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
