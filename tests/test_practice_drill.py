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
    typed = ["Hello", "reject"]  # one wrong action ends the card's questions
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "callsim", "practice", "drill", str(SCENARIO), "--count", "1",
         "--seed", "3", "--difficulty", "hard"],
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
    panel = text[: text.index("Your greeting")]
    assert " ".join(f'"{card["says"]}"'.split()) in _inside(panel), panel
    assert _digits(card["callback"]) in _digits(_inside(panel))
