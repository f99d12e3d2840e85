"""A queue's live state: waiting calls in priority then entry order, and its idle pool."""

from __future__ import annotations

from bisect import bisect_left
from heapq import heapify, heappop, heappush
from typing import TYPE_CHECKING

from callsim.core.agent import STATES
from callsim.core.config import Channel, QueueConfig
from callsim.core.pool import Pool
from callsim.core.strategy import Strategy

if TYPE_CHECKING:
    from callsim.core.call import Call


class QueueState:
    """Waiting calls live in a heap of ``(rank, entry, token, call)``. ``entry`` is
    the call's entry number into this queue, kept when the call waits again after a
    failed hunt, so it returns to its place. An entry whose token no longer equals
    ``call.wait_token`` is stale and skipped (lazy deletion).

    ``rank`` orders by score, highest first: ``-priority``, or with aging (score =
    priority + k x seconds since the call first queued) ``k x queued_s - priority``, the
    same order at every moment, so the heap never needs re-sorting as calls wait.

    ``order`` holds the live waiting calls' ``(rank, entry)`` sorted, so a position
    is a binary search: a call put back in its place after a missed ring (a thousand at
    once when a thousand rings time out together) costs O(log n), not a sort of the
    queue. Inserting and deleting move the list's tail, a memmove even at 100,000.

    ``agents`` counts the agents qualified for the queue by state (indexed as
    ``agent.STATES``), kept as they change, so a wallboard reads them in O(1)."""

    __slots__ = (
        "agents",
        "aging",
        "chat",
        "config",
        "deferrable",
        "handle_s",
        "heap",
        "index",
        "n_logged_in",
        "n_waiting",
        "name",
        "order",
        "pool",
        "pushed",
        "skills",
        "strategy",
    )

    def __init__(self, config: QueueConfig, strategy: Strategy, pool: Pool) -> None:
        self.config = config
        self.name = config.name
        self.index = 0  # its place in the configuration's queues (``Acd.queue_names``)
        self.skills = config.skills
        self.strategy = strategy
        self.pool = pool
        self.aging = config.aging_per_s
        self.chat = config.channel is Channel.CHAT  # an agent may hold several
        self.deferrable = config.channel is Channel.EMAIL  # taken when nothing else waits
        self.pushed = config.channel is not Channel.VOICE  # connected at once, no ringing
        self.handle_s = config.handle_s  # running mean handling time (talk + wrap-up)
        self.heap: list[tuple[float, int, int, Call]] = []
        self.order: list[tuple[float, int]] = []  # live (rank, entry), sorted
        self.n_waiting = 0
        self.n_logged_in = 0
        self.agents = [0] * len(STATES)  # qualified agents by state, offline included

    def push(self, call: Call, entry: int) -> int:
        """Add a waiting call with its entry number; returns its 1-based position."""
        aging = self.aging  # self.rank(call), written out: once per waiting call
        rank = aging * call.queued_s - call.priority if aging else float(-call.priority)
        heappush(self.heap, (rank, entry, call.wait_token, call))
        self.n_waiting += 1
        if len(self.heap) > 2 * self.n_waiting + 64:  # many stale entries: compact
            self.heap = [e for e in self.heap if e[3].wait_token == e[2]]
            heapify(self.heap)
        key = (rank, entry)
        i = bisect_left(self.order, key)
        self.order.insert(i, key)
        return i + 1

    def left(self, call: Call) -> None:
        """Bookkeeping when a waiting call leaves (its entry goes stale by token)."""
        order = self.order
        aging = self.aging  # self.rank(call), written out: once per call leaving
        rank = aging * call.queued_s - call.priority if aging else float(-call.priority)
        key = (rank, call.entries[self.name])
        i = bisect_left(order, key)
        assert order[i] == key, f"call {call.id} is not waiting in {self.name}"
        del order[i]
        self.n_waiting -= 1

    def head(self) -> Call | None:
        """The first live waiting call (highest priority, then first in)."""
        heap = self.heap
        while heap:
            _, _, token, call = heap[0]
            if call.wait_token == token:
                return call
            heappop(heap)
        return None

    def position(self, call: Call) -> int:
        """The waiting call's current 1-based position (O(log n))."""
        return bisect_left(self.order, (self.rank(call), call.entries[self.name])) + 1

    def rank(self, call: Call) -> float:
        """The call's order key here (lower first); see the class."""
        if self.aging:
            return self.aging * call.queued_s - call.priority
        return float(-call.priority)

    def handled(self, handle_s: float) -> None:
        """A call of this queue was handled in ``handle_s`` (talk + wrap-up): the running
        mean moves a twentieth of the way (about the last twenty calls)."""
        if self.handle_s <= 0:
            self.handle_s = handle_s
        else:
            self.handle_s += (handle_s - self.handle_s) / 20

    def expected_wait(self, position: int) -> float:
        """The wait to announce at ``position``: position x mean handling time / agents
        logged in (exact in M/M/c with every agent busy and no abandonment)."""
        return position * self.handle_s / max(1, self.n_logged_in)

    def score(self, call: Call, now: float) -> float:
        """The call's priority now, aging included (compared across queues)."""
        return call.priority + self.aging * (now - call.queued_s)
