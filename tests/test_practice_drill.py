"""The terminal drill shows all of the caller's words, wrapped to the console's width:
the callback number (the main trap) is at their end."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from callsim.practice import practice_set
from callsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "answering-service.yaml"


def _inside(text: str) -> str:
    """The panel's text, its borders taken off and its lines joined."""
    lines = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", text).replace("\r", "").splitlines()
    return " ".join(" ".join(re.sub(r"^\s*│|│\s*$", "", line).split()) for line in lines)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def drill_in_a_terminal(args: list[str], typed: list[str], columns: str = "100") -> str:
    """``practice drill S *args`` in a pseudo-terminal, ``typed`` typed; what it showed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "callsim", "practice", "drill", str(SCENARIO), *args],
        stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env={**os.environ, "COLUMNS": columns},
    )  # fmt: skip
    os.close(slave)
    os.write(master, ("\n".join(typed) + "\n").encode())
    seen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    proc.wait(10)
    os.close(master)
    text = seen.decode(errors="replace")
    assert proc.returncode == 0, text[-2000:]
    return text


@pytest.mark.parametrize("width", [200, 100, 40])
def test_the_drill_panel_wraps_the_callers_words_and_never_cuts_them(width: int) -> None:
    from callsim.cli.practice import show_call

    cards = practice_set(load_scenario(SCENARIO), count=6, seed=3, difficulty="hard")["cards"]
    long = [c for c in cards if len(c["says"]) > 100]
    assert long  # words longer than any panel line
    for card in long:
        buffer = io.StringIO()
        console = Console(file=buffer, width=width, highlight=False, soft_wrap=True)  # as out()
        show_call(console, card, 1, 1)
        assert all(len(line) <= min(width, 100) for line in buffer.getvalue().splitlines())
        inside = _inside(buffer.getvalue())
        assert " ".join(f'"{card["says"]}"'.split()) in inside, (width, inside)
        assert _digits(card["callback"]) in _digits(inside)


@pytest.mark.parametrize("columns", ["200", "40"])
def test_a_drill_in_a_wide_or_narrow_terminal_shows_the_callback_number(columns: str) -> None:
    """``practice drill S --count 1 --seed 3 --difficulty hard`` in a pseudo-terminal."""
    [card] = practice_set(load_scenario(SCENARIO), count=1, seed=3, difficulty="hard")["cards"]
    typed = ["Hello", "", "reject"]  # no question; one wrong action ends the card
    text = drill_in_a_terminal(["--count", "1", "--seed", "3", "--difficulty", "hard"], typed,
                               columns)  # fmt: skip
    panel = text[: text.index("Your greeting")]
    assert " ".join(f'"{card["says"]}"'.split()) in _inside(panel), panel
    assert _digits(card["callback"]) in _digits(_inside(panel))


def test_the_drill_shows_the_instruction_and_answers_for_the_target_dialled() -> None:
    """Fjord Dental forwards to +47 9010 00 01, then 00 02; on this card target 1 takes it.
    A trainee who dials target 2 first hears target 2 not answer, never "target 1 takes
    the call", and is asked for the callback number of the note."""
    args = ["--count", "1", "--seed", "5", "--client", "Fjord Dental Clinic"]
    [card] = practice_set(load_scenario(SCENARIO), count=1, seed=5,
                          client="Fjord Dental Clinic")["cards"]  # fmt: skip
    assert card["forward_answers"] == {"+47 9010 00 01": True}
    typed = ["Hello Fjord Dental Clinic", "", "forward", "+47 9010 00 02", "+4790000000"]
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", drill_in_a_terminal(args, typed, "120"))
    assert "Instruction: forward to +47 9010 00 01, then +47 9010 00 02; if nobody takes it" in text
    assert "+47 9010 00 02 does not answer" in text
    assert "takes the call" not in text
    assert "Callback number" in text
    assert "wrong forward_order (weight 1): Target 1 is +47 9010 00 01" in text
    other = drill_in_a_terminal(
        args, ["Hello Fjord Dental Clinic", "", "forward", "+4712345678", "+4790000000"]
    )
    assert "+4712345678 is not a forward target of this call: nobody takes it" in other
    right = drill_in_a_terminal(args, ["Hello Fjord Dental Clinic", "", "forward", "+4790100001"])
    assert "+47 9010 00 01 takes the call" in right
    assert "Callback number" not in right


def test_an_employee_asked_for_is_shown_with_their_own_handling() -> None:
    from callsim.cli.practice import show_call

    cards = practice_set(load_scenario(SCENARIO), seed=3, client="Bergen Law Firm")["cards"]
    [card] = [c for c in cards if c["request"].get("employee") == "Kari Moen"][:1]
    buffer = io.StringIO()
    show_call(Console(file=buffer, width=200), card, 1, 1)
    assert "Employee Kari Moen (sales): forward to +47 40201 000" in buffer.getvalue()
