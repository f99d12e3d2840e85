"""Grading a trainee's handling of practice calls against each card's expected handling.

An answer gives, per card: the greeting the trainee said, the action (``note``,
``forward`` or ``reject``), the first forward target when forwarding, and the callback
number written in the note; optionally what else they said (``said``) and what they
asked the caller (``asked``). The rubric (``callsim.core.practice.grade``, the desk's
grading too) grades each criterion the card has and the answer shows, and explains each
mistake from the card's reason.

Answers come as CSV as people save it: comma-, semicolon- or tab-separated (the header
says which), with or without Excel's byte-order mark, card ``1`` for card ``0001``. A
row may name the set it was taken on (``cards_hash``, printed on the trainee sheet and
in the answers template); answers taken on another set are refused, never scored.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from callsim.core.client import same_number
from callsim.core.practice import Rubric, grade
from callsim.errors import InputError
from callsim.practice.cards import cards_hash

ACTIONS = ("note", "forward", "reject")
COLUMNS = ("trainee", "card", "greeting", "action", "forward_target", "callback_number")
OPTIONAL = ("cards_hash",)  # the set the answers were taken on (from the trainee sheet)
SAID = ("said", "asked")  # what else the trainee said, what they asked ("|" between)
HANDLING = ("greeting", "action", "forward_target", "callback_number")
DELIMITERS = (",", ";", "\t")
MAX_ROWS = 1_000_000


def forward_walk(card: Mapping[str, Any], first: str) -> list[tuple[str, bool]] | None:
    """What the card's world does when the trainee forwards to ``first``: each target
    dialled from ``first`` on, in the instruction's order, and whether it takes the call
    (as the card's ``forward_answers`` say; a target they do not name does not answer),
    up to the first that does. None when ``first`` is no forward target of the call."""
    targets = ((card["expected"].get("treatment") or {}).get("targets")) or []
    start = next((i for i, t in enumerate(targets) if same_number(first, t)), None)
    if start is None:
        return None
    walked = []
    for target in targets[start:]:
        took = bool(card["forward_answers"].get(target))
        walked.append((target, took))
        if took:
            break
    return walked


def handling_of(answer: Mapping[str, Any]) -> dict[str, Any]:
    """What an answer row (or the drill) shows of the handling, for the rubric: the
    greeting, action, forward target and callback number; what else the trainee said and
    what they asked the caller (``said``, ``asked``: lists, or text split at ``|``) when
    the answer has them."""
    out: dict[str, Any] = {k: answer.get(k) or "" for k in HANDLING}
    for k in ("said", "asked"):
        value = answer.get(k)
        if isinstance(value, str):
            value = [v.strip() for v in value.split("|") if v.strip()]
        if value is not None:
            out[k] = list(value)
    return out


def grade_one(
    card: Mapping[str, Any], answer: Mapping[str, Any], rubric: Rubric | None = None
) -> dict[str, Any]:
    """One card's grade by the rubric (``callsim.core.practice.grade``: the desk's too)."""
    return grade(card, handling_of(answer), rubric)


def _column(name: str) -> str:
    """A header cell as a column name: ``Callback number `` is ``callback_number``."""
    return "_".join(name.strip().casefold().split())


def card_key(card: str) -> str:
    """A card id as answers may write it: ``1``, ``01`` and ``0001`` are one card."""
    card = card.strip()
    return str(int(card)) if card.isascii() and card.isdigit() else card


def read_answers(text: str, where: str) -> list[dict[str, str]]:
    """Answer rows from CSV text with the columns of ``COLUMNS`` (trainee optional), and
    ``cards_hash`` when the sheet gave it; the delimiter is the header's."""
    header = text.split("\n", 1)[0]
    known = set(COLUMNS) | set(OPTIONAL) | set(SAID)
    delimiter = max(DELIMITERS, key=lambda d: sum(_column(h) in known for h in header.split(d)))
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    reader.fieldnames = [_column(f) for f in reader.fieldnames or []]
    missing = [c for c in ("card", "action") if c not in reader.fieldnames]
    if missing:
        got = ", ".join(reader.fieldnames) or "none"
        raise InputError(
            f"{where}: missing column {missing[0]!r} (columns: {', '.join(COLUMNS)}; got {got})",
            field="answers",
        )
    rows = []
    for i, row in enumerate(reader, start=2):
        if i > MAX_ROWS:
            raise InputError(f"{where}: more than {MAX_ROWS:,} rows", field="answers")
        action = (row.get("action") or "").strip().lower()
        if action and action not in ACTIONS:
            raise InputError(
                f"{where}: line {i}: action {action!r} is not one of {', '.join(ACTIONS)}",
                field="answers",
            )
        said = [k for k in SAID if k in reader.fieldnames]  # absent: not graded
        rows.append(
            {k: (row.get(k) or "").strip() for k in (*COLUMNS, *OPTIONAL, *said)} | {"line": str(i)}
        )
    return rows


