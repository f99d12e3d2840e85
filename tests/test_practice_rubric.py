"""A rubric file over the defaults: weights, compliance items and pass marks, per client;
the same for `practice grade`, the drill and the desk (a pushed card carries it); a bad
file is one line naming the file, the key, the value and what was expected (exit 2)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from callsim.core.practice import (
    CRITERIA,
    Rubric,
    expected_action,
    rubric_data,
    rubric_from,
    score_handling,
)
from callsim.practice import practice_set
from callsim.practice.rubric import load_rubric
from callsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "answering-service.yaml"
RUBRIC = """\
pass_mark: 0.9
criteria:
  greeting: {weight: 2, compliance: true}
  vip: {weight: 0}
clients:
  Nord Plumbing:
    pass_mark: 0.5
    criteria:
      recording: {compliance: false}
"""


def callsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "callsim", *args], capture_output=True,
                          text=True, cwd=ROOT, check=False, timeout=120)  # fmt: skip


def test_a_rubric_file_changes_the_defaults_per_client(tmp_path: Path) -> None:
    path = tmp_path / "rubric.yaml"
    path.write_text(RUBRIC)
    rubric = load_rubric(path)
    weights = {c.name: (c.weight, c.compliance) for c in rubric.criteria}
    assert weights["greeting"] == (2.0, True)
    assert weights["vip"] == (0.0, False)
    assert weights["treatment"] == (3.0, False)  # not named: the default
    nord = rubric.for_client("Nord Plumbing")
    assert nord.pass_mark == 0.5
    assert {c.name: c.compliance for c in nord.criteria}["recording"] is False
    assert {c.name: c.compliance for c in nord.criteria}["greeting"] is True  # inherited
    assert rubric.for_client("Fjord Dental Clinic").pass_mark == 0.9
    assert rubric_from(rubric_data(rubric)) == rubric
    assert Rubric().criteria == CRITERIA


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("criteria:\n  grreting: {weight: 2}\n", "criteria.grreting: unknown criterion 'grreting'"),
        ("pass_mark: 80\n", "pass_mark: 80 is not a fraction from 0 to 1"),
        ("criteria:\n  vip: {weight: -1}\n", "criteria.vip.weight: -1 is not a number >= 0"),
        ("clients:\n  Nord Plumbing: {criteria: {vip: {compliance: maybe}}}\n",
         "clients.Nord Plumbing.criteria.vip.compliance: 'maybe' is not true or false"),
    ],
)  # fmt: skip
def test_a_bad_rubric_file_is_one_line(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "rubric.yaml"
    path.write_text(text)
    run = callsim("practice", "rubric", str(path))
    assert run.returncode == 2
    assert run.stderr.strip().startswith(f"Error: --rubric: {path}: {says}"), run.stderr
    assert run.stderr.strip().count("\n") == 0  # one line, no traceback


def test_grade_and_desk_use_the_rubric(tmp_path: Path) -> None:
    path = tmp_path / "rubric.yaml"
    path.write_text(RUBRIC)
    cards = practice_set(load_scenario(SCENARIO), client="Fjord Dental Clinic", seed=2)["cards"]
    card = next(
        c for c in cards if c["expected"].get("note_fields") and expected_action(c) == "note"
    )
    cards_file = tmp_path / "cards.json"
    cards_file.write_text(json.dumps({"cards": cards}))
    answers = tmp_path / "answers.csv"
    with answers.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["trainee", "card", "greeting", "action", "forward_target", "callback_number"])
        w.writerow(["ana", card["id"], "Hello?", expected_action(card), "",
                    card["screen_pop"]["caller_number"]])  # fmt: skip
    plain = json.loads(callsim("practice", "grade", str(cards_file), str(answers), "--json").stdout)
    marked = callsim("practice", "grade", str(cards_file), str(answers), "--json", "--rubric",
                     str(path))  # fmt: skip
    assert marked.returncode == 0, marked.stderr
    strict = json.loads(marked.stdout)
    [before], [after] = plain["graded"], strict["graded"]
    assert before["passed"]  # only the greeting wrong (weight 1 of 6)
    assert after["parts"]["greeting"] == {**before["parts"]["greeting"], "weight": 2.0,
                                          "compliance": True}  # fmt: skip
    assert after["compliance_failed"] == ["greeting"]
    assert not after["passed"]
    # on the desk: the card pushed with --rubric carries it; the service grades by it
    handled = {"result": card["expected"]["result"], "employee": None,
               "note": f"{card['caller']['name']} called",
               "callback_number": card["screen_pop"]["caller_number"], "said": ["Hello?"]}  # fmt: skip
    assert score_handling(card, **handled)["passed"]
    carried = {**card, "rubric": rubric_data(load_rubric(path))}
    assert score_handling(carried, **handled)["compliance_failed"] == ["greeting"]


def test_practice_rubric_in_process(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from callsim.cli.app import main

    path = tmp_path / "rubric.yaml"
    path.write_text(RUBRIC)
    with pytest.raises(SystemExit) as exc:
        main(["practice", "rubric", str(path), "--json"])
    assert not exc.value.code
    shown = json.loads(capsys.readouterr().out)
    assert shown == rubric_data(load_rubric(path))
    assert shown["clients"]["Nord Plumbing"]["pass_mark"] == 0.5


@pytest.mark.slow
@pytest.mark.live
def test_a_pushed_card_with_a_bad_rubric_is_refused_before_it_rings(tmp_path: Path) -> None:
    from tests.live_server import clocked

    card = practice_set(load_scenario(SCENARIO), count=1, seed=1, client="Nord Plumbing")["cards"][
        0
    ]
    with clocked(SCENARIO, str(tmp_path / "rubric.db")) as s:
        trainer = s.key("trainer")
        body = {"ani": card["caller"]["number"], "dnis": card["dialled"],
                "practice": {"card": {**card, "rubric": {"pass_mark": 2}}}}  # fmt: skip
        r = s.call("POST", "/v1/calls", trainer, json=body)
        assert r.status_code == 422, r.text
        assert r.json()["message"].endswith("practice.card.rubric: pass_mark: 2 is not a "
                                            "fraction from 0 to 1")  # fmt: skip
        assert s.ok("GET", "/v1/calls") == []  # nothing placed
