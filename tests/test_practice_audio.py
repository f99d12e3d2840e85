"""The text each practice caller's audio is made from: phone numbers digit by digit, in
the groups a person says them in, never one large number ("four billion ...")."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from callsim.practice import audio as audio_module
from callsim.practice import practice_set
from callsim.practice.audio import speak
from callsim.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "answering-service.yaml"


@pytest.mark.parametrize(
    ("number", "groups"),
    [
        ("+4795431487", ["+47", "954", "31", "487"]),  # a mobile as written on the pop
        ("+47 21 50 22 94", ["+47", "21", "50", "22", "94"]),  # as written
        ("+47 41405 000", ["+47", "41", "405", "000"]),  # five digits: 2 + 3
        ("+14155550123", ["+1", "415", "555", "01", "23"]),  # never one digit at the end
        ("+3531234567", ["+353", "123", "45", "67"]),
    ],
)
def test_a_phone_number_in_the_groups_a_person_says(number: str, groups: list[str]) -> None:
    from callsim.practice.cards import digit_groups

    assert digit_groups(number) == groups


def test_the_text_given_to_espeak_speaks_each_digit_of_the_callback_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cards = practice_set(load_scenario(SCENARIO), count=40, seed=9, difficulty="hard")["cards"]
    assert {c["caller"]["speech"] for c in cards} >= {"plain", "gives the number in pieces"}
    given: list[list[str]] = []

    def run(argv: list[str], **_: Any) -> subprocess.CompletedProcess[bytes]:
        given.append(argv)
        return subprocess.CompletedProcess(argv, 0, b"", b"")

    monkeypatch.setattr(audio_module.shutil, "which", lambda _: "/usr/bin/espeak-ng")
    monkeypatch.setattr(audio_module.subprocess, "run", run)
    speak(cards, tmp_path)
    assert len(given) == len(cards)
    for argv, card in zip(given, cards, strict=True):
        text = argv[-1]
        assert argv[-2] == "--"
        assert not re.search(r"\d\d", text), text  # no number of two digits or more
        digits = re.sub(r"\D", "", card["callback"])
        assert re.sub(r"\D", "", text).endswith(digits)  # every digit, in order
    plain = next(c for c in cards if re.search(r"\+47\d{8}\.$", c["says"]))
    number = plain["says"][-12:-1]
    [argv] = [a for a, c in zip(given, cards, strict=True) if c is plain]
    assert argv[-1].endswith(
        f"plus 4 7, {' '.join(number[3:6])}, {' '.join(number[6:8])}, {' '.join(number[8:])}."
    )


def test_other_numbers_are_read_as_written() -> None:
    from callsim.practice.audio import spoken

    assert spoken("Open 08:00-16:00, 12 calls.") == "Open 08:00-16:00, 12 calls."
    assert spoken("on +47 ... 954 ... 31 ... 487.") == "on plus 4 7 ... 9 5 4 ... 3 1 ... 4 8 7."
