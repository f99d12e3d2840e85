"""Staffing by simulation: the fewest agents per interval and agent profile meeting the
targets under the scenario's own routing (``callsim staff SCENARIO --simulate``), with a
decision the simulation noise allows (``analytics.verdict``).

Agents with the same skills are one *profile* (a group, or groups that differ only in
their shifts). The search:

1. **Erlang start.** Each queue's calls per interval (the scenario's arrival rates, mean
   handling and patience) get their exact Erlang A requirement (Erlang C without
   patience). A queue's agents come from the profiles that serve it, in proportion to the
   scenario's head counts, each profile's share split over its queues by their load.
2. **Simulation.** The plan is written as ``on_duty`` head counts and the whole day is
   simulated, ``replications`` days at a time, always the same days (common random
   numbers: a change of plan, not noise, moves the result). Whole days, because the
   intervals are coupled: a backlog, and the retrials of callers who hung up, carry
   over into the next intervals.
3. **Verdict.** Every (interval, queue) cell *meets* its targets when the 95 % CI of its
   mean service level lies above the target (and that of its abandonment below the
   cap), *misses* when the CI lies on the wrong side, and is *not sure* otherwise. While
   a cell is not sure, the day set is doubled (sequential sampling: new days, simulated
   once and kept for the later rounds) up to ``DAYS_GROWTH`` times ``replications``. A
   cell still not sure then counts as short: the safe side, one more agent.
4. **Correction.** In every cell, the simulated service level (and abandonment) is turned
   into an Erlang-equivalent head count, the head count Erlang A would need for the
   target is found, and the difference is added to (or taken from) the cell's specialist
   profile (the one serving the fewest queues). A cell that is short gets at least one
   more agent; a cell that once was short is not cut below the count that met it.
   Rounds repeat until nothing changes; the cheapest plan that met every cell wins.
5. **Fresh days.** The winner was picked on the days it was tuned on, where it looks
   better than it is (a winner's curse). It is measured again on days of seeds the search
   never used, with the same verdicts and sequential sampling; cells that are not sure or
   miss there get one more agent, and the plan is measured again on new fresh days (up to
   ``FRESH_CHECKS`` times). Those fresh-day figures are the plan's reported figures.

``confidence`` P: a cell must also hold its targets on a P share of days, surely (the
Wilson interval of that share above P), not only on average; the correction then aims at
the mean that gives that share.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from callsim.analytics.cells import CellCounts, cell_samples
from callsim.analytics.erlang import erlang_a, erlang_c
from callsim.analytics.metrics import ReplicationStats, ci_of, mean_ci, metric_samples
from callsim.analytics.shifts import ShiftPlan
from callsim.analytics.staffing import Target, required_agents
from callsim.analytics.verdict import (
    Verdict,
    share_needed,
    verdict_at_least,
    verdict_at_most,
    verdict_share,
)
from callsim.errors import InputError
from callsim.scenario import Scenario
from callsim.scenario.model import AgentGroup, hhmm
from callsim.sim.check import check_scenario, refuse_errors
from callsim.sim.execute import Executor, Job
from callsim.sim.plan import SimPlan, build_plan

MAX_ROUNDS = 12
DAYS_GROWTH = 8  # sequential sampling: up to this many times the days asked for
FRESH_CHECKS = 3  # measurements of the plan on fresh days (each after adding agents)
_NONE = -(10**9)  # no cut asked
MIN_CALLS = 1.0  # cells with fewer calls a day on average have no target
_MORE, _FRESH = 0, 1  # spawn keys of derived seeds: a day set's more days, fresh days


def derived_seed(seed: int, *key: int) -> int:
    """A seed whose streams are independent of ``seed``'s (and of other keys')."""
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))  # 63 bits


@dataclass(frozen=True, slots=True)
class Days:
    """Simulated days: replications 0..n-1 of each (seed, n) segment. Day r of a segment
    brings the same callers to every plan (common random numbers)."""

    segments: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, seed: int, replications: int) -> Days:
        return cls(((seed, replications),))

    @classmethod
    def fresh(cls, seed: int, replications: int, draw: int = 1) -> Days:
        """Days that a search on ``seed`` never simulates (``draw``: another such set)."""
        return cls.of(derived_seed(seed, _FRESH, draw), replications)

    @property
    def count(self) -> int:
        return sum(n for _, n in self.segments)

    @property
    def seeds(self) -> list[int]:
        return [seed for seed, _ in self.segments]

    def more(self, most: int) -> Days:
        """Twice the days (at most ``most`` in all): a new segment of a derived seed."""
        seed = derived_seed(self.segments[0][0], _MORE, len(self.segments))
        return Days((*self.segments, (seed, min(self.count, most - self.count))))


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    groups: tuple[str, ...]
    skills: dict[str, int]
    queues: tuple[int, ...]  # indices of the queues its agents serve


def profiles(s: Scenario) -> list[Profile]:
    """The scenario's agent groups merged by identical skills, in order of appearance."""
    by_skills: dict[tuple[tuple[str, int], ...], list[AgentGroup]] = {}
    for g in s.agents:
        by_skills.setdefault(tuple(sorted(g.skill_levels().items())), []).append(g)
    out = []
    for key, groups in by_skills.items():
        skills = dict(key)
        served = tuple(i for i, q in enumerate(s.queues) if set(q.skills) <= set(skills))
        name = groups[0].name if len(groups) == 1 else "-".join(sorted(skills))[:60]
        out.append(Profile(name, tuple(g.name for g in groups), skills, served))
    return out


