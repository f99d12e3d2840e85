"""Routing strategies: each a registered snake_case name and the idle-agent pool it uses.

Every strategy ranks the idle agents qualified for a queue; the ACD offers the call to
the first one not yet tried in the current hunt. With ``use_proficiency`` the agents'
lowest proficiency in the queue's skills ranks first (highest level first).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from callsim.core.agent import Agent
from callsim.core.pool import ArrayPool, CyclicPool, HeapPool, Key, Pool


@dataclass(frozen=True, slots=True)
class Strategy:
    name: str
    rule: str  # one line for docs, --help and decision traces
    make_pool: Callable[[Key | None, random.Random], Pool]
    rings_all: bool = False


def _heap(key: Key) -> Callable[[Key | None, random.Random], Pool]:
    def make(prefix: Key | None, rng: random.Random) -> Pool:
        if prefix is None:
            return HeapPool(key)
        return HeapPool(lambda a: prefix(a) + key(a))

    return make


def _longest_idle(a: Agent) -> tuple[float, ...]:
    return (a.idle_since,)


def _fewest_skills(a: Agent) -> tuple[float, ...]:
    return (a.n_skills, a.idle_since)


def _least_talk(a: Agent) -> tuple[float, ...]:
    return (a.talk_s_total, a.idle_since)


def _fewest_calls(a: Agent) -> tuple[float, ...]:
    return (a.calls_taken, a.idle_since)


def _linear(a: Agent) -> tuple[float, ...]:
    return (a.position,)


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy(
            "fewest_skills_first",
            "fewest skills first (specialists before generalists), ties by longest idle",
            _heap(_fewest_skills),
        ),
        Strategy("longest_idle", "longest idle first", _heap(_longest_idle)),
        Strategy(
            "round_robin",
            "next agent after the one offered last, in position order (with memory)",
            lambda prefix, rng: CyclicPool(),
        ),
        Strategy(
            "ring_all",
            "ring every idle qualified agent; the first to answer wins",
            lambda prefix, rng: ArrayPool(rng),
            rings_all=True,
        ),
        Strategy("linear", "fixed hunt order by agent position", _heap(_linear)),
        Strategy(
            "least_talk_time",
            "least total talk time first, ties by longest idle",
            _heap(_least_talk),
        ),
        Strategy(
            "fewest_calls",
            "fewest answered calls first, ties by longest idle",
            _heap(_fewest_calls),
        ),
        Strategy("random", "uniformly at random", lambda prefix, rng: ArrayPool(rng)),
        Strategy(
            "weighted_random",
            "at random in proportion to the agent's weight",
            lambda prefix, rng: ArrayPool(rng, weighted=True),
        ),
    )
}
