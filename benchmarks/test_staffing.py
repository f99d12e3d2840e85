"""Staffing speed: 10,000 Erlangs and a 48-interval day plan.

The baseline, measured in the same run, is the common approach: start near the load and
recompute Erlang C from scratch (a full Erlang B recursion) for every candidate.
callsim carries one recursion along the search, so the whole search is O(n).
"""

from __future__ import annotations

import math

from benchmarks.conftest import best_s, timed
from callsim.analytics.erlang import erlang_c
from callsim.analytics.forecast import Interval, plan_day
from callsim.analytics.staffing import Target, required_agents

RATE = 10_000 / 240  # 10,000 Erlangs at AHT 240 s
TARGET = Target(0.8, 20)


def naive_staffing(rate: float, aht: float, sl: float, t: float) -> int:
    n = math.floor(rate * aht) + 1
    while erlang_c(rate, aht, n, t).service_level < sl:
        n += 1
    return n


def test_staffing_10000_erlangs(benchmark) -> None:
    benchmark.group = "staffing 10,000 Erlangs (80/20, AHT 240 s)"
    result = benchmark(required_agents, RATE, 240, TARGET)
    assert result.agents == naive_staffing(RATE, 240, 0.8, 20)


def test_staffing_10000_erlangs_naive_baseline(benchmark) -> None:
    benchmark.group = "staffing 10,000 Erlangs (80/20, AHT 240 s)"
    benchmark(naive_staffing, RATE, 240, 0.8, 20)


def test_staffing_10000_erlangs_model_a(benchmark) -> None:
    benchmark.group = "staffing 10,000 Erlangs (80/20, AHT 240 s)"
    result = benchmark(required_agents, RATE, 240, TARGET, model="a", patience_s=180)
    assert result.service_level >= 0.8


def _day() -> list[Interval]:
    # a bank-like day: 48 half hours, traffic from 2 to 400 Erlangs and back
    return [
        Interval(
            f"{i // 2:02d}:{30 * (i % 2):02d}",
            20 + 3000 * math.sin(math.pi * i / 47) ** 2,
            240,
            180,
        )
        for i in range(48)
    ]


def test_day_plan_48_intervals_model_c(benchmark) -> None:
    benchmark.group = "day plan, 48 intervals"
    plan = benchmark(plan_day, _day(), 30, TARGET)
    assert len(plan) == 48


def test_day_plan_48_intervals_model_a(benchmark) -> None:
    benchmark.group = "day plan, 48 intervals"
    plan = benchmark(plan_day, _day(), 30, TARGET, model="a")
    assert len(plan) == 48


def test_one_pass_beats_recompute_per_candidate(benchmark) -> None:
    """Ratio in the same run: the O(n) search against the recompute-per-candidate baseline."""
    import time

    def best(f, *args) -> float:
        times = []
        for _ in range(7):
            start = time.perf_counter()
            f(*args)
            times.append(time.perf_counter() - start)
        return min(times)

    naive = best(naive_staffing, RATE, 240, 0.8, 20)
    benchmark.group = "staffing speed-up"
    benchmark(required_agents, RATE, 240, TARGET)
    ratio = naive / best_s(benchmark)
    benchmark.extra_info["speedup_vs_recompute"] = round(ratio, 1)
    if timed(benchmark):
        assert ratio >= 5, f"only {ratio:.1f}x faster than recomputing per candidate"
