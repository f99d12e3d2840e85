"""Indexes of idle agents, one per queue, so a routing decision never scans all agents.

- ``HeapPool``: agents ordered by a key fixed when they became idle (longest idle,
  fewest skills, least talk time, fewest calls, linear order), in a sorted list: O(1)
  add for keys that grow with time, O(log n) for others; agents that leave idle are
  dropped lazily when they surface.
- ``CyclicPool``: round robin with memory: the next idle agent after the last one
  offered, in position order. O(log n) search in a sorted list.
- ``ArrayPool``: unordered, for random, weighted random (rejection sampling, O(1)
  expected) and ring-all (every idle agent).

A pool holds an agent while ``agent.idle_token`` equals the token it was added with.
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Collection, Iterator
from itertools import islice
from typing import Any

from callsim.core.agent import Agent, AgentState

Key = Callable[[Agent], tuple[float, ...]]


def _valid(agent: Agent, token: int) -> bool:
    return agent.idle_token == token and agent.state is AgentState.READY


class Pool:
    """The interface the ACD uses; ``live`` counts the idle agents held."""

    __slots__ = ("live",)

    def __init__(self) -> None:
        self.live = 0

    def add(self, agent: Agent) -> None:
        raise NotImplementedError

    def discard(self, agent: Agent) -> None:
        """The agent left idle (called before its token changes)."""
        self.live -= 1

    def pick(self, exclude: Collection[str]) -> Agent | None:
        """The agent to offer to next, skipping names in ``exclude``; not removed."""
        raise NotImplementedError

    def members(self) -> list[Agent]:
        """Every idle agent held, best first (O(n): for ring-all)."""
        raise NotImplementedError

    def best(self, k: int, exclude: Collection[str]) -> list[Agent]:
        """The first ``k`` idle agents held, best first, skipping names in ``exclude``
        (for decision traces: O(k) here, not O(n))."""
        return list(islice((a for a in self._ordered() if a.name not in exclude), k))

    def _ordered(self) -> Iterator[Agent]:
        """The idle agents held, best first, lazily."""
        raise NotImplementedError

    def score(self, agent: Agent) -> tuple[float, ...]:
        """The agent's sort key (lower is offered first), for decision traces."""
        return ()


class HeapPool(Pool):
    """Entries are flat tuples ``(*key, seq, token, agent)`` (comparing a nested key
    tuple costs twice as much), kept in a sorted list (a sorted list is a heap: the best
    entry first). Keys that grow with time (an agent idle since now) are appended with
    one comparison, and the best is found from the front: a heap's push and pop compare
    a dozen tuples each, on every add and pick. The stale entries before the best are
    stepped over (``_head``), not deleted one by one (a memory move of the list each);
    a stale entry never becomes valid again (tokens only grow), and the compaction
    drops them with the others."""

    __slots__ = ("_head", "_heap", "_key", "_seq")

    def __init__(self, key: Key) -> None:
        super().__init__()
        self._heap: list[tuple[Any, ...]] = []
        self._head = 0  # entries before it are stale
        self._key = key
        self._seq = 0

    def add(self, agent: Agent) -> None:
        self.live += 1
        self._seq += 1
        # a concatenation, not (*key, ...): compiled, that builds a list first
        entry = self._key(agent) + (self._seq, agent.idle_token, agent)  # noqa: RUF005
        heap = self._heap
        if not heap or heap[-1] < entry:  # entries are unique (by seq): no tie
            heap.append(entry)
        else:
            insort(heap, entry, self._head)
        if len(heap) > 2 * self.live + 64:  # too many stale entries: compact (in order)
            if self._head:  # those stepped over first: one memory move
                del heap[: self._head]
                self._head = 0
            if len(heap) > 2 * self.live + 64:
                self._heap = [e for e in heap if _valid(e[-1], e[-2])]

    def pick(self, exclude: Collection[str]) -> Agent | None:
        heap = self._heap
        ready = AgentState.READY
        head = self._head
        n = len(heap)
        while head < n:
            top = heap[head]
            agent: Agent = top[-1]
            if agent.idle_token == top[-2] and agent.state is ready:
                break
            head += 1
        else:
            self._heap, self._head = [], 0  # all stale
            return None
        self._head = head
        if not exclude or agent.name not in exclude:
            return agent
        found = None
        i = head
        while i < len(heap):
            entry = heap[i]
            if not _valid(entry[-1], entry[-2]):
                del heap[i]
                continue
            if entry[-1].name not in exclude:
                found = entry[-1]
                break
            i += 1
        return found

    def members(self) -> list[Agent]:
        return list(self._ordered())

    def _ordered(self) -> Iterator[Agent]:
        return (e[-1] for e in self._heap[self._head :] if _valid(e[-1], e[-2]))

    def score(self, agent: Agent) -> tuple[float, ...]:
        return self._key(agent)


