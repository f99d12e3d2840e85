"""Routing strategies: each a registered snake_case name and the idle-agent pool it uses.

Every strategy ranks the idle agents qualified for a queue; the ACD offers the call to
the first one not yet tried in the current hunt. With ``use_proficiency`` the agents'
lowest proficiency in the queue's skills ranks first (highest level first).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter

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
        return HeapPool(lambda a: (*prefix(a), *key(a)))

    return make


# C-level getters: the sort key is read when an agent becomes idle, on every call.
_longest_idle: Key = attrgetter("idle_since", "idle_token")
_fewest_skills: Key = attrgetter("n_skills", "idle_since")
_least_talk: Key = attrgetter("talk_s_total", "idle_since")
_fewest_calls: Key = attrgetter("calls_taken", "idle_since")
_linear: Key = attrgetter("position", "idle_since")


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
