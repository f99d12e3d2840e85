"""Cards say what the client's recording policy asks of the agent; hard mode's
callback-number trap is a seeded share of the note cards, not every one; coverage lists
every missing branch whole and has a JSON form."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from callsim.practice import coverage, practice_set
from callsim.practice.handout import render
from callsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "answering-service.yaml"
ANNOUNCEMENT = "This call is recorded for quality and training."  # Nord Plumbing's


def callsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "callsim", *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT, check=False)  # fmt: skip


def test_cards_say_the_recording_announcement_or_the_ban() -> None:
    from callsim.cli.practice import show_call

    scenario = load_scenario(SCENARIO)
    recorded = practice_set(scenario, client="Nord Plumbing", seed=1)
    banned = practice_set(scenario, client="Fjord Dental Clinic", seed=1)  # mode: none
    for card in recorded["cards"]:
        if card["expected"]["result"] == "blocked":  # never reaches an agent
            assert card["expected"]["recording"] is None
            continue
        assert card["expected"]["recording"]["mode"] == "all"
        assert card["expected"]["recording"]["say"] == ANNOUNCEMENT
        assert card["screen_pop"]["recording"] == "all"
    for card in banned["cards"]:
        assert card["expected"]["recording"]["mode"] == "none"
        assert "forbids recording" in card["expected"]["recording"]["explain"]
    md = render(recorded, "md")
    key = md[md.index("## Trainer's key") :]
    assert f'- Recording: say "{ANNOUNCEMENT}"' in key
    sheet = md[: md.index("## Trainer's key")]
    assert f'Recorded: say "{ANNOUNCEMENT}"' in sheet  # the recording line, as the desk
    times = re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d( \(UTC[+-]\d\d:\d\d\))?", sheet)
    assert times
    assert all(times), times  # every time with its zone
    assert "Instruction: take a note" in sheet or "Instruction: forward to" in sheet
    assert "Recording: Fjord Dental Clinic forbids recording" in render(banned, "md")
    assert "forbids recording" in render(banned, "html")
    assert "Recording forbidden: do not announce one." in render(banned, "md")
    for found, shown in ((recorded, ANNOUNCEMENT), (banned, "forbidden by the client")):
        buffer = io.StringIO()
        show_call(Console(file=buffer, width=200), found["cards"][0], 1, 1)
        assert shown in buffer.getvalue()


def test_hard_mode_puts_the_callback_trap_on_a_seeded_share_of_note_cards() -> None:
    scenario = load_scenario(SCENARIO)
    chosen = []
    for seed in (1, 2):
        cards = practice_set(scenario, seed=seed, difficulty="hard")["cards"]
        notes = [c for c in cards if c["expected"]["note_fields"]]
        trap = {c["id"] for c in notes
                if any(t["trap"] == "callback_is_client_number" for t in c["traps"])}  # fmt: skip
        assert 0.4 <= len(trap) / len(notes) <= 0.8, (len(trap), len(notes))
        chosen.append(trap)
        again = practice_set(scenario, seed=seed, difficulty="hard")["cards"]
        assert again == cards  # the share is drawn from the seed
    assert chosen[0] != chosen[1]


def test_coverage_lists_every_missing_branch_whole_and_as_json(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIO)
    cards_file = tmp_path / "set.json"
    made = callsim("practice", "generate", str(SCENARIO), "--count", "20", "--seed", "4",
                   "--out", str(cards_file), "--coverage")  # fmt: skip
    assert made.returncode == 0, made.stderr
    rows = coverage(scenario, json.loads(cards_file.read_text())["cards"])
    missing = [(r["client"], m) for r in rows for m in r["missing"]]
    assert any(len(m) > 60 for _, m in missing)
    for name, branch in missing:
        assert f"  {name}: {branch}\n" in made.stdout
    run = callsim("practice", "coverage", str(SCENARIO), str(cards_file), "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == rows
    one = callsim("practice", "coverage", str(SCENARIO), str(cards_file), "--json", "--client",
                  "Nord Plumbing")  # fmt: skip
    assert json.loads(one.stdout) == [r for r in rows if r["client"] == "Nord Plumbing"]


def test_a_card_of_a_client_set_is_the_same_card_as_in_the_full_set() -> None:
    scenario = load_scenario(SCENARIO)
    for difficulty in ("normal", "hard"):
        full = practice_set(scenario, seed=3, difficulty=difficulty)["cards"]
        one = practice_set(scenario, seed=3, difficulty=difficulty, client="Bergen Law Firm")
        mine = [c for c in full if c["client"] == "Bergen Law Firm"]
        assert len(one["cards"]) == len(mine) > 1

        def same(card: dict) -> dict:
            return {k: v for k, v in card.items() if k != "id"}

        assert [same(c) for c in one["cards"]] == [same(c) for c in mine]
        drawn = practice_set(scenario, count=5, seed=3, difficulty=difficulty,
                             client="Bergen Law Firm")["cards"]  # fmt: skip
        by_branch = {c["branch"]: same(c) for c in mine}
        first = {}
        for c in drawn:
            first.setdefault(c["branch"], same(c))
        assert all(first[b] == by_branch[b] for b in first)  # each branch's first card


def test_a_blocked_advert_carries_no_trap() -> None:
    scenario = load_scenario(SCENARIO)
    cards = practice_set(scenario, seed=1, difficulty="hard")["cards"]
    adverts = [c for c in cards if c["expected"]["result"] == "blocked"]
    assert adverts
    assert all(c["traps"] == [] for c in adverts)
    assert all(c["caller"]["category"] == "regular" for c in adverts)