class CyclicPool(Pool):
    __slots__ = ("_agents", "_positions", "last")

    def __init__(self) -> None:
        super().__init__()
        self._positions: list[int] = []
        self._agents: dict[int, Agent] = {}
        self.last = -1  # position of the agent offered last (the memory)

    def add(self, agent: Agent) -> None:
        self.live += 1
        insort(self._positions, agent.position)
        self._agents[agent.position] = agent

    def discard(self, agent: Agent) -> None:
        self.live -= 1
        i = bisect_left(self._positions, agent.position)
        del self._positions[i]
        del self._agents[agent.position]

    def pick(self, exclude: Collection[str]) -> Agent | None:
        positions = self._positions
        n = len(positions)
        start = bisect_right(positions, self.last)
        for k in range(n):
            agent = self._agents[positions[(start + k) % n]]
            if agent.name not in exclude:
                self.last = agent.position
                return agent
        return None

    def members(self) -> list[Agent]:
        return list(self._ordered())

    def _ordered(self) -> Iterator[Agent]:
        positions = self._positions
        start = bisect_right(positions, self.last)
        for k in range(len(positions)):
            yield self._agents[positions[(start + k) % len(positions)]]

    def score(self, agent: Agent) -> tuple[float, ...]:
        # distance after the memory position, cyclically
        return ((agent.position - self.last - 1) % (1 << 62),)


class ArrayPool(Pool):
    __slots__ = ("_entries", "_max_weight", "_rng", "_weighted")

    def __init__(self, rng: random.Random, weighted: bool = False) -> None:
        super().__init__()
        self._entries: list[tuple[int, Agent]] = []
        self._rng = rng
        self._weighted = weighted
        self._max_weight = 0.0

    def add(self, agent: Agent) -> None:
        self.live += 1
        self._entries.append((agent.idle_token, agent))
        self._max_weight = max(self._max_weight, agent.weight)
        if len(self._entries) > 2 * self.live + 64:
            self._entries = [e for e in self._entries if _valid(e[1], e[0])]

    def _drop(self, i: int) -> None:
        entries = self._entries
        entries[i] = entries[-1]
        entries.pop()

    def pick(self, exclude: Collection[str]) -> Agent | None:
        if self.live <= 0:
            return None
        if exclude:  # during a hunt: choose among the untried agents explicitly
            pool = [a for a in self.members() if a.name not in exclude]
            if not pool:
                return None
            if self._weighted:
                return self._rng.choices(pool, weights=[a.weight for a in pool])[0]
            return self._rng.choice(pool)
        entries = self._entries
        rng = self._rng
        while True:
            i = int(rng.random() * len(entries))
            token, agent = entries[i]
            if not _valid(agent, token):
                self._drop(i)
                continue
            if not self._weighted or rng.random() * self._max_weight < agent.weight:
                return agent

    def members(self) -> list[Agent]:
        return list(self._ordered())

    def _ordered(self) -> Iterator[Agent]:  # no order: random strategies
        return (a for t, a in self._entries if _valid(a, t))

    def score(self, agent: Agent) -> tuple[float, ...]:
        return (-agent.weight,) if self._weighted else ()
