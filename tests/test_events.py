"""The live service's event stream on its own: bounded in memory by count and by size,
and a reader that falls behind is dropped, never blocking the publisher."""

from __future__ import annotations

import asyncio

from callsim.live import events as stream
from callsim.live.commit import Batch
from callsim.live.events import LAGGED, EventStream


def _published(es: EventStream, n: int, text: str) -> None:
    batch = Batch()
    for _ in range(n):
        es.emit(batch, "note_draft", 0.0, text=text)
    es.publish(batch.take().events)


def test_the_recent_events_are_bounded_by_their_text_too() -> None:
    """10 KB drafts: 3,000 of them (30 MB) keep about 16 MB in memory, the newest, in
    order (it kept 100,000 events whatever their size: 1 KB drafts took 350 MB)."""
    es = EventStream(next_id=1)
    _published(es, 3000, "x" * 10_000)
    ids = [e["id"] for e in es.recent]
    each = 100 + len("note_draft") + 10_000  # the text, and a little for the rest
    assert len(ids) == stream.EVENT_BUFFER_BYTES // each
    assert ids == list(range(3001 - len(ids), 3001))  # the newest, in order
    assert es.recent_bytes == len(ids) * each <= stream.EVENT_BUFFER_BYTES


def test_a_reader_behind_is_dropped_and_told_so() -> None:
    async def run() -> tuple[list[object], int]:
        es = EventStream(next_id=1)
        slow, quick = es.subscribe(), es.subscribe()
        got = []
        for _ in range(stream.SUBSCRIBER_BUFFER // 100 + 1):
            _published(es, 100, "")
            while not quick.empty():
                got.append(quick.get_nowait())
        return [slow.get_nowait(), slow.qsize()], len(got)

    (end, left), quick_got = asyncio.run(run())
    assert (end, left) == (LAGGED, 0)  # what it had not taken went; its stream ends
    assert quick_got == stream.SUBSCRIBER_BUFFER + 100  # the other reader got every event
