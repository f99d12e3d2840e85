"""Routing decisions per second with 10 to 10,000 agents over 20 skills.

Each round offers calls to the 20 single-skill queues in turn; the chosen agent answers
and finishes at once, so the pools stay full and every decision is made among up to
thousands of idle qualified agents. Run: ``pytest benchmarks --benchmark-only --benchmark-enable``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest

from benchmarks.conftest import best_s, timed
from callsim.core import (
    Acd,
    AcdConfig,
    AgentAnswered,
    AgentConfig,
    AgentLoggedIn,
    CallArrived,
    CallEnded,
    QueueConfig,
    Ring,
    RoutingConfig,
)

SKILLS = [f"skill{i:02d}" for i in range(20)]
DECISIONS = 4_000
STRATEGIES = ["longest_idle", "fewest_skills_first", "round_robin", "least_talk_time", "random"]


def centre(n_agents: int, strategy: str, seed: int = 1) -> Acd:
    rng = random.Random(seed)
    agents = tuple(
        AgentConfig(
            f"a{i}", dict.fromkeys(rng.sample(SKILLS, rng.randint(1, 4)), rng.randint(1, 5))
        )
        for i in range(n_agents)
    )
    # every skill covered at least once, so every queue has someone
    agents += tuple(AgentConfig(f"cover{s}", {s: 1}) for s in SKILLS)
    queues = tuple(QueueConfig(s, (s,)) for s in SKILLS)
    acd = Acd(AcdConfig(queues, agents, RoutingConfig(strategy=strategy)), random.Random(seed))
    for i, a in enumerate(agents):
        acd.handle(AgentLoggedIn(a.name), i * 0.001)
    return acd


def workload(acd: Acd) -> Callable[[], int]:
    state = {"call": 0, "now": 1_000.0}

    def run() -> int:
        handle = acd.handle
        call, now = state["call"], state["now"]
        for i in range(DECISIONS):
            call += 1
            now += 0.01
            out = handle(CallArrived(call, SKILLS[i % 20]), now)
            agent = out[0]
            assert isinstance(agent, Ring)
            handle(AgentAnswered(agent.agent, call), now)
            handle(CallEnded(call, wrap_up_s=0.0), now)
        acd.take_records()
        state["call"], state["now"] = call, now
        return DECISIONS

    return run


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("n_agents", [10, 100, 1_000, 10_000])
def test_routing_decisions_per_second(benchmark, n_agents: int, strategy: str) -> None:
    benchmark.group = f"routing: {strategy}"
    benchmark.extra_info["agents"] = n_agents
    run = workload(centre(n_agents, strategy))
    benchmark.pedantic(run, rounds=5, warmup_rounds=1)
    benchmark.extra_info["decisions_per_s"] = DECISIONS / best_s(benchmark)


def _best_seconds(run: Callable[[], int], repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_decision_cost_grows_at_most_logarithmically(benchmark, strategy: str) -> None:
    """Per-decision cost at 10,000 agents against a 100-agent baseline from this same run:
    log(10,000)/log(100) = 2, so the ratio must stay within 2 (plus timing slack)."""
    small = workload(centre(100, strategy))
    large = workload(centre(10_000, strategy))
    small()
    large()  # warm up
    base = _best_seconds(small)
    benchmark.group = "routing scaling 100 -> 10,000 agents"
    benchmark.pedantic(large, rounds=5, warmup_rounds=0)
    ratio = best_s(benchmark) / base
    benchmark.extra_info["cost_ratio_10000_vs_100"] = round(ratio, 3)
    if timed(benchmark):
        assert ratio <= 2.5, (
            f"{strategy}: cost per decision grew {ratio:.2f}x from 100 to 10,000 agents"
        )
