"""The Erlang-A centre in Ciw, the queueing-network library: a speed baseline."""

from __future__ import annotations

from typing import Any


def simulate_ciw(ciw: Any, per_hour: float, agents: int, hours: float, seed: int) -> int:
    """Calls of ``hours`` of the Erlang-A day (talk 240 s, patience 180 s); ``ciw`` is
    the imported module (benchmarks skip when it is not installed)."""
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=per_hour / 3600)],
        service_distributions=[ciw.dists.Exponential(rate=1 / 240)],
        number_of_servers=[agents],
        reneging_time_distributions=[ciw.dists.Exponential(rate=1 / 180)],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(hours * 3600)
    return len(sim.get_all_records())
