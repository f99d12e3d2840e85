"""Minimum agents for a service-level target (Erlang C or A), with optional caps on
abandonment and occupancy, and shrinkage.

Erlang C: one pass of the Erlang B recursion from 1 agent up; every candidate from the
true lower bound (floor(traffic) + 1) is checked in O(1), so no smaller feasible staff is
skipped and the whole search is O(n). Erlang A: every constraint is monotone in the
number of agents, so a bisection between 0 and a feasible bound finds the exact minimum.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from callsim.analytics.erlang import MAX_AGENTS, ErlangA, ErlangC, erlang_a, erlang_c_from_b
from callsim.errors import InputError

Metrics = ErlangA | ErlangC


@dataclass(frozen=True, slots=True)
class Target:
    """What the staffing must reach. ``shrinkage``: share of paid time off the phones."""

    sl_target: float = 0.8
    sl_threshold_s: float = 20.0
    max_abandon: float | None = None
    max_occupancy: float | None = None
    shrinkage: float = 0.0

    def check(self) -> None:
        if not 0 < self.sl_target < 1:
            raise InputError(f"{self.sl_target!r} is not within (0, 1)", field="sl_target")
        if not math.isfinite(self.sl_threshold_s) or self.sl_threshold_s < 0:
            raise InputError(
                f"{self.sl_threshold_s!r} is not a number >= 0", field="sl_threshold_s"
            )
        for name, value in (
            ("max_abandon", self.max_abandon),
            ("max_occupancy", self.max_occupancy),
        ):
            if value is not None and not 0 < value <= 1:
                raise InputError(f"{value!r} is not within (0, 1]", field=name)
        if not 0 <= self.shrinkage < 1:
            raise InputError(f"{self.shrinkage!r} is not within [0, 1)", field="shrinkage")


@dataclass(frozen=True, slots=True)
class Staffing:
    """``agents`` on the phones; ``agents_fractional`` the un-rounded figure (interpolated
    between agents-1 and agents) for aggregating queues; ``agents_scheduled`` with
    shrinkage, rounded up."""

    model: str
    traffic_erl: float
    agents: int
    agents_fractional: float
    agents_scheduled: int
    service_level: float
    p_wait: float
    asa_s: float | None
    occupancy: float
    p_abandon: float | None


def required_agents(
    rate_per_s: float,
    aht_s: float,
    target: Target,
    *,
    model: str = "c",
    patience_s: float | None = None,
) -> Staffing:
    """The fewest agents meeting ``target`` for calls at ``rate_per_s`` with ``aht_s``."""
    target.check()
    if not (math.isfinite(rate_per_s) and rate_per_s >= 0):
        raise InputError(f"{rate_per_s!r} is not a number >= 0", field="rate_per_s")
    if not (math.isfinite(aht_s) and aht_s > 0):
        raise InputError(f"{aht_s!r} is not a positive number", field="aht_s")
    if rate_per_s * aht_s > MAX_AGENTS:
        raise InputError(
            f"an offered load of {rate_per_s * aht_s:,.0f} Erlangs needs more than the "
            f"{MAX_AGENTS:,} agents callsim computes: check the arrival rate and aht_s"
        )
    if model == "a":
        if patience_s is None:
            raise InputError("model a (Erlang A) needs a mean patience", field="patience_s")
        return _staff_a(rate_per_s, aht_s, patience_s, target)
    if model != "c":
        raise InputError(f"{model!r} is not one of c, a", field="model")
    if target.max_abandon is not None:
        raise InputError("needs model a (Erlang C has no abandonment)", field="max_abandon")
    return _staff_c(rate_per_s, aht_s, target)


def _scheduled(agents: int, shrinkage: float) -> int:
    return math.ceil(agents / (1.0 - shrinkage) - 1e-9)


def _result(m: Metrics, fractional: float, target: Target) -> Staffing:
    return Staffing(
        model=m.model,
        traffic_erl=m.traffic_erl,
        agents=m.agents,
        agents_fractional=fractional,
        agents_scheduled=_scheduled(m.agents, target.shrinkage),
        service_level=m.service_level,
        p_wait=m.p_wait,
        asa_s=m.asa_s,
        occupancy=m.occupancy,
        p_abandon=m.p_abandon if isinstance(m, ErlangA) else None,
    )


def _interpolate(lo: float, hi: float, goal: float, n: int) -> float:
    """Where a quantity moving from ``lo`` at n-1 to ``hi`` at n crosses ``goal``."""
    if hi == lo:
        return float(n)
    return (n - 1) + min(1.0, max(0.0, (goal - lo) / (hi - lo)))


def _fractional(prev: Metrics | None, m: Metrics, target: Target) -> float:
    """The un-rounded staffing: the largest crossing point among binding constraints."""
    n = m.agents
    if n == 0:
        return 0.0
    prev_sl = prev.service_level if prev is not None else 0.0
    floor = m.traffic_erl if isinstance(m, ErlangC) else 0.0  # Erlang C needs agents > load
    figures = [floor, _interpolate(prev_sl, m.service_level, target.sl_target, n)]
    if target.max_occupancy is not None:
        figures.append(m.traffic_erl / target.max_occupancy)
    if target.max_abandon is not None and isinstance(m, ErlangA) and isinstance(prev, ErlangA):
        # abandonment falls as agents are added: interpolate on its negative
        figures.append(_interpolate(-prev.p_abandon, -m.p_abandon, -target.max_abandon, n))
    return min(float(n), max(figures))


def _feasible(m: Metrics, target: Target) -> bool:
    if m.service_level < target.sl_target:
        return False
    if target.max_occupancy is not None and m.occupancy > target.max_occupancy:
        return False
    return not (
        target.max_abandon is not None
        and isinstance(m, ErlangA)
        and m.p_abandon > target.max_abandon
    )


def _staff_c(rate_per_s: float, aht_s: float, target: Target) -> Staffing:
    a = rate_per_s * aht_s
    if a == 0:
        zero = erlang_c_from_b(0.0, 1, 0.0, aht_s, target.sl_threshold_s)
        return _result(zero, 0.0, target)
    b = 1.0
    n = 0
    prev: ErlangC | None = None
    while True:
        n += 1
        b = a * b / (n + a * b)  # Erlang B recursion, carried along the search
        if n <= a:
            continue
        m = erlang_c_from_b(a, n, b, aht_s, target.sl_threshold_s)
        if _feasible(m, target):
            return _result(m, _fractional(prev, m, target), target)
        prev = m


def _staff_a(rate_per_s: float, aht_s: float, patience_s: float, target: Target) -> Staffing:
    a = rate_per_s * aht_s

    def at(n: int) -> ErlangA:
        return erlang_a(rate_per_s, aht_s, patience_s, n, target.sl_threshold_s)

    if a == 0:  # no calls: the formula has no rate to take; one agent, nobody waits
        return _result(ErlangA("a", 0.0, 1, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0), 0.0, target)
    lo, hi = 0, max(1, math.ceil(a))  # lo is infeasible (no agents); grow hi until feasible
    best = at(hi)
    while not _feasible(best, target):
        lo, hi = hi, hi * 2
        best = at(hi)
    n, best = _bisect(lo, hi, best, at, lambda m: _feasible(m, target))
    prev = at(n - 1) if n > 1 else None
    return _result(best, _fractional(prev, best, target), target)


def _bisect(
    lo: int, hi: int, at_hi: ErlangA, at: Callable[[int], ErlangA], ok: Callable[[ErlangA], bool]
) -> tuple[int, ErlangA]:
    """Smallest n in (lo, hi] with ok(at(n)), given ok is monotone and ok(at_hi)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        m = at(mid)
        if ok(m):
            hi, at_hi = mid, m
        else:
            lo = mid
    return hi, at_hi