@dataclass(frozen=True, slots=True)
class Load:
    """Offered calls per interval and queue: rate (per s), mean handling and patience."""

    rate: np.ndarray  # [interval, queue]
    aht_s: np.ndarray
    patience_s: np.ndarray  # inf: no abandonment


def offered_load(plan: SimPlan) -> Load:
    n, q = plan.n_intervals, len(plan.queues)
    rate, handle, patience = np.zeros((n, q)), np.zeros((n, q)), np.zeros((n, q))
    index = {name: j for j, name in enumerate(plan.queues)}
    calls = plan.expected_calls()
    for k, stream in enumerate(plan.streams):
        j = index[stream.queue]
        for i in range(n):
            lam = calls[i, k] / plan.interval_s
            rate[i, j] += lam
            handle[i, j] += lam * stream.mean_handle_s
            quit_rate = 0.0 if math.isinf(stream.mean_patience_s) else 1 / stream.mean_patience_s
            patience[i, j] += lam * quit_rate  # abandonment rates average, not patiences
    with np.errstate(invalid="ignore", divide="ignore"):
        aht = np.where(rate > 0, handle / rate, 0.0)
        quit = np.where(rate > 0, patience / rate, 0.0)
        pat = np.where(quit > 0, 1 / quit, np.inf)
    return Load(rate, aht, pat)


def _erlang(rate: float, aht: float, patience: float, n: int, thr: float) -> tuple[float, float]:
    """(service level, abandon probability) of ``n`` agents, Erlang A (C without patience)."""
    if math.isinf(patience):
        c = erlang_c(rate, aht, n, thr)
        return c.service_level, 0.0
    a = erlang_a(rate, aht, patience, n, thr)
    return a.service_level, a.p_abandon


def _erlang_target(rate: float, aht: float, patience: float, target: Target) -> int:
    if rate <= 0:
        return 0
    model = "c" if math.isinf(patience) else "a"
    if model == "c" and target.max_abandon is not None:
        target = Target(target.sl_target, target.sl_threshold_s)
    return required_agents(
        rate, aht, target, model=model, patience_s=None if model == "c" else patience
    ).agents


def _first(ok: Callable[[int], bool], hi: int) -> int:
    """The smallest n in [0, hi] with ``ok(n)`` (``ok`` monotone in n); ``hi`` if none."""
    lo = -1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _count(rate: float, aht: float, pat: float, thr: float, which: int, goal: float) -> float:
    """The fractional head count at which Erlang's service level (``which`` 0) rises to
    ``goal``, or its abandonment (1) falls to it: interpolated between whole agents."""

    def f(n: int) -> float:
        return _erlang(rate, aht, pat, n, thr)[which]

    def ok(n: int) -> bool:
        return f(n) >= goal if which == 0 else f(n) <= goal

    n = _first(ok, int(rate * aht * 2 + 50))
    if n == 0:
        return 0.0
    lo, hi = f(n - 1), f(n)
    frac = 1.0 if hi == lo else min(1.0, max(0.0, (goal - lo) / (hi - lo)))
    return n - 1 + frac


