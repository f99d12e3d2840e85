"""What ``callsim run`` holds in memory (issue 28: peak memory at most 2x the idiomatic
SimPy process's): no finished day is held while the next one runs."""

from __future__ import annotations

import gc
from pathlib import Path

from callsim.core import Acd
from callsim.scenario import load_scenario
from callsim.sim import simulate

ROOT = Path(__file__).resolve().parent.parent


def test_no_finished_day_is_held_while_the_next_runs() -> None:
    """A day's core (its agents, queues and clock refer to each other) is freed when the
    day is done, not left to the cyclic collector, whose next full pass could come days
    later: each one held adds to the next day's peak (5-7 MB in the large Erlang-A
    day)."""
    scenario = load_scenario(ROOT / "scenarios" / "erlang-c-twin.yaml")
    alive: list[int] = []

    def done(k: int) -> None:  # told after each day, in this process
        alive.append(sum(isinstance(o, Acd) for o in gc.get_objects()))

    was = gc.isenabled()
    gc.disable()  # no pass of the collector by chance: only what simulate frees is freed
    try:
        simulate(scenario, replications=3, seed=1, workers=1, progress=done)
    finally:
        if was:
            gc.enable()
    assert alive == [0, 0, 0]
