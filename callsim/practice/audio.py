"""What each practice caller says, as speech: one WAV per card by espeak-ng (offline
text-to-speech from Debian's packages), the voice, pitch and speed following the
persona, so that trainees hear different callers; the same card gives the same bytes.
Phone numbers are spoken as a person says them, digit by digit in groups ("plus 4 7,
9 5 4, 3 1, 4 8 7"), never as one large number."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from callsim.core.practice import digit_groups
from callsim.errors import InputError

VOICES = ("en-gb", "en-us", "en-gb-scotland", "en-029")
VARIANTS = ("m1", "m3", "m7", "f2", "f3", "f4")
SPEED = {  # words per minute by how the caller speaks
    "plain": 165,
    "spells their name": 150,
    "gives the number in pieces": 140,
    "corrects themselves": 180,
}


# a phone number: digits with spaces or " ... " (a caller giving it in pieces) between
NUMBER = re.compile(r"\+?\d+(?:(?: \.\.\. | )\d+)*")
MIN_DIGITS = 5  # fewer digits are no phone number (a time, a count): read as written


def _spoken_number(match: re.Match[str]) -> str:
    text = match.group()
    if sum(ch.isdigit() for ch in text) < MIN_DIGITS:
        return text
    groups = digit_groups(text.replace(" ... ", " "))
    words = [("plus " if g.startswith("+") else "") + " ".join(g.lstrip("+")) for g in groups]
    return (" ... " if " ... " in text else ", ").join(words)


def spoken(text: str) -> str:
    """The text given to espeak-ng: ``text`` with each phone number digit by digit, in
    the groups a person says it in, a pause between groups."""
    return NUMBER.sub(_spoken_number, text)


def voice_of(card: dict[str, Any]) -> tuple[str, int, int]:
    """(espeak-ng voice+variant, words per minute, pitch 0-99) from the persona."""
    caller = card["caller"]
    h = hashlib.sha256(f"{caller['name']}|{caller['number']}".encode()).digest()
    voice = f"{VOICES[h[0] % len(VOICES)]}+{VARIANTS[h[1] % len(VARIANTS)]}"
    return voice, SPEED.get(caller["speech"], 165), 30 + h[2] % 40


def say(card: dict[str, Any], text: str) -> bytes:
    """A WAV of the card's caller saying ``text`` (their voice, speed and pitch)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise InputError(
            "espeak-ng is not installed (apt-get install espeak-ng); it speaks the callers",
            field="audio",
        )
    voice, speed, pitch = voice_of(card)
    ran = subprocess.run(
        [exe, "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", "--", spoken(text)],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    if ran.returncode != 0:
        problem = ran.stderr.decode(errors="replace").strip()
        raise InputError(f"espeak-ng failed on card {card['id']}: {problem}", field="audio")
    return ran.stdout


def speak(
    cards: Sequence[dict[str, Any]], folder: Path, done: Callable[[], None] | None = None
) -> list[Path]:
    """``folder/call-<id>.wav`` for each card: what the caller says (``done`` is called
    after each file)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {str(folder)!r} ({exc.strerror or exc})",
                         field="audio") from exc  # fmt: skip
    written = []
    for card in cards:
        path = folder / f"call-{card['id']}.wav"
        wav = say(card, card["says"])
        try:
            path.write_bytes(wav)
        except OSError as exc:
            raise InputError(f"cannot write {str(path)!r} ({exc.strerror or exc})",
                             field="audio") from exc  # fmt: skip
        written.append(path)
        if done is not None:
            done()
    return written
