"""What ``callsim run`` holds in memory (issue 28: peak memory at most 2x the idiomatic
SimPy process's): no finished day is held while the next one runs."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from callsim.core import Acd
from callsim.scenario import load_scenario
from callsim.sim import simulate
from callsim.sim.engine import Replication
from callsim.sim.execute import run_cells, run_replication
from callsim.sim.plan import build_plan

T = TypeVar("T")

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


def test_a_day_holds_little_per_call_and_less_once_its_calls_have_ended() -> None:
    """The large Erlang-A day (about 54,000 calls): its calls as the day starts, and the
    day's peak while it runs (its records handed on as written), in bytes a call, as
    Python's allocator counts them (tracemalloc: objects and numpy arrays alike). A
    dozen Python lists a call held 205 bytes a call and peaked at 255; what calls share
    is now held once and their drawn times as floats only while their block of calls is
    in the centre: about 61 and 123."""
    plan = build_plan(load_scenario(ROOT / "scenarios" / "erlang-a-large.yaml"))
    was = tracemalloc.is_tracing()
    if not was:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        rep = Replication(plan, 1, 0)
        held = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.reset_peak()
        rep.run(lambda records: None)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not was:
            tracemalloc.stop()
    n = rep.calls.n_first
    assert n > 50_000
    assert held / n < 110, f"{held / n:.0f} bytes a call held as the day starts"
    assert peak / n < 190, f"{peak / n:.0f} bytes a call at the day's peak"


def test_a_call_read_after_its_block_was_let_go_reads_as_drawn() -> None:
    """Once every call of a block has ended, its drawn times are let go; a read of one
    afterwards (no output makes one) turns the block into floats again, as drawn."""
    plan = build_plan(load_scenario(ROOT / "scenarios" / "erlang-a-large.yaml"))
    ran, fresh = Replication(plan, 1, 0), Replication(plan, 1, 0)
    ran.run(lambda records: None)
    n = ran.calls.n_first
    for cid in range(0, n, 97):
        assert ran.calls.arrival[cid] == fresh.calls.arrival[cid]
        assert ran.calls.talk[cid] == fresh.calls.talk[cid]
        assert ran.calls.queue[cid] == fresh.calls.queue[cid]


def _second_day_peak(day: Callable[[int], T]) -> tuple[T, int]:
    """``day(1)``'s result and its peak above what was held before it, in bytes
    (tracemalloc), after ``day(0)`` built what a first day builds once (caches)."""
    day(0)
    gc.collect()
    was = tracemalloc.is_tracing()
    if not was:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        got = day(1)
        return got, tracemalloc.get_traced_memory()[1] - before
    finally:
        if not was:
            tracemalloc.stop()


def test_a_day_is_summed_up_as_it_runs_not_held_to_its_end() -> None:
    """A whole replication of the large Erlang-A day (``run_replication``: the day, its
    records handed over an interval at a time, its statistics): its peak in bytes a
    call, as tracemalloc counts them. Each interval's columns are added to the day's sums
    (``DaySums``) and dropped; the day's columns held to its end, joined, and reduced at
    once peaked at 205 bytes a call, against about 134 now (the day itself, its per-call
    draws and the calls in the centre, about 123)."""
    plan = build_plan(load_scenario(ROOT / "scenarios" / "erlang-a-large.yaml"))
    stats, peak = _second_day_peak(lambda r: run_replication(plan, 1, r))
    n = stats.calls_simulated
    assert n > 50_000
    assert peak / n < 170, f"{peak / n:.0f} bytes a call at the replication's peak"


def test_a_staffing_days_cells_are_counted_as_it_runs() -> None:
    """The staffing search's day (``run_cells``: its cells' counts only) of the large
    Erlang-A day, at its peak, in bytes a call (tracemalloc): its records are counted an
    interval at a time, not all held to the day's end (about 900 bytes a counted call
    that way; about 140 now, the day's own state)."""
    plan = build_plan(load_scenario(ROOT / "scenarios" / "erlang-a-large.yaml"))
    cells, peak = _second_day_peak(lambda r: run_cells(plan, 1, r))
    n = int(cells.offered.sum())  # the counted calls: most of the day's
    assert n > 40_000
    assert peak / n < 250, f"{peak / n:.0f} bytes a counted call at the day's peak"