@dataclass(frozen=True, slots=True)
class Round:
    """A plan simulated on ``days``, with every (interval, queue) cell's ``verdict``
    (``Verdict``; MEETS where no target applies)."""

    agents: np.ndarray  # [profile, interval]
    days: Days
    verdict: np.ndarray  # [interval, queue]
    sl: np.ndarray  # [replication, interval, queue]
    abandon: np.ndarray
    offered: np.ndarray
    sl_all: np.ndarray  # [replication, interval], all queues together
    abandon_all: np.ndarray

    @property
    def passed(self) -> np.ndarray:
        """[interval, queue]: the cells that surely meet their targets."""
        return np.asarray(self.verdict == Verdict.MEETS)

    @property
    def ok(self) -> bool:
        return bool(self.passed.all())

    def held(self, target: Target) -> np.ndarray:
        """[replication, interval]: whether every queue with calls met the targets that
        day in that interval."""
        ok = _meets(self.sl, self.abandon, target)
        applies = self.offered.mean(axis=0) >= MIN_CALLS  # [interval, queue]
        return np.asarray((ok | ~applies).all(axis=2))

    def days_met(self, target: Target) -> np.ndarray:
        """[interval]: the share of simulated days on which every queue with calls met
        the targets in that interval."""
        return np.asarray(self.held(target).mean(axis=0))

    def by_interval(self, target: Target, confidence: float | None) -> np.ndarray:
        """[interval]: the verdict of each interval: the worst of its cells', and of the
        figures shown for it (all queues together), so that no interval is said to meet
        on a figure whose CI straddles the target."""
        shown = _verdicts(self.sl_all[:, :, None], self.abandon_all[:, :, None],
                          self.offered.sum(axis=2, keepdims=True), target, None)[:, 0]  # fmt: skip
        if confidence is not None:
            shown = np.minimum(shown, verdict_share(self.held(target), confidence))
        return np.asarray(np.minimum(self.verdict.min(axis=1), shown))

    def agent_hours(self, interval_s: float) -> float:
        return float(self.agents.sum() * interval_s / 3600)


def with_plan(s: Scenario, profs: list[Profile], agents: np.ndarray, starts: list[str]) -> Scenario:
    """The scenario staffed by ``agents`` [profile, interval]: one group per profile,
    logged in by ``on_duty`` head counts from each interval's start."""
    groups = {g.name: g for g in s.agents}
    new = []
    for p, row in zip(profs, agents, strict=True):
        on_duty = [{"at": at, "count": int(n)} for at, n in zip(starts, row, strict=True)]
        new.append(_group(groups[p.groups[0]], p.name, max(1, int(row.max())), on_duty=on_duty))
    return _restaffed(s, new, {p.name: p for p in profs})


def _group(like: AgentGroup, name: str, count: int, **working: Any) -> dict[str, Any]:
    """An agent group with the skills and answering of ``like``, working as told."""
    spec: dict[str, Any] = {
        "name": name,
        "count": count,
        "skills": like.skills,
        **working,
        "weight": like.weight,
    }
    if like.answer_probability is not None:
        spec["answer_probability"] = like.answer_probability
    return spec


def _restaffed(s: Scenario, agents: list[dict[str, Any]], of: dict[str, Profile]) -> Scenario:
    """``s`` with new agent groups (``of``: the profile each stands for); wages by group
    follow: each new group is paid its profile's groups' wage, weighted by their agents."""
    data = s.model_dump(mode="json", exclude_unset=True)
    data["agents"] = agents
    if s.costs is not None and s.costs.wage_per_hour_by_group:
        by, default = s.costs.wage_per_hour_by_group, s.costs.wage_per_hour
        counts = {g.name: g.count for g in s.agents}
        wage = {}
        for g in agents:
            old = of[g["name"]].groups
            paid = sum(by.get(o, default) * counts[o] for o in old)
            wage[g["name"]] = paid / sum(counts[o] for o in old)
        data["costs"]["wage_per_hour_by_group"] = wage
    return Scenario.model_validate(data)


