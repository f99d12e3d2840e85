"""The idle-agent pools of the ordered strategies (``core.pool.HeapPool``, a sorted list)
offer agents in exactly the order of their keys, whatever order the keys come in: each
pick, with and without agents to skip, and each listing is checked against a plain
minimum over the agents idle at that moment (the order a heap gave)."""

from __future__ import annotations

import random

import pytest

from callsim.core.agent import Agent, AgentState
from callsim.core.pool import HeapPool
from callsim.core.strategy import STRATEGIES

ORDERED = [name for name, s in STRATEGIES.items() if isinstance(s.make_pool(None, random.Random()), HeapPool)]  # fmt: skip


@pytest.mark.parametrize("strategy", ORDERED)
@pytest.mark.parametrize("seed", range(4))
def test_picks_follow_the_keys_in_any_order(strategy: str, seed: int) -> None:
    rng = random.Random(seed)
    pool = STRATEGIES[strategy].make_pool(None, rng)
    assert isinstance(pool, HeapPool)
    agents = [Agent(f"a{i}", {"s": 1} if i % 3 else {"s": 1, "t": 1}, i) for i in range(40)]
    added: dict[str, tuple[tuple[object, ...], int]] = {}  # name -> (key, seq) when added
    seq, now = 0, 0.0

    def idle() -> list[Agent]:  # the reference order: by key, then by when added
        ready = [a for a in agents if a.state is AgentState.READY]
        return sorted(ready, key=lambda a: added[a.name])

    for _ in range(3000):
        now += rng.choice([0.0, rng.random()])  # ties at one instant, too
        busy = [a for a in agents if a.state is not AgentState.READY]
        if busy and rng.random() < 0.5:  # an agent becomes idle
            agent = rng.choice(busy)
            agent.idle_since = now if rng.random() < 0.8 else now - rng.random()
            agent.talk_s_total = rng.choice([0.0, 10.0, 20.0])
            agent.calls_taken = rng.randrange(3)
            agent.idle_token += 1
            agent.state = AgentState.READY
            seq += 1
            added[agent.name] = (tuple(pool.score(agent)), seq)
            pool.add(agent)
            continue
        expected = idle()
        exclude = {a.name for a in expected if rng.random() < 0.3}
        picked = pool.pick(exclude)
        rest = [a for a in expected if a.name not in exclude]
        assert picked is (rest[0] if rest else None)
        assert pool.members() == expected
        assert pool.best(3, exclude) == rest[:3]
        if picked is not None:  # the agent picked leaves idle
            pool.discard(picked)
            picked.idle_token += 1
            picked.state = AgentState.RINGING
