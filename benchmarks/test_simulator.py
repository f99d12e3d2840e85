"""Simulator speed: calls simulated per second on the Erlang-A day (~54,000 calls), side by
side in one run with the idiomatic SimPy model (one process per call) and, when installed,
the Ciw queueing library on the same case; cost per call for 6 vs 420 agents; memory over
replications. Run: ``pytest benchmarks --benchmark-only --benchmark-enable``.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from pathlib import Path

import pytest

from benchmarks.ciw_model import simulate_ciw
from benchmarks.conftest import best_s, timed
from benchmarks.idiomatic_simpy import simulate_idiomatic
from callsim import core_compiled
from callsim.scenario import load_scenario
from callsim.sim import simulate
from callsim.sim.engine import Replication
from callsim.sim.plan import build_plan

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "erlang-a-large.yaml"
HOURS = 9.0  # 8-hour day plus 1 hour warm-up, as the scenario runs
_rates: dict[str, float] = {}


def _callsim_day(seed: int) -> int:
    return len(Replication(build_plan(load_scenario(SCENARIO)), seed, 0).run())


def test_callsim_erlang_a_day(benchmark) -> None:
    benchmark.group = "simulator: Erlang-A day, 6,000 calls/h, 420 agents"
    counter = iter(range(1_000_000))
    calls = benchmark.pedantic(lambda: _callsim_day(next(counter)), rounds=3, warmup_rounds=1)
    _rates["callsim"] = calls / best_s(benchmark)
    benchmark.extra_info["calls_per_s"] = round(_rates["callsim"])


def test_idiomatic_simpy_erlang_a_day(benchmark) -> None:
    benchmark.group = "simulator: Erlang-A day, 6,000 calls/h, 420 agents"
    stats = benchmark.pedantic(simulate_idiomatic, args=(6000, 420, 240, 180, HOURS, 1), rounds=3)
    _rates["simpy"] = stats["offered"] / best_s(benchmark)
    benchmark.extra_info["calls_per_s"] = round(_rates["simpy"])


def test_ciw_erlang_a_two_hours(benchmark) -> None:
    ciw = pytest.importorskip("ciw")
    benchmark.group = "simulator: Erlang-A day, 6,000 calls/h, 420 agents"

    def run() -> int:
        return simulate_ciw(ciw, 6000, 420, 2, 1)  # Ciw is slow: two hours

    calls = benchmark.pedantic(run, rounds=2)
    _rates["ciw"] = calls / best_s(benchmark)
    benchmark.extra_info["calls_per_s"] = round(_rates["ciw"])


def test_speed_ratios_in_this_run(benchmark) -> None:
    """callsim against the baselines measured above in this same run.

    Targets: 3x idiomatic SimPy and 12x Ciw with the compiled core (the default install,
    setup.py); the pure-Python fallback is held to the floors it reaches (see
    docs/simulator.md)."""
    if "callsim" not in _rates or "simpy" not in _rates:
        pytest.skip("run the whole module")
    benchmark.group = "simulator: ratios"
    benchmark(lambda: None)
    compiled = core_compiled()
    x_simpy = _rates["callsim"] / _rates["simpy"]
    benchmark.extra_info["core_compiled"] = compiled
    benchmark.extra_info["x_idiomatic_simpy"] = round(x_simpy, 2)
    if timed(benchmark):
        assert x_simpy >= (3.0 if compiled else 1.6)
    if "ciw" in _rates:
        x_ciw = _rates["callsim"] / _rates["ciw"]
        benchmark.extra_info["x_ciw"] = round(x_ciw, 2)
        if timed(benchmark):
            assert x_ciw >= (12.0 if compiled else 6.0)


def _per_call_s(text: str) -> float:
    plan = build_plan(load_scenario_text(text))
    best = float("inf")
    for seed in range(3):
        gc.collect()  # earlier benchmarks' garbage (Ciw's) is not this one's cost
        rep = Replication(plan, seed, 0)
        start = time.perf_counter()
        n = len(rep.run())
        best = min(best, (time.perf_counter() - start) / n)
    return best


def load_scenario_text(text: str):  # type: ignore[no-untyped-def]
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
        fh.write(text)
    return load_scenario(fh.name)


def _erlang_a(agents: int, per_hour: float, horizon: str) -> str:
    return f"""
name: scale-{agents}
horizon: {horizon}
queues: [{{name: general, skills: [general]}}]
calls:
  - queue: general
    arrivals: {{per_hour: {per_hour}}}
    talk_s: {{dist: exponential, mean: 240}}
    patience_s: {{dist: exponential, mean: 180}}
agents: [{{name: team, count: {agents}, skills: [general]}}]
"""


def test_cost_per_call_does_not_grow_with_agents(benchmark) -> None:
    """Same load per agent (~95 % busy) and about the same number of calls (~6,000):
    6 agents for three days against 420 agents for an hour."""
    small_text = _erlang_a(
        6, 6000 * 6 / 420, '{start: "00:00", end: "24:00", interval_min: 60, days: 3}'
    )
    large_text = _erlang_a(420, 6000, '{start: "00:00", end: "01:00", interval_min: 60}')
    small = _per_call_s(small_text)
    benchmark.group = "simulator: cost per call, 6 vs 420 agents"
    benchmark.pedantic(lambda: _per_call_s(large_text), rounds=1)
    large = _per_call_s(large_text)
    benchmark.extra_info["us_per_call_6_agents"] = round(small * 1e6, 2)
    benchmark.extra_info["us_per_call_420_agents"] = round(large * 1e6, 2)
    if timed(benchmark):
        assert large <= 1.3 * small


def test_memory_stays_flat_over_replications(benchmark) -> None:
    scenario = load_scenario(SCENARIO.with_name("erlang-c-twin.yaml"))

    def peak(replications: int) -> int:
        tracemalloc.start()
        simulate(scenario, replications=replications, seed=1, workers=1)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    two = peak(2)
    benchmark.group = "simulator: memory"
    six = benchmark.pedantic(lambda: peak(6), rounds=1)
    benchmark.extra_info["peak_mb_2_replications"] = round(two / 2**20, 1)
    benchmark.extra_info["peak_mb_6_replications"] = round(six / 2**20, 1)
    assert six <= 1.25 * two