def _verdicts(
    r_sl: np.ndarray,
    r_ab: np.ndarray,
    offered: np.ndarray,
    target: Target,
    confidence: float | None,
) -> np.ndarray:
    """[interval, queue]: each cell's ``Verdict``: its mean service level (and
    abandonment) against the targets, and with ``confidence`` also the share of days on
    which both held; MEETS where no target applies."""
    v = verdict_at_least(r_sl, target.sl_target)
    if target.max_abandon is not None:
        v = np.minimum(v, verdict_at_most(r_ab, target.max_abandon))
    if confidence is not None:
        v = np.minimum(v, verdict_share(_meets(r_sl, r_ab, target), confidence))
    applies = offered.mean(axis=0) >= MIN_CALLS
    return np.asarray(np.where(applies, v, Verdict.MEETS), dtype=np.int8)


def _meets(sl: np.ndarray, abandon: np.ndarray, target: Target) -> np.ndarray:
    """Where the service level and abandonment meet the targets (no calls: met)."""
    cap = 1.0 if target.max_abandon is None else target.max_abandon
    return np.asarray(
        (np.nan_to_num(sl, nan=1.0) >= target.sl_target - 1e-12)
        & (np.nan_to_num(abandon, nan=0.0) <= cap + 1e-12)
    )


@dataclass(frozen=True, slots=True)
class ErlangStart:
    """The Erlang plan of a scenario's day: per queue, and per profile (``agents``)."""

    profiles: list[Profile]
    starts: list[str]  # each interval's start, HH:MM
    interval_min: int
    load: Load
    need: np.ndarray  # [interval, queue] Erlang requirement of each queue
    agents: np.ndarray  # [profile, interval]


def erlang_start(s: Scenario, target: Target) -> ErlangStart:
    target.check()
    plan = build_plan(s)
    days = {d for d, _ in plan.interval_labels()}
    if len(days) > 1:
        raise InputError(
            f"staffing plans one day: the horizon spans {len(days)} days", field="horizon"
        )
    starts = [hhmm for _, hhmm in plan.interval_labels()]
    if starts != sorted(starts):  # on_duty counts are times of one calendar day
        h = s.horizon
        raise InputError(
            f"staffing plans hours of one calendar day: the horizon {h.start}-{h.end} runs "
            "past midnight (plan the hours before and after it as two scenarios)",
            field="horizon",
        )
    profs = profiles(s)
    unserved = [q.name for j, q in enumerate(s.queues) if not any(j in p.queues for p in profs)]
    if unserved:
        raise InputError(f"no agent group has the skills of queue {unserved[0]!r}")
    load = offered_load(plan)
    n_i, n_q = load.rate.shape
    need = np.zeros((n_i, n_q), dtype=int)
    for i in range(n_i):
        for j in range(n_q):
            need[i, j] = _erlang_target(
                load.rate[i, j], load.aht_s[i, j], load.patience_s[i, j], target
            )
    return ErlangStart(
        profs, starts, s.horizon.interval_min, load, need, _split(s, profs, need, load)
    )


@dataclass(frozen=True, slots=True)
class StaffPlan:
    start: ErlangStart
    erlang: Round  # the Erlang plan, simulated on the search's days
    best: Round  # the search's cheapest plan meeting every cell (or its last), on its days
    fresh: Round  # the final plan on fresh days: the figures to report
    rounds: int
    checks: int  # measurements on fresh days
    safe_side: int  # cells still not sure at ``most_days`` (each got an agent more)
    fresh_added: int  # agent-intervals added where fresh days did not confirm a cell
    most_days: int
    scenario: Scenario  # staffed by ``fresh.agents``
    met: bool  # every interval surely meets its targets on the fresh days


