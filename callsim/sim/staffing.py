"""Staffing by simulation: the fewest agents per interval and agent profile meeting the
targets under the scenario's own routing (``callsim staff SCENARIO --simulate``).

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
3. **Correction.** In every (interval, queue) cell, the simulated service level (and
   abandonment) is turned into an Erlang-equivalent head count, the head count Erlang A
   would need for the target is found, and the difference is added to (or taken from)
   the cell's specialist profile (the one serving the fewest queues). A cell that missed
   the target gets at least one more agent; a cell that once missed is not cut below the
   count that met it. Rounds repeat until nothing changes; the cheapest plan that met
   every cell is the answer.

``confidence`` P: a cell passes when the target held on a P share of the simulated days,
not only on average (the correction then aims at the mean that gives that share).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from callsim.analytics.erlang import erlang_a, erlang_c
from callsim.analytics.metrics import ci_of, mean_ci, metric_samples
from callsim.analytics.shifts import ShiftPlan
from callsim.analytics.staffing import Target, required_agents
from callsim.errors import InputError
from callsim.scenario import Scenario
from callsim.scenario.model import AgentGroup
from callsim.sim.check import check_scenario, refuse_errors
from callsim.sim.execute import Executor, Job
from callsim.sim.plan import SimPlan, build_plan

MAX_ROUNDS = 12
_NONE = -(10**9)  # no cut asked
MIN_CALLS = 1.0  # cells with fewer calls a day on average have no target


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
    for stream in plan.streams:
        j = index[stream.queue]
        for i in range(n):
            lo = plan.count_from_s + i * plan.interval_s
            hi = lo + plan.interval_s
            calls = sum(r * max(0.0, min(b, hi) - max(a, lo)) for a, b, r in stream.pieces)
            lam = calls / plan.interval_s
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
    agents: np.ndarray  # [profile, interval]
    passed: np.ndarray  # [interval, queue] bool (True where no target applies)
    sl: np.ndarray  # [replication, interval, queue]
    abandon: np.ndarray
    offered: np.ndarray
    sl_all: np.ndarray  # [replication, interval], all queues together
    abandon_all: np.ndarray

    def days_met(self, target: Target) -> np.ndarray:
        """[interval]: the share of simulated days on which every queue with calls met
        the targets in that interval."""
        ok = _meets(self.sl, self.abandon, target)
        applies = self.offered.mean(axis=0) >= MIN_CALLS  # [interval, queue]
        return np.asarray((ok | ~applies).all(axis=2).mean(axis=0))

    @property
    def ok(self) -> bool:
        return bool(self.passed.all())

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


def _passes(
    r_sl: np.ndarray,
    r_ab: np.ndarray,
    offered: np.ndarray,
    target: Target,
    confidence: float | None,
) -> np.ndarray:
    """[interval, queue]: the target holds (on average, or on a ``confidence`` share of days)."""
    applies = offered.mean(axis=0) >= MIN_CALLS
    if confidence is None:
        ok = _meets(mean_ci(r_sl)[0], mean_ci(r_ab)[0], target)
    else:
        ok = _meets(r_sl, r_ab, target).mean(axis=0) >= confidence - 1e-12
    return np.asarray(ok | ~applies)


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
    erlang: Round  # the Erlang plan, simulated
    best: Round  # the cheapest plan meeting every cell (or the last, if none did)
    rounds: int
    scenario: Scenario  # staffed by ``best``
    met: bool


def measure(
    staffed: Scenario,
    agents: np.ndarray,
    target: Target,
    run_on: Executor,
    *,
    replications: int,
    seed: int,
    confidence: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> Round:
    """Simulate a staffed scenario's day and judge every (interval, queue) cell."""
    [reps] = run_on.run([Job(staffed.model_dump_json(), seed, replications)], progress)
    m, every = metric_samples(reps, None), metric_samples(reps, (1,))
    r_sl, r_ab, offered = m["service_level"], m["abandon_rate"], m["offered"]
    return Round(
        agents.copy(),
        _passes(r_sl, r_ab, offered, target, confidence),
        r_sl,
        r_ab,
        offered,
        every["service_level"],
        every["abandon_rate"],
    )


def staff_by_simulation(
    s: Scenario,
    target: Target,
    run_on: Executor,
    *,
    replications: int = 20,
    seed: int = 1,
    confidence: float | None = None,
    progress: Callable[[int], None] | None = None,
    on_round: Callable[[int, Round], None] | None = None,
) -> StaffPlan:
    if confidence is not None and not 0 < confidence < 1:
        raise InputError(f"{confidence!r} is not within (0, 1)", field="confidence")
    if not 2 <= replications <= 10_000:
        raise InputError(f"{replications} is not from 2 to 10,000", field="replications")
    start = erlang_start(s, target)
    profs, starts, load, agents = start.profiles, start.starts, start.load, start.agents
    refuse_errors(check_scenario(with_plan(s, profs, agents, starts), warnings=False))

    def evaluate(agents: np.ndarray) -> Round:
        staffed = with_plan(s, profs, agents, starts)
        return measure(
            staffed,
            agents,
            target,
            run_on,
            replications=replications,
            seed=seed,
            confidence=confidence,
            progress=progress,
        )

    first = evaluate(agents)
    current, best = first, first if first.ok else None
    # what each (profile, interval) has taught: the fewest agents not yet seen to miss
    # (one more than a count that missed), and the fewest seen to meet every queue
    floor = np.zeros_like(agents)
    ceiling = np.full_like(agents, np.iinfo(agents.dtype).max)
    rounds = 1
    if on_round:
        on_round(rounds, first)
    while rounds < MAX_ROUNDS:
        cur = current.agents
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
        current = evaluate(proposed)
        rounds += 1
        if on_round:
            on_round(rounds, current)
        if current.ok and (best is None or current.agents.sum() < best.agents.sum()):
            best = current
    found = best if best is not None else current
    return StaffPlan(
        start, first, found, rounds, with_plan(s, profs, found.agents, starts), best is not None
    )


