"""A trainee's scored practice calls on the desk (``practice_results``): each call's
grade (the rubric's criteria, score, pass) and the conversation with the caller, kept
after wrap-up, for the trainee's history and the trainer's class view."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from callsim.store import tables
from callsim.store.db import Store


def row(
    call: int, agent: str, grade: Mapping[str, Any], lines: Sequence[Mapping[str, Any]],
    at_unix: float,
) -> dict[str, Any]:  # fmt: skip
    """The stored row of a scored practice call."""
    return {
        "id": call,
        "agent": agent,
        "client": grade["client"],
        "card": str(grade["card"]),
        "branch": grade["branch"],
        "score": grade["score"],
        "passed": grade["passed"],
        "grade": json.dumps({**grade, "lines": list(lines)}, ensure_ascii=False),
        "at_unix": at_unix,
    }


def results(store: Store, agent: str | None, after: int, limit: int) -> list[dict[str, Any]]:
    """Scored practice calls with call ids above ``after`` (of ``agent``, or all), by
    call id, at most ``limit``: each its call id and the stored grade."""
    r = tables.practice_results.c
    query = select(tables.practice_results).where(r.id > after).order_by(r.id).limit(limit)
    if agent is not None:
        query = query.where(r.agent == agent)
    return [
        {"call_id": x.id, "agent": x.agent, "at_unix": x.at_unix, **json.loads(x.grade)}
        for x in store.rows(query)
    ]
