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


def test_what_the_caller_froze_stays_frozen_and_nothing_else() -> None:
    """simulate freezes what lives before the days run (so that collecting each day's
    garbage scans none of it) and thaws it after, but never thaws a caller's freeze."""
    scenario = load_scenario(ROOT / "scenarios" / "erlang-c-twin.yaml")
    gc.unfreeze()  # whatever an earlier in-process user of the collector left frozen
    assert gc.get_freeze_count() == 0
    simulate(scenario, replications=1, seed=1, workers=1)
    assert gc.get_freeze_count() == 0  # thawed
    mine = [["frozen by the caller"]]  # a list: tracked by the collector
    gc.freeze()
    try:
        simulate(scenario, replications=1, seed=1, workers=1)
        assert gc.get_freeze_count() > 0
        assert not any(o is mine for o in gc.get_objects())  # still frozen: not listed
    finally:
        gc.unfreeze()
    assert any(o is mine for o in gc.get_objects())  # the check can see it