COST_FACTORS = (0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2)


def cost_curve(
    s: Scenario,
    found: StaffPlan,
    target: Target,
    run_on: Executor,
    *,
    replications: int,
    seed: int,
    factors: tuple[float, ...] = COST_FACTORS,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Cost as the staffing target: the simulated plan scaled by each factor (every
    profile and interval, rounded), each simulated on the same days (common random
    numbers; factors that round to the same head counts run once); per factor the
    agent-hours, the day's service level and abandonment, and
    the total cost a day (wages, abandons, waiting, less revenue) with its paired
    difference to the plan (factor 1). ``cheapest`` has the least total cost;
    ``cheapest_meeting_target`` the least among those whose day meets the targets."""
    from callsim.sim.run import scenario_costs  # here: sim.run builds on this module

    if s.costs is None:
        raise InputError("needs the scenario's costs block (wages, abandons, revenue)",
                         field="costs")  # fmt: skip
    start, plan = found.start, found.best.agents
    scaled: dict[bytes, tuple[float, np.ndarray]] = {}  # factors that round alike: once
    for f in sorted({1.0, *factors}, key=lambda f: f != 1.0):  # the plan itself first
        a = np.rint(plan * f).astype(plan.dtype)
        scaled.setdefault(a.tobytes(), (f, a))
    kept = sorted(scaled.values(), key=lambda fa: fa[0])
    factors = tuple(f for f, _ in kept)
    counts = [a for _, a in kept]
    staffed = [with_plan(s, start.profiles, a, start.starts) for a in counts]
    jobs = [Job(x.model_dump_json(), seed, replications) for x in staffed]
    totals, days, rows = [], [], []
    for f, a, x, reps in zip(factors, counts, staffed, run_on.run(jobs, progress), strict=True):
        c = scenario_costs(x, build_plan(x), reps)
        cost = np.asarray(c["per_day"]["samples"]["total_cost"], dtype=float)
        m = metric_samples(reps, (0, 1))
        sl, ab = np.nanmean(m["service_level"]), np.nanmean(m["abandon_rate"])
        totals.append(cost)
        days.append(bool(_meets(np.array([sl]), np.array([ab]), target)[0]))  # on the day
        rows.append({
            "factor": f,
            "agent_hours": float(a.sum() * start.interval_min / 60),
            "service_level": ci_of(m["service_level"]),
            "abandon_rate": ci_of(m["abandon_rate"]),
            "total_cost": ci_of(cost),
        })  # fmt: skip
    plan_at = factors.index(1.0)
    for row, cost in zip(rows, totals, strict=True):
        row["total_cost_diff"] = ci_of(cost - totals[plan_at])
    rank = sorted(range(len(rows)), key=lambda k: float(np.mean(totals[k])))
    meeting = [k for k in rank if days[k]]
    return {
        "factors": rows,
        "cheapest": rows[rank[0]]["factor"],
        "cheapest_meeting_target": rows[meeting[0]]["factor"] if meeting else None,
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
    target, Erlang's requirement minus the Erlang-equivalent of what was simulated."""
    thr = target.sl_threshold_s
    grows = np.zeros_like(r.agents)
    cuts = np.full_like(r.agents, _NONE)  # the smallest cut asked of (profile, interval)
    n_i, n_q = load.rate.shape
    sl_mean, _ = mean_ci(r.sl)
    ab_mean, _ = mean_ci(r.abandon)
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
            goal_sl, goal_ab = target.sl_target, target.max_abandon
            if confidence is not None:  # aim the mean so the P share of days passes
                days = r.sl[:, i, j][~np.isnan(r.sl[:, i, j])]
                if len(days):
                    goal_sl += max(0.0, sl - float(np.quantile(days, 1 - confidence)))
                if goal_ab is not None:
                    days_ab = r.abandon[:, i, j][~np.isnan(r.abandon[:, i, j])]
                    if len(days_ab):
                        goal_ab -= max(0.0, float(np.quantile(days_ab, confidence)) - ab)
            delta = math.ceil(_count(rate, aht, pat, thr, 0, min(goal_sl, 0.995))) - _count(
                rate, aht, pat, thr, 0, sl
            )
            if goal_ab is not None and not math.isinf(pat):
                want_ab = math.ceil(_count(rate, aht, pat, thr, 1, max(goal_ab, 0.001)))
                delta = max(delta, want_ab - _count(rate, aht, pat, thr, 1, ab))
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
            name = f"{prof.name}-{_hhmm(t.start_min)}-{_hhmm(end)}".replace(":", "")
            name += "".join(f"-b{_hhmm(b)}".replace(":", "") for b, _ in t.breaks)
            shift = {"start": _hhmm(t.start_min), "end": _hhmm(end % 1440)}
            breaks = [{"start": _hhmm(b), "minutes": m} for b, m in t.breaks]
            new.append(_group(first, name, int(n), shift=shift, breaks=breaks))
            of[name] = prof
    return _restaffed(s, new, of)


def _hhmm(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"