def grade_class(
    cards: Iterable[Mapping[str, Any]],
    answers: list[dict[str, str]],
    where: str,
    rubric: Rubric | None = None,
) -> dict[str, Any]:
    """Every answer graded by ``rubric``; per trainee, client, branch kind and criterion
    the mean score (a criterion's: the share of the calls having it that got it right);
    and how many calls passed. Answers that name another set (``cards_hash``) are
    refused."""
    cards = list(cards)
    mine = cards_hash(cards)
    for a in answers:
        given = a.get("cards_hash", "")
        if given and given.casefold() != mine:
            raise InputError(
                f"{where}: line {a['line']}: the answers were taken on card set {given!r}, "
                f"not on this one ({mine!r}): grade them against the cards of set {given}",
                field="answers",
            )
    by_id = {card_key(c["id"]): c for c in cards}
    graded = []
    for a in answers:
        card = by_id.get(card_key(a["card"]))
        if card is None:
            raise InputError(f"{where}: line {a['line']}: no card {a['card']!r} in the set",
                             field="answers")  # fmt: skip
        graded.append({"trainee": a["trainee"] or "trainee", **grade_one(card, a, rubric)})

    return {
        "answers": len(graded),
        "score": mean_score(graded),
        "trainees": scores_by(graded, lambda g: g["trainee"]),
        "clients": scores_by(graded, lambda g: g["client"]),
        "branches": scores_by(graded, lambda g: branch_kind(g["branch"])),
        "criteria": criteria_scores(graded),
        "passed": sum(g["passed"] for g in graded),
        "graded": graded,
    }


def branch_kind(branch: str) -> str:
    """A branch's kind for the scores by policy branch: in hours (standard, employee,
    FAQ), off hours, holiday, exception, advertising; with the forward outcome."""
    head = branch.split(":", maxsplit=1)[0]
    if head == "in hours":
        what = branch.split(":")[1].strip()
        head = ("employee" if what.startswith("asks for") else
                "FAQ" if what.startswith("FAQ") else "in hours")  # fmt: skip
    tail = "forward" if ": forward:" in branch else "note"
    return head if head == "advertising" else f"{head}, {tail}"


def mean_score(graded: Sequence[Mapping[str, Any]]) -> float:
    """The mean score of graded calls (0 for none)."""
    return round(sum(g["score"] for g in graded) / len(graded), 4) if graded else 0.0


def scores_by(
    graded: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], str]
) -> dict[str, float]:
    """The mean score of the graded calls per ``key`` of each, by key."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for g in graded:
        groups.setdefault(key(g), []).append(g)
    return {k: mean_score(v) for k, v in sorted(groups.items())}


def criteria_scores(graded: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Per criterion, the share of the graded calls having it that got it right."""
    seen: dict[str, list[bool]] = {}
    for g in graded:
        for name, part in g["parts"].items():
            seen.setdefault(name, []).append(bool(part["ok"]))
    return {k: round(sum(v) / len(v), 4) for k, v in sorted(seen.items())}
