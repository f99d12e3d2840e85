"""Scoring a trainee's handling of a practice call against its card's expected handling.

The live service routes a practice call like any other (dated by its card, ringing only
the trainee); when the trainee completes it, what they did (the employee they chose, the
result the core made of it, the note and its callback number) is compared here with the
card. Pure: the card is plain data (``callsim practice`` writes it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callsim.core.client import same_number

# what a card holds for the trainer: the handling expected, the traps, the branch of the
# policy it drills and the answers of the forward targets (the card's world)
ANSWER_KEY = ("branch", "expected", "traps", "forward_answers")


def trainee_card(card: Mapping[str, Any]) -> dict[str, Any]:
    """The card as the trainee may see it before the call is scored: no answer key."""
    return {k: v for k, v in card.items() if k not in ANSWER_KEY}


def score_handling(
    card: Mapping[str, Any],
    *,
    result: str,
    employee: str | None,
    note: str | None,
    callback_number: str | None,
) -> dict[str, Any]:
    """Each part of the handling the card asks for: ok, expected, given, and why when
    wrong; and the share right (``score``)."""
    expected = card["expected"]
    parts: dict[str, dict[str, Any]] = {}
    want = expected["result"]
    parts["handling"] = {"ok": result == want, "expected": want, "given": result}
    if result != want:
        parts["handling"]["why"] = expected.get("reason", "")
    asked = (card.get("request") or {}).get("employee")
    if asked:
        good = (employee or "").casefold() == asked.casefold()
        parts["employee"] = {"ok": good, "expected": asked, "given": employee or ""}
        if not good:
            parts["employee"]["why"] = f"The caller asked for {asked}."
    if expected.get("note_fields"):
        wrote = bool((note or "").strip())
        parts["note"] = {"ok": wrote, "expected": "a note", "given": "a note" if wrote else ""}
        if not wrote:
            parts["note"]["why"] = "This call ends in a note for the client."
        number = card["screen_pop"]["caller_number"]
        given = callback_number or ""
        good = same_number(given, number)
        parts["callback_number"] = {"ok": good, "expected": number, "given": given}
        if not good:
            parts["callback_number"]["why"] = f"The caller's number is {number}."
    score = sum(p["ok"] for p in parts.values()) / len(parts)
    return {"card": card.get("id"), "score": round(score, 4), "parts": parts}