def simulate_days(
    scenarios: list[Scenario],
    days: Days,
    run_on: Executor,
    progress: Callable[[int], None] | None = None,
) -> list[list[ReplicationStats]]:
    """Each scenario's replications on ``days``, in their order (one batch of jobs)."""
    k = len(days.segments)
    jobs = [Job(x.model_dump_json(), seed, n) for x in scenarios for seed, n in days.segments]
    out = run_on.run(jobs, progress)
    return [
        [rep for reps in out[i * k : (i + 1) * k] for rep in reps] for i in range(len(scenarios))
    ]


def simulate_cells(
    scenarios: list[Scenario],
    days: Days,
    run_on: Executor,
    progress: Callable[[int], None] | None = None,
) -> list[list[CellCounts]]:
    """``simulate_days``, each day's counts per (interval, queue) cell only: all that a
    verdict reads (``analytics.cells``), at a fraction of the whole reduction's cost."""
    k = len(days.segments)
    jobs = [Job(x.model_dump_json(), seed, n) for x in scenarios for seed, n in days.segments]
    out = run_on.run_cells(jobs, progress)
    return [
        [rep for reps in out[i * k : (i + 1) * k] for rep in reps] for i in range(len(scenarios))
    ]


def measure(
    staffed: Scenario,
    agents: np.ndarray,
    target: Target,
    run_on: Executor,
    *,
    days: Days,
    confidence: float | None = None,
    progress: Callable[[int], None] | None = None,
    previous: Round | None = None,
) -> Round:
    """Simulate a staffed scenario on ``days`` and judge every (interval, queue) cell;
    ``previous``: the same plan on the first of those days (only the rest is simulated)."""
    done = 0 if previous is None else len(previous.days.segments)
    [reps] = simulate_cells([staffed], Days(days.segments[done:]), run_on, progress)
    m, every = cell_samples(reps), cell_samples(reps, by_queue=False)
    parts = [m["service_level"], m["abandon_rate"], m["offered"], every["service_level"],
             every["abandon_rate"]]  # fmt: skip
    if previous is not None:
        had = (previous.sl, previous.abandon, previous.offered, previous.sl_all,
               previous.abandon_all)  # fmt: skip
        parts = [np.concatenate([a, b]) for a, b in zip(had, parts, strict=True)]
    sl, ab, offered, sl_all, ab_all = parts
    verdict = _verdicts(sl, ab, offered, target, confidence)
    return Round(agents.copy(), days, verdict, sl, ab, offered, sl_all, ab_all)


