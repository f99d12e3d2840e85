"""An agent's overlapping chats as one stretch of busy time (``chats_held_once``): what
the live statistics' occupancy counts, the union the per-channel table counts."""

from __future__ import annotations

from callsim.analytics.channels import chats_held_once, union
from callsim.core import CallRecord, Outcome


def contact(n: int, queue: str, agent: str, start: float, talk: float) -> CallRecord:
    return CallRecord(
        call=n, queue=queue, final_queue=queue, ani="", dnis="", priority=0, arrival_s=start,
        queued_s=start, offers=(), answer_s=start, end_s=start + talk,
        outcome=Outcome.ANSWERED, agent=agent, wait_s=0.0, ring_s=0.0, talk_s=talk,
        wrap_up_s=0.0, ended_by=None,
    )  # fmt: skip


def test_overlapping_chats_count_once_and_nothing_else_changes() -> None:
    records = [
        contact(0, "chat", "ann", 10.0, 30.0),  # inside ann's first chat
        contact(1, "chat", "ann", 0.0, 60.0),
        contact(2, "chat", "ann", 60.0, 20.0),  # starts as the first stretch ends: joined
        contact(3, "chat", "ann", 100.0, 30.0),  # a stretch of its own
        contact(4, "chat", "bob", 5.0, 15.0),  # another agent's
        contact(5, "phone", "ann", 200.0, 60.0),  # a call: not a chat
    ]
    held = chats_held_once(records, {"chat"})
    assert [r.talk_s for r in held] == [0.0, 80.0, 0.0, 30.0, 15.0, 60.0]
    assert [r._replace(talk_s=0.0) for r in held] == [r._replace(talk_s=0.0) for r in records]
    ann = [(r.arrival_s, r.end_s) for r in records[:4]]  # answered at once
    assert sum(r.talk_s for r in held[:4]) == sum(b - a for a, b in union(ann))
