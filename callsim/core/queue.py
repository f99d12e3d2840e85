"""A queue's live state: waiting calls in priority then entry order, and its idle pool."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from callsim.core.config import QueueConfig
from callsim.core.pool import Pool
from callsim.core.strategy import Strategy

if TYPE_CHECKING:
    from callsim.core.call import Call


class QueueState:
    """Waiting calls live in a heap of ``(-priority, entry, token, call)``. ``entry`` is
    the call's entry number into this queue, kept when the call waits again after a
    failed hunt, so it returns to its place. An entry whose token no longer equals
    ``call.wait_token`` is stale and skipped (lazy deletion)."""

    __slots__ = (
        "config",
        "counts",
        "heap",
        "last_entry",
        "n_logged_in",
        "n_waiting",
        "name",
        "pool",
        "skills",
        "strategy",
    )

    def __init__(self, config: QueueConfig, strategy: Strategy, pool: Pool) -> None:
        self.config = config
        self.name = config.name
        self.skills = config.skills
        self.strategy = strategy
        self.pool = pool
        self.heap: list[tuple[int, int, int, Call]] = []
        self.counts: dict[int, int] = {}  # live waiting calls per priority
        self.n_waiting = 0
        self.n_logged_in = 0
        self.last_entry = 0

    def push(self, call: Call, entry: int) -> int:
        """Add a waiting call with its entry number; returns its 1-based position."""
        p = call.priority
        heapq.heappush(self.heap, (-p, entry, call.wait_token, call))
        self.counts[p] = self.counts.get(p, 0) + 1
        self.n_waiting += 1
        if len(self.heap) > 2 * self.n_waiting + 64:  # many stale entries: compact
            self.heap = [e for e in self.heap if e[3].wait_token == e[2]]
            heapq.heapify(self.heap)
        if entry > self.last_entry:  # a new arrival: behind every call of its priority
            self.last_entry = entry
            return sum(c for q, c in self.counts.items() if q >= p)
        return self.position(call)  # a call back in its old place (rare)

    def left(self, call: Call) -> None:
        """Bookkeeping when a waiting call leaves (its entry goes stale by token)."""
        self.counts[call.priority] -= 1
        self.n_waiting -= 1

    def head(self) -> Call | None:
        """The first live waiting call (highest priority, then first in)."""
        heap = self.heap
        while heap:
            _, _, token, call = heap[0]
            if call.wait_token == token:
                return call
            heapq.heappop(heap)
        return None

    def position(self, call: Call) -> int:
        """The call's current 1-based position (O(n log n): journal and requeues only)."""
        live = sorted(e[:2] for e in self.heap if e[3].wait_token == e[2])
        for i, (_, entry) in enumerate(live, start=1):
            if entry == call.entries.get(self.name):
                return i
        return len(live)