def measure_surely(
    staffed: Scenario,
    agents: np.ndarray,
    target: Target,
    run_on: Executor,
    *,
    days: Days,
    most: int,
    confidence: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> Round:
    """``measure``, doubling the days while a cell is not sure, up to ``most`` days
    (sequential sampling)."""
    r = measure(staffed, agents, target, run_on, days=days, confidence=confidence,
                progress=progress)  # fmt: skip
    while (r.verdict == Verdict.NOT_SURE).any() and r.days.count < most:
        r = measure(staffed, agents, target, run_on, days=r.days.more(most),
                    confidence=confidence, progress=progress, previous=r)  # fmt: skip
    return r


def staff_by_simulation(
    s: Scenario,
    target: Target,
    run_on: Executor,
    *,
    replications: int = 20,
    seed: int = 1,
    confidence: float | None = None,
    progress: Callable[[int], None] | None = None,
    on_round: Callable[[str, Round], None] | None = None,
) -> StaffPlan:
    """The search (module docstring); ``on_round`` is told each measured plan, with
    what it was ("round 3", "fresh days, check 1")."""
    if confidence is not None and not 0 < confidence < 1:
        raise InputError(f"{confidence!r} is not within (0, 1)", field="confidence")
    if not 2 <= replications <= 10_000:
        raise InputError(f"{replications} is not from 2 to 10,000", field="replications")
    start = erlang_start(s, target)
    profs, starts, load, agents = start.profiles, start.starts, start.load, start.agents
    refuse_errors(check_scenario(with_plan(s, profs, agents, starts), warnings=False))
    most = DAYS_GROWTH * replications

    def evaluate(agents: np.ndarray, days: Days, what: str) -> Round:
        staffed = with_plan(s, profs, agents, starts)
        r = measure_surely(staffed, agents, target, run_on, days=days, most=most,
                           confidence=confidence, progress=progress)  # fmt: skip
        if on_round:
            on_round(what, r)
        return r

    first = evaluate(agents, Days.of(seed, replications), "round 1")
    current, best = first, first if first.ok else None
    # what each (profile, interval) has taught: the fewest agents not yet seen to miss
    # (one more than a count that was short), and the fewest seen to meet every queue
    floor = np.zeros_like(agents)
    ceiling = np.full_like(agents, np.iinfo(agents.dtype).max)
    rounds, safe_side = 1, 0  # safe side: cells still not sure at the most days
    while rounds < MAX_ROUNDS:
        cur = current.agents
        safe_side += _not_sure(current)
        step = _correction(current, load, target, confidence, profs)
        for i, j in zip(*np.nonzero(~current.passed), strict=True):
            p = _specialist(profs, j, cur[:, i], grow=True)
            floor[p, i] = max(floor[p, i], cur[p, i] + 1)
        met = current.passed.all(axis=1)  # [interval]
        ceiling[:, met] = np.minimum(ceiling[:, met], cur[:, met])
        grow = np.maximum(np.minimum(cur + step, ceiling), cur + 1)
        # a cut goes at most halfway down to a count known to miss (a bisection there)
        cut = np.maximum(cur + step, np.where(floor > 0, (cur + floor + 1) // 2, 0))
        proposed = np.where(step > 0, grow, np.where(step < 0, cut, cur))
        proposed = np.maximum(proposed, floor)
        if np.array_equal(proposed, cur):
            break
        rounds += 1
        current = evaluate(proposed, current.days, f"round {rounds}")
        if current.ok and (best is None or current.agents.sum() < best.agents.sum()):
            best = current
    found = best if best is not None else current
    # the winner again, on days the search never saw; where they do not confirm a cell,
    # an agent more, measured again on the same fresh days (days unfavourable to the
    # cells they moved: the figures err on the safe side)
    agents, added, checks = found.agents, 0, 0
    fresh_days = Days.fresh(seed, found.days.count)
    while True:
        checks += 1
        fresh = evaluate(agents, fresh_days, f"fresh days, check {checks}")
        if fresh.ok or checks == FRESH_CHECKS:
            break
        safe_side += _not_sure(fresh)
        more = np.zeros_like(agents)
        for i, j in zip(*np.nonzero(~fresh.passed), strict=True):
            more[_specialist(profs, j, agents[:, i], grow=True), i] = 1
        agents, added, fresh_days = agents + more, added + int(more.sum()), fresh.days
    sure = bool((fresh.by_interval(target, confidence) == Verdict.MEETS).all())
    return StaffPlan(start, first, found, fresh, rounds, checks, safe_side, added, most,
                     with_plan(s, profs, agents, starts), sure)  # fmt: skip


COST_FACTORS = (0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2)


def cost_curve(
    s: Scenario,
    found: StaffPlan,
    target: Target,
    run_on: Executor,
    *,
    factors: tuple[float, ...] = COST_FACTORS,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Cost as the staffing target: the final plan scaled by each factor (every profile
    and interval, rounded), each simulated on the plan's fresh days (common random
    numbers, and days the search never saw; factors that round to the same head counts
    run once); per factor the agent-hours, the day's service level and abandonment, the
    ``verdict`` of the day's figures against the targets (``analytics.verdict``), and
    the total cost a day (wages, abandons, waiting, less revenue) with its paired
    difference to the plan (factor 1). ``cheapest`` has the least total cost;
    ``cheapest_meeting_target`` the least among those whose day surely meets the
    targets, ``not_sure`` the cheaper ones whose CI straddles them."""
    from callsim.sim.run import scenario_costs  # here: sim.run builds on this module

    if s.costs is None:
        raise InputError("needs the scenario's costs block (wages, abandons, revenue)",
                         field="costs")  # fmt: skip
    start, plan, days = found.start, found.fresh.agents, found.fresh.days
    scaled: dict[bytes, tuple[float, np.ndarray]] = {}  # factors that round alike: once
    for f in sorted({1.0, *factors}, key=lambda f: f != 1.0):  # the plan itself first
        a = np.rint(plan * f).astype(plan.dtype)
        scaled.setdefault(a.tobytes(), (f, a))
    kept = sorted(scaled.values(), key=lambda fa: fa[0])
    factors = tuple(f for f, _ in kept)
    counts = [a for _, a in kept]
    staffed = [with_plan(s, start.profiles, a, start.starts) for a in counts]
    totals, verdicts, rows = [], [], []
    runs = simulate_days(staffed, days, run_on, progress)
    for f, a, x, reps in zip(factors, counts, staffed, runs, strict=True):
        c = scenario_costs(x, build_plan(x), reps)
        cost = np.asarray(c["per_day"]["samples"]["total_cost"], dtype=float)
        m = metric_samples(reps, (0, 1))
        sl, ab, off = (m[k][:, None, None] for k in ("service_level", "abandon_rate", "offered"))
        verdict = Verdict(int(_verdicts(sl, ab, off, target, None)[0, 0]))  # on the day
        totals.append(cost)
        verdicts.append(verdict)
        rows.append({
            "factor": f,
            "agent_hours": float(a.sum() * start.interval_min / 60),
            "service_level": ci_of(m["service_level"]),
            "abandon_rate": ci_of(m["abandon_rate"]),
            "verdict": verdict.label,
            "total_cost": ci_of(cost),
        })  # fmt: skip
    plan_at = factors.index(1.0)
    for row, cost in zip(rows, totals, strict=True):
        row["total_cost_diff"] = ci_of(cost - totals[plan_at])
    rank = sorted(range(len(rows)), key=lambda k: float(np.mean(totals[k])))
    meeting = [k for k in rank if verdicts[k] == Verdict.MEETS]
    cheaper = rank[: rank.index(meeting[0])] if meeting else rank
    return {
        "days": days.count,
        "seeds": days.seeds,
        "factors": rows,
        "cheapest": rows[rank[0]]["factor"],
        "cheapest_meeting_target": rows[meeting[0]]["factor"] if meeting else None,
        "not_sure": [rows[k]["factor"] for k in cheaper if verdicts[k] == Verdict.NOT_SURE],
    }


def _split(s: Scenario, profs: list[Profile], need: np.ndarray, load: Load) -> np.ndarray:
    """Each queue's Erlang head count shared among the profiles serving it, in proportion
    to the scenario's head counts, each profile's split over its queues by their load."""
    heads = {g.name: g.count for g in s.agents}
    count = np.array([sum(heads[g] for g in p.groups) for p in profs], dtype=float)
    work = load.rate * load.aht_s  # [interval, queue] Erlangs
    n_i, n_q = need.shape
    out = np.zeros((len(profs), n_i))
    for i in range(n_i):
        share = np.zeros((len(profs), n_q))  # head count of profile p aimed at queue j
        for p, prof in enumerate(profs):
            served = list(prof.queues)
            total = work[i, served].sum()
            for j in served:
                share[p, j] = count[p] * (work[i, j] / total if total > 0 else 1 / len(served))
        for j in range(n_q):
            cap = share[:, j].sum()
            if cap > 0:
                out[:, i] += share[:, j] / cap * need[i, j]
    return np.ceil(out - 1e-9).astype(int)


def _not_sure(r: Round) -> int:
    return int((r.verdict == Verdict.NOT_SURE).sum())


def _specialist(profs: list[Profile], queue: int, now: np.ndarray, *, grow: bool) -> int:
    """The profile that takes a change of queue ``queue``'s head count: the one serving
    the fewest queues (when cutting: of those with agents), then the largest."""
    serving = [p for p, prof in enumerate(profs) if queue in prof.queues]
    if not grow:
        serving = [p for p in serving if now[p] > 0] or serving
    return min(serving, key=lambda p: (len(profs[p].queues), -now[p], p))


def _correction(
    r: Round, load: Load, target: Target, confidence: float | None, profs: list[Profile]
) -> np.ndarray:
    """Head counts to add (or take) per profile and interval: in each cell with a
    target, Erlang's requirement minus the Erlang-equivalent of what was simulated. The
    requirement is aimed where the verdict would be sure on these days: a CI half-width
    above the service-level target (below the abandonment cap); with ``confidence``, also
    where the share of days needed for a sure ``confidence`` share holds."""
    thr = target.sl_threshold_s
    grows = np.zeros_like(r.agents)
    cuts = np.full_like(r.agents, _NONE)  # the smallest cut asked of (profile, interval)
    n_i, n_q = load.rate.shape
    sl_mean, sl_half = mean_ci(r.sl)
    ab_mean, ab_half = mean_ci(r.abandon)
    share = None if confidence is None else share_needed(confidence, r.days.count)
    applies = r.offered.mean(axis=0) >= MIN_CALLS
    for i in range(n_i):
        for j in range(n_q):
            if not applies[i, j]:
                continue
            rate, aht, pat = load.rate[i, j], load.aht_s[i, j], load.patience_s[i, j]
            if rate <= 0 or aht <= 0:
                continue
            sl = float(np.nan_to_num(sl_mean[i, j], nan=1.0))
            ab = float(np.nan_to_num(ab_mean[i, j], nan=0.0))
            margin_sl = float(np.nan_to_num(sl_half[i, j], nan=0.0))
            margin_ab = float(np.nan_to_num(ab_half[i, j], nan=0.0))
            if share is not None:  # aim the mean so that share of days passes
                days = r.sl[:, i, j][~np.isnan(r.sl[:, i, j])]
                if len(days):
                    margin_sl = max(margin_sl, sl - float(np.quantile(days, 1 - share)))
                days_ab = r.abandon[:, i, j][~np.isnan(r.abandon[:, i, j])]
                if len(days_ab):
                    margin_ab = max(margin_ab, float(np.quantile(days_ab, share)) - ab)
            goal_sl = target.sl_target + margin_sl
            goal_ab = None if target.max_abandon is None else target.max_abandon - margin_ab
            # the agents between what was simulated and the goal, in Erlang-equivalents
            delta = _count(rate, aht, pat, thr, 0, min(goal_sl, 0.995)) - _count(
                rate, aht, pat, thr, 0, sl
            )
            if goal_ab is not None and not math.isinf(pat):
                want_ab = _count(rate, aht, pat, thr, 1, max(goal_ab, 0.001))
                delta = max(delta, want_ab - _count(rate, aht, pat, thr, 1, ab))
            delta = round(delta, 9)  # 1.0000000001 is one agent, not two
            p = _specialist(profs, j, r.agents[:, i], grow=delta > 0)
            if not r.passed[i, j]:
                grows[p, i] = max(grows[p, i], 1, math.ceil(delta))
            else:  # a whole agent's slack is cut; the least any queue of p allows
                cuts[p, i] = max(cuts[p, i], -math.floor(-delta) if delta <= -1 else 0)
    step = np.where(grows > 0, grows, np.where(cuts == _NONE, 0, cuts))
    for p in range(len(profs)):  # never below zero
        step[p] = np.maximum(step[p], -r.agents[p])
    return step


def with_shifts(s: Scenario, profs: list[Profile], plans: list[ShiftPlan]) -> Scenario:
    """The scenario staffed by shifts: one agent group per profile and shift worked."""
    groups = {g.name: g for g in s.agents}
    new = []
    of: dict[str, Profile] = {}  # each new group's profile
    for prof, shifts in zip(profs, plans, strict=True):
        first = groups[prof.groups[0]]
        for t, n in zip(shifts.types, shifts.counts, strict=True):
            end = t.start_min + t.length_min
            name = f"{prof.name}-{hhmm(t.start_min)}-{hhmm(end)}".replace(":", "")
            name += "".join(f"-b{hhmm(b)}".replace(":", "") for b, _ in t.breaks)
            shift = {"start": hhmm(t.start_min), "end": hhmm(end % 1440)}
            breaks = [{"start": hhmm(b), "minutes": m} for b, m in t.breaks]
            new.append(_group(first, name, int(n), shift=shift, breaks=breaks))
            of[name] = prof
    return _restaffed(s, new, of)
