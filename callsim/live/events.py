"""The live service's event stream: events numbered as they are staged, published to the
subscribers once committed, and replayed after a given id (from memory, else stored).

A subscriber is a bounded queue: a reader who falls ``SUBSCRIBER_BUFFER`` events behind
(a client that stopped reading) is dropped, its queue ending with ``LAGGED``; its stream
closes and it resumes with ``Last-Event-ID``. Publishing never waits for a reader and never
fails: no reader holds the commit path or the others' streams."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from callsim.live.commit import Batch
from callsim.store.repository import Repository

EVENT_BUFFER = 100_000  # the stream's recent events kept in memory for resuming, at most,
EVENT_BUFFER_BYTES = 16 * 2**20  # and at most about this much text (older: from the store)
SUBSCRIBER_BUFFER = 10_000  # events a reader may lag behind before it is dropped
LAGGED = None  # the end of a dropped reader's queue

Inbox = asyncio.Queue[dict[str, Any] | None]


class EventStream:
    """Numbers, publishes and replays events; ``next_id`` is the first id to give."""

    def __init__(self, next_id: int) -> None:
        self._next_id = next_id
        self.recent: deque[dict[str, Any]] = deque()
        self._sizes: deque[int] = deque()  # each recent event's size, about
        self.recent_bytes = 0
        self._subscribers: list[Inbox] = []
        self.dropped = 0  # readers dropped for lagging, since the start

    def emit(self, batch: Batch, kind: str, at_s: float, **fields: Any) -> None:
        """Stage an event of ``kind`` at ``at_s`` in ``batch``."""
        event = {"id": self._next_id, "type": kind, "at_s": round(at_s, 3), **fields}
        self._next_id += 1
        batch.events.append(event)

    def publish(self, events: list[dict[str, Any]]) -> None:
        """Hand committed events to the subscribers (and keep them for resuming)."""
        recent, sizes = self.recent, self._sizes
        for event in events:
            size = _size(event)
            recent.append(event)
            sizes.append(size)
            self.recent_bytes += size
        while len(recent) > EVENT_BUFFER or self.recent_bytes > EVENT_BUFFER_BYTES:
            recent.popleft()
            self.recent_bytes -= sizes.popleft()
        for queue in list(self._subscribers):
            for event in events:
                try:
                    queue.put_nowait(event)
                except asyncio.QueueFull:
                    self._drop(queue)
                    break

    def _drop(self, queue: Inbox) -> None:
        """The reader is ``SUBSCRIBER_BUFFER`` events behind: its stream ends."""
        self._end(queue)
        self.dropped += 1

    def close(self) -> None:
        """The service stops: every stream ends now."""
        for queue in list(self._subscribers):
            self._end(queue)

    def _end(self, queue: Inbox) -> None:
        """End a reader's stream: what it has not taken goes (it resumes with
        Last-Event-ID after the last id it got), ``LAGGED`` is the last it reads."""
        self._subscribers.remove(queue)
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(LAGGED)

    def subscribe(self) -> Inbox:
        queue: Inbox = asyncio.Queue(maxsize=SUBSCRIBER_BUFFER)
        self._subscribers.append(queue)
        return queue

    def readers(self) -> int:
        return len(self._subscribers)

    def unsubscribe(self, queue: Inbox) -> None:
        if queue in self._subscribers:
            self._subscribers.remove(queue)

    def last_event_id(self) -> int:
        return self._next_id - 1

    def events_after(
        self, last_id: int, reader: Callable[[], Repository]
    ) -> Iterable[dict[str, Any]]:
        """Events after ``last_id``: from memory, or the database when older."""
        if self.recent and self.recent[0]["id"] <= last_id + 1:
            return [e for e in self.recent if e["id"] > last_id]
        return [json.loads(data) for data in reader().events_after(last_id)]


def _size(event: dict[str, Any]) -> int:
    """About the memory an event holds: its text (a note draft may be 10 KB) and a little
    for the rest."""
    return 100 + sum(len(v) for v in event.values() if isinstance(v, str))
