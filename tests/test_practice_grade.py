"""Grading answers as trainers save them: Excel's CSV UTF-8 (a byte-order mark),
semicolons, ``1`` for card ``0001``; answers taken on another card set are refused with
one line (exit 2), never scored."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from callsim.core.practice import expected_action
from callsim.practice import practice_set
from callsim.practice.cards import cards_hash
from callsim.practice.grade import grade_class, read_answers
from callsim.practice.handout import render
from callsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "answering-service.yaml"


def callsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "callsim", *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT, check=False)  # fmt: skip


def right(card: dict) -> dict[str, str]:
    e = card["expected"]
    return {"greeting": e["greeting"], "action": expected_action(card),
            "forward_target": e["forward"]["tried"][0] if e.get("forward") else "",
            "callback_number": card["screen_pop"]["caller_number"]}  # fmt: skip


def wrong(card: dict) -> dict[str, str]:
    return {"greeting": "Hello?", "action": "reject" if expected_action(card) != "reject"
            else "note", "forward_target": "", "callback_number": ""}  # fmt: skip


@pytest.fixture(scope="module")
def cards_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("set") / "cards.json"
    path.write_text(render(practice_set(load_scenario(SCENARIO), count=12, seed=6), "json"))
    return path


def answers(path: Path, cards: list[dict], *, encoding: str = "utf-8", delimiter: str = ",",
            short_ids: bool = False, set_hash: str | None = None) -> Path:  # fmt: skip
    with path.open("w", newline="", encoding=encoding) as f:
        head = ["trainee", "card", "greeting", "action", "forward_target", "callback_number"]
        w = csv.DictWriter(f, fieldnames=head + (["cards_hash"] if set_hash else []),
                           delimiter=delimiter)  # fmt: skip
        w.writeheader()
        for trainee, answer in (("ana", right), ("bo", wrong)):
            for c in cards:
                card = str(int(c["id"])) if short_ids else c["id"]
                w.writerow({"trainee": trainee, "card": card, **answer(c),
                            **({"cards_hash": set_hash} if set_hash else {})})  # fmt: skip
    return path


@pytest.mark.parametrize(
    ("encoding", "delimiter", "short_ids"),
    [
        ("utf-8-sig", ",", False),
        ("utf-8", ";", False),
        ("utf-8", ",", True),
        ("utf-8-sig", ";", True),
    ],
    ids=["excel-bom", "semicolons", "card-1-for-0001", "all-three"],
)
def test_answers_as_excel_saves_them_are_understood(
    tmp_path: Path, cards_file: Path, encoding: str, delimiter: str, short_ids: bool
) -> None:
    cards = json.loads(cards_file.read_text())["cards"]
    path = answers(tmp_path / "a.csv", cards, encoding=encoding, delimiter=delimiter,
                   short_ids=short_ids)  # fmt: skip
    run = callsim("practice", "grade", str(cards_file), str(path), "--json")
    assert run.returncode == 0, run.stderr
    graded = json.loads(run.stdout)
    assert graded["trainees"] == {"ana": 1.0, "bo": graded["trainees"]["bo"]}
    assert graded["trainees"]["bo"] < 0.5
    assert [g["card"] for g in graded["graded"][: len(cards)]] == [c["id"] for c in cards]


def test_answers_taken_on_another_set_are_refused(tmp_path: Path, cards_file: Path) -> None:
    mine = json.loads(cards_file.read_text())
    assert mine["cards_hash"] == cards_hash(mine["cards"])
    other = practice_set(load_scenario(SCENARIO), count=12, seed=7)
    assert [c["id"] for c in other["cards"]] == [c["id"] for c in mine["cards"]]  # same ids
    path = answers(tmp_path / "a.csv", other["cards"], set_hash=other["cards_hash"])
    run = callsim("practice", "grade", str(cards_file), str(path))
    assert run.returncode == 2, run.stdout
    assert run.stderr.strip() == (
        f"Error: --answers: {path}: line 2: the answers were taken on card set "
        f"'{other['cards_hash']}', not on this one ('{mine['cards_hash']}'): grade them "
        f"against the cards of set {other['cards_hash']}"
    )
    assert len(run.stderr.strip().splitlines()) == 1
    # the right set's answers, naming it, are graded; so are those of the drill's own set
    ok = answers(tmp_path / "b.csv", mine["cards"], set_hash=mine["cards_hash"])
    assert callsim("practice", "grade", str(cards_file), str(ok)).returncode == 0
    drilled = callsim("practice", "drill", str(SCENARIO), "--count", "12", "--seed", "6",
                      "--answers", str(ok))  # fmt: skip
    assert drilled.returncode == 0, drilled.stderr
    refused = callsim("practice", "drill", str(SCENARIO), "--count", "12", "--seed", "6",
                      "--answers", str(path))  # fmt: skip
    assert refused.returncode == 2
    assert "the answers were taken on card set" in refused.stderr


def test_the_answers_template_names_the_set_and_each_card(tmp_path: Path) -> None:
    found = practice_set(load_scenario(SCENARIO), count=5, seed=2)
    text = render(found, "answers")
    rows = read_answers(text, "template.csv")
    assert [r["card"] for r in rows] == [c["id"] for c in found["cards"]]
    assert {r["cards_hash"] for r in rows} == {found["cards_hash"]}
    assert f"card set `{found['cards_hash']}`" in render(found, "md")
    filled = [
        {**r, **right(c), "trainee": "ana"} for r, c in zip(rows, found["cards"], strict=True)
    ]
    assert grade_class(found["cards"], filled, "t.csv")["trainees"] == {"ana": 1.0}


def test_the_docs_examples_of_the_hash_are_what_the_commands_print() -> None:
    """docs/practice.md's answers template and mismatch line, as written."""
    page = (ROOT / "docs" / "practice.md").read_text()
    blocks = [b for b in page.split("```") if b.startswith("\n$ callsim practice")]
    template = next(b for b in blocks if "--format answers" in b).strip().splitlines()
    run = callsim(*template[0].split()[2:])
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == template[1:]
    mismatch = next(b for b in blocks if "practice grade" in b).strip().splitlines()
    seed5 = practice_set(load_scenario(SCENARIO), seed=5)["cards_hash"]
    seed6 = practice_set(load_scenario(SCENARIO), seed=6)["cards_hash"]
    assert mismatch[-1] == (
        "Error: --answers: answers-of-seed-6.csv: line 2: the answers were taken on card set "
        f"'{seed6}', not on this one ('{seed5}'): grade them against the cards of set {seed6}"
    )


