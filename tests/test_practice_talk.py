"""A caller who talks and a rubric: the practice caller answers the trainee's questions
from the card (the same answers for the same card), the rubric grades weighted criteria
with a pass mark and compliance items that fail a call whatever its score, and the desk's
scored practice calls stay in the trainee's history after wrap-up."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from callsim.core.practice import Ask, Criterion, Rubric, asks_of, caller_reply, grade
from callsim.practice import practice_set
from callsim.scenario import load_scenario
from tests.live_server import ROOT, clocked

SCENARIO = ROOT / "scenarios" / "answering-service.yaml"


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _cards(**kw: Any) -> list[dict[str, Any]]:
    return list(practice_set(load_scenario(SCENARIO), **kw)["cards"])


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("Good morning, Nord Plumbing", []),
        ("May I have your name?", [Ask.NAME]),
        ("Could you spell that, please?", [Ask.SPELLING]),
        ("What number can we reach you on?", [Ask.NUMBER]),
        ("Who would you like to speak to?", [Ask.EMPLOYEE]),
        ("How can I help you?", [Ask.REQUEST]),
        ("Your name and phone number, please?", [Ask.NUMBER, Ask.NAME]),
    ],
)
def test_a_question_is_matched_to_what_it_asks(question: str, asks: list[Ask]) -> None:
    assert asks_of(question) == asks


def test_the_caller_answers_from_the_card_and_corrects_a_wrong_number_when_asked_again() -> None:
    cards = _cards(count=40, seed=9, difficulty="hard")
    trap = next(c for c in cards if any(t["trap"] == "callback_is_client_number"
                                        for t in c["traps"]))  # fmt: skip
    own = _digits(trap["screen_pop"]["caller_number"])
    first = _digits(caller_reply(trap, Ask.NUMBER))
    assert first == _digits(trap["callback"]) != own  # the client's own number
    assert own in _digits(caller_reply(trap, Ask.NUMBER, 1))  # asked again: their own
    name = trap["caller"]["name"]
    assert name in caller_reply(trap, Ask.NAME)
    surname = name.split()[-1]
    assert caller_reply(trap, Ask.SPELLING) == f"{surname}: {'-'.join(surname.upper())}."
    employee = next(c for c in cards if c["request"].get("employee"))
    assert employee["request"]["employee"] in caller_reply(employee, Ask.EMPLOYEE)
    assert "didn't catch" in caller_reply(employee, None)
    again = _cards(count=40, seed=9, difficulty="hard")  # deterministic for a seed
    assert [caller_reply(c, a) for c in again for a in Ask] == [
        caller_reply(c, a) for c in cards for a in Ask
    ]


def _right(card: dict[str, Any]) -> dict[str, Any]:
    e = card["expected"]
    say = (e.get("recording") or {}).get("say", "")
    return {
        "greeting": f"{e['greeting']} {say}",
        "said": [f"Thank you, {card['caller']['name']}."],
        "asked": ["name", "number"],
        "result": e["result"],
        "note": f"{card['caller']['name']} wants a plumber",
        "callback_number": card["screen_pop"]["caller_number"],
    }


def _card(client: str, branch: str) -> dict[str, Any]:
    return next(c for c in _cards(client=client, seed=1) if c["branch"] == branch)


def test_a_compliance_item_fails_the_call_whatever_the_score() -> None:
    card = _card("Nord Plumbing", "in hours: a message: note")  # records every call
    right = grade(card, _right(card))
    assert right["passed"], right
    assert right["score"] == 1.0
    assert set(right["parts"]) >= {"greeting", "treatment", "note_fields", "callback_guard",
                                   "recording"}  # fmt: skip
    assert right["parts"]["treatment"]["weight"] == 3.0
    # everything right but the recording announcement: a high score, and failed
    silent = grade(card, {**_right(card), "greeting": card["expected"]["greeting"]})
    assert silent["score"] >= silent["pass_mark"]
    assert silent["compliance_failed"] == ["recording"]
    assert not silent["passed"]
    assert "This call is recorded" in silent["parts"]["recording"]["why"]
    # a heavier treatment weight and a lower pass mark, for this client only
    lenient = Rubric(clients={"Nord Plumbing": Rubric(
        criteria=(Criterion("treatment", 5.0), Criterion("greeting", 1.0)), pass_mark=0.5)})  # fmt: skip
    wrong = grade(card, {**_right(card), "greeting": "Hello"}, lenient)
    assert list(wrong["parts"]) == ["treatment", "greeting"]
    assert wrong["score"] == round(5 / 6, 4)
    assert wrong["passed"]


def test_a_client_that_forbids_recording_fails_a_trainee_who_announces_one() -> None:
    card = next(c for c in _cards(client="Fjord Dental Clinic", seed=1)
                if c["expected"].get("note_fields"))  # fmt: skip
    assert card["expected"]["recording"]["mode"] == "none"
    said = {**_right(card), "greeting": f"{card['expected']['greeting']} This call is recorded."}
    graded = grade(card, said)
    assert graded["compliance_failed"] == ["recording"]
    assert "forbids recording" in graded["parts"]["recording"]["why"]
    assert grade(card, _right(card))["passed"]


def test_criteria_the_answer_does_not_show_are_not_graded() -> None:
    card = _card("Nord Plumbing", "in hours: a message: note")
    graded = grade(card, {"greeting": card["expected"]["greeting"], "action": "note",
                          "callback_number": card["screen_pop"]["caller_number"]})  # fmt: skip
    assert set(graded["parts"]) == {"greeting", "treatment", "callback_guard"}
    assert graded["passed"]


@pytest.mark.slow
@pytest.mark.live
def test_the_trainee_talks_to_the_caller_and_keeps_the_grade_after_wrap_up(
    tmp_path: Path,
) -> None:
    card = _card("Nord Plumbing", "in hours: a message: note")
    with clocked(SCENARIO, str(tmp_path / "talk.db")) as s:
        trainer, trainee = s.key("trainer"), s.key("agent", agent="english-desk-1")
        other = s.key("agent", agent="english-desk-2")
        s.ok("POST", "/v1/agents/english-desk-1/login", trainee)
        call = s.ok("POST", "/v1/calls", trainer, json={
            "ani": card["caller"]["number"], "dnis": card["dialled"],
            "practice": {"card": card, "agent": "english-desk-1"}})  # fmt: skip
        path = f"/v1/calls/{call['call_id']}/practice"
        (offer,) = s.ok("GET", "/v1/agents/english-desk-1/offers", trainee, params={"wait_s": 5})
        s.ok("POST", f"/v1/offers/{offer['offer_id']}/accept", trainee)
        [first] = s.ok("GET", f"{path}/lines", trainee)
        assert first == {"line": 0, "who": "caller", "text": card["says"], "ask": None}
        greeting = f"{card['expected']['greeting']} This call is recorded for quality and training."
        # "how may I help you?" asks what they want: the caller says it
        said = s.ok("POST", f"{path}/say", trainee, json={"text": greeting})
        assert [x["text"] for x in said] == [greeting, caller_reply(card, Ask.REQUEST)]
        new = s.ok("POST", f"{path}/say", trainee, json={"text": "And your name, please?"})
        assert new[1] == {"line": 4, "who": "caller", "text": caller_reply(card, Ask.NAME),
                          "ask": "name"}  # fmt: skip
        assert s.call("POST", f"{path}/say", other, json={"text": "hi"}).status_code == 403
        if shutil.which("espeak-ng"):
            wav = s.call("GET", f"{path}/audio", trainee, params={"line": 4})
            assert wav.status_code == 200
            assert wav.content[:4] == b"RIFF"
            assert wav.headers["content-type"] == "audio/wav"
        not_caller = s.call("GET", f"{path}/audio", trainee, params={"line": 3})
        assert not_caller.status_code == 409
        done = s.ok("POST", f"/v1/calls/{call['call_id']}/complete", trainee, json={
            "note": f"{card['caller']['name']}: please call back",
            "callback_number": card["callback"]})  # fmt: skip
        assert done["practice"]["score"]["passed"], done["practice"]["score"]
        s.advance(600)  # wrap-up over
        assert s.call("GET", f"{path}/lines", trainee).status_code == 409  # the call is over
        [kept] = s.ok("GET", "/v1/practice/results", trainee)
        assert kept["call_id"] == call["call_id"]
        assert kept["agent"] == "english-desk-1"
        assert kept["parts"] == done["practice"]["score"]["parts"]
        assert [x["who"] for x in kept["lines"]] == [
            "caller",
            "trainee",
            "caller",
            "trainee",
            "caller",
        ]
        assert s.ok("GET", "/v1/practice/results", other) == []  # another trainee's: none
        assert len(s.ok("GET", "/v1/practice/results", trainer)) == 1
