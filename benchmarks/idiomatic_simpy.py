"""The idiomatic SimPy model of an Erlang-A centre, as a textbook writes it: one process
per call, a ``simpy.Resource`` for the agents, ``request | timeout(patience)``.

It is the speed baseline for ``callsim run``; it routes nothing (one FIFO pool).
"""

from __future__ import annotations

import numpy as np
import simpy


def simulate_idiomatic(
    per_hour: float,
    agents: int,
    handle_mean_s: float,
    patience_mean_s: float,
    hours: float,
    seed: int,
) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    pool = simpy.Resource(env, capacity=agents)
    stats = {"offered": 0, "answered": 0, "abandoned": 0, "wait_sum": 0.0}

    def call(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        arrived = env.now
        patience = rng.exponential(patience_mean_s)
        with pool.request() as req:
            result = yield req | env.timeout(patience)
            if req in result:
                stats["answered"] += 1
                stats["wait_sum"] += env.now - arrived
                yield env.timeout(rng.exponential(handle_mean_s))
            else:
                stats["abandoned"] += 1

    def source(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        mean_gap = 3600.0 / per_hour
        while env.now < hours * 3600:
            yield env.timeout(rng.exponential(mean_gap))
            stats["offered"] += 1
            env.process(call(env))

    env.process(source(env))
    env.run()
    return stats