def test_a_trainers_files_not_in_utf8_are_refused_in_one_line(
    tmp_path: Path, cards_file: Path
) -> None:
    """Answers and results saved in Latin-1 name the flag, the file, the line and the
    byte (errors.utf8_text, the one reader of a user's text file); a cards file that a
    Windows editor saved with a byte-order mark is read."""
    cards = json.loads(cards_file.read_text())["cards"]
    latin = answers(tmp_path / "a.csv", cards)
    latin.write_bytes(latin.read_bytes().replace(b"Hello?", b"Ol\xe1?"))
    line = latin.read_bytes()[: latin.read_bytes().index(b"\xe1")].count(b"\n") + 1
    run = callsim("practice", "grade", str(cards_file), str(latin))
    assert run.returncode == 2, run.stdout
    assert run.stderr.strip() == (f"Error: --answers: {latin}: line {line}: byte 0xe1 is not "
                                  "UTF-8 text (save the file as UTF-8)")  # fmt: skip
    results = tmp_path / "results.jsonl"
    results.write_bytes(b'{"trainee": "Jo\xe3o"}\n')
    run = callsim("practice", "report", str(results))
    assert run.returncode == 2, run.stdout
    assert run.stderr.strip().endswith(f"{results}: line 1: byte 0xe3 is not UTF-8 text "
                                       "(save the file as UTF-8)")  # fmt: skip
    assert len(run.stderr.strip().splitlines()) == 1
    bom = tmp_path / "cards-bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + cards_file.read_bytes())
    ok = answers(tmp_path / "b.csv", cards)
    run = callsim("practice", "grade", str(bom), str(ok), "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["trainees"]["ana"] == 1.0
