"""A class over weeks: each trainee's graded practice calls (the desk's, stored by the
service; the drills', in results files) summed up per session (a calendar day, UTC), per
criterion and per client, their weakest branches, and the next set to practise, by spaced
repetition (Leitner boxes): a branch handled wrongly comes back at the next session, one
passed comes back after 2, 4, 8, then 16 sessions."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callsim.errors import InputError, utf8_text
from callsim.practice.grade import criteria_scores, mean_score, scores_by

INTERVALS = (1, 2, 4, 8, 16)  # sessions until a branch comes back, by its box (1 = new)
NEXT = 10  # branches in a trainee's next set, at most
WEAKEST = 5


def session_of(at_unix: float) -> str:
    """A result's session: the calendar day (UTC) it was graded on."""
    return datetime.fromtimestamp(at_unix, UTC).date().isoformat()


def _boxes(rows: Sequence[Mapping[str, Any]], sessions: list[str]) -> list[dict[str, Any]]:
    """Each (client, branch) of the trainee's calls in its Leitner box, with the session
    it is due at (an index into ``sessions``; ``len(sessions)``: the next one)."""
    boxes: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:  # oldest first
        k = sessions.index(session_of(r["at_unix"]))
        b = boxes.setdefault((r["client"], r["branch"]), {"box": 1})
        b["box"] = min(b["box"] + 1, len(INTERVALS)) if r["passed"] else 1
        b.update(client=r["client"], branch=r["branch"], seen=k, score=r["score"],
                 due=k + INTERVALS[b["box"] - 1])  # fmt: skip
    return list(boxes.values())


def _trainee(rows: list[Mapping[str, Any]], count: int) -> dict[str, Any]:
    sessions = sorted({session_of(r["at_unix"]) for r in rows})
    by_session = [
        {"session": day, "calls": len(mine), "score": mean_score(mine),
         "passed": sum(bool(r["passed"]) for r in mine), "criteria": criteria_scores(mine)}
        for day in sessions
        for mine in [[r for r in rows if session_of(r["at_unix"]) == day]]
    ]  # fmt: skip
    branches = scores_by(rows, lambda r: f"{r['client']}: {r['branch']}")
    weakest = [{"branch": k, "score": v} for k, v in sorted(branches.items(), key=lambda kv: kv[1])
               if v < 1][:WEAKEST]  # fmt: skip
    due = [b for b in _boxes(rows, sessions) if b["due"] <= len(sessions)]
    due.sort(key=lambda b: (b["box"], b["seen"], b["client"], b["branch"]))
    return {
        "calls": len(rows),
        "score": mean_score(rows),
        "passed": sum(bool(r["passed"]) for r in rows),
        "criteria": criteria_scores(rows),
        "clients": scores_by(rows, lambda r: r["client"]),
        "sessions": by_session,
        "weakest": weakest,
        "next": [_due(b) for b in due[:count]],
    }


def _due(b: Mapping[str, Any]) -> dict[str, Any]:
    why = ("handled wrongly last time" if b["box"] == 1
           else f"passed {b['box'] - 1} time(s) in a row: due again")  # fmt: skip
    return {"client": b["client"], "branch": b["branch"], "box": b["box"], "why": why}


def progress(results: Iterable[Mapping[str, Any]], *, count: int = NEXT) -> dict[str, Any]:
    """The class's progress from graded calls (each: trainee or agent, at_unix, client,
    branch, score, passed, parts): per trainee their sessions, criteria, clients,
    weakest branches and next set (``count`` branches at most); and the class's."""
    rows = sorted(results, key=lambda r: (r["at_unix"], str(r.get("card"))))
    trainees: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        trainees.setdefault(str(r.get("trainee") or r.get("agent") or "trainee"), []).append(r)
    return {
        "calls": len(rows),
        "score": mean_score(rows),
        "criteria": criteria_scores(rows),
        "clients": scores_by(rows, lambda r: r["client"]),
        "sessions": scores_by(rows, lambda r: session_of(r["at_unix"])),
        "trainees": {name: _trainee(mine, count) for name, mine in sorted(trainees.items())},
    }


FIELDS = ("at_unix", "client", "branch", "score", "passed", "parts")


def read_results(path: Path) -> list[dict[str, Any]]:
    """Graded calls from a results file (JSON lines, as ``practice drill --results``
    and ``practice grade --results`` append them); every problem one line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})", field="results") from exc
    text = utf8_text(raw, str(path), field="results")
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise InputError(f"{path}: line {i}: not JSON (expected one graded call a line)",
                             field="results") from None  # fmt: skip
        missing = [f for f in FIELDS if not isinstance(row, dict) or f not in row]
        if missing:
            raise InputError(f"{path}: line {i}: no {missing[0]!r} (expected the lines "
                             "practice drill --results writes)", field="results")  # fmt: skip
        out.append(row)
    return out


def append_results(path: Path, trainee: str, graded: Iterable[Mapping[str, Any]],
                   at_unix: float) -> None:  # fmt: skip
    """Append graded calls to a results file, one JSON line each, with the trainee
    and the time."""
    lines = [json.dumps({"trainee": g.get("trainee") or trainee, "at_unix": at_unix,
                         **{k: v for k, v in g.items() if k != "trainee"}},
                        ensure_ascii=False) for g in graded]  # fmt: skip
    try:
        with path.open("a", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in lines))
    except OSError as exc:
        raise InputError(f"cannot write {str(path)!r} ({exc.strerror or exc})",
                         field="results") from exc  # fmt: skip
