"""A queue's live state: waiting calls by priority (FIFO within one), its idle-agent pool."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from callsim.core.config import QueueConfig
from callsim.core.pool import Pool
from callsim.core.strategy import Strategy

if TYPE_CHECKING:
    from callsim.core.call import Call


class QueueState:
    """Waiting calls live in one deque per priority as ``(call, token)``; an entry whose
    token no longer equals ``call.wait_token`` is stale and skipped (lazy deletion)."""

    __slots__ = (
        "config",
        "counts",
        "n_logged_in",
        "n_waiting",
        "name",
        "pool",
        "priorities",
        "skills",
        "strategy",
        "waiting",
    )

    def __init__(self, config: QueueConfig, strategy: Strategy, pool: Pool) -> None:
        self.config = config
        self.name = config.name
        self.skills = config.skills
        self.strategy = strategy
        self.pool = pool
        self.waiting: dict[int, deque[tuple[Call, int]]] = {}
        self.priorities: list[int] = []  # highest first
        self.counts: dict[int, int] = {}  # live waiting calls per priority
        self.n_waiting = 0
        self.n_logged_in = 0

    def push(self, call: Call, front: bool = False) -> int:
        """Add a waiting call; returns its 1-based position."""
        p = call.priority
        dq = self.waiting.get(p)
        if dq is None:
            dq = self.waiting[p] = deque()
            self.counts[p] = 0
            self.priorities = sorted(self.waiting, reverse=True)
        if front:
            dq.appendleft((call, call.wait_token))
        else:
            dq.append((call, call.wait_token))
        self.counts[p] += 1
        self.n_waiting += 1
        if front:
            return sum(c for q, c in self.counts.items() if q > p) + 1
        return sum(c for q, c in self.counts.items() if q >= p)

    def left(self, call: Call) -> None:
        """Bookkeeping when a waiting call leaves (its entry goes stale by token)."""
        self.counts[call.priority] -= 1
        self.n_waiting -= 1

    def head(self) -> Call | None:
        """The first live waiting call (highest priority, then first in)."""
        if not self.n_waiting:
            return None
        for p in self.priorities:
            dq = self.waiting[p]
            while dq:
                call, token = dq[0]
                if call.wait_token == token:
                    return call
                dq.popleft()
        return None

    def position(self, call: Call) -> int:
        """The call's current 1-based position (O(n): journal only)."""
        pos = 0
        for p in self.priorities:
            for c, token in self.waiting[p]:
                if c.wait_token == token:
                    pos += 1
                    if c is call:
                        return pos
        return pos
