"""A roster of named agents over 1 to 6 weeks, solved with OR-Tools CP-SAT.

Variables: ``x[a, d, s]``, agent *a* works shift *s* (a start and a length of the shift
rules) on day *d*; ``m[d, k]``, how many of the day's agents on a shift take its break
placement *k* (``callsim.analytics.shifts.shift_types``). Coverage counts each placement's
minutes on the phones per interval. At the end, each day's breaks are placed once more,
exactly, given its shifts (a small CP-SAT model a day); breaks never move a shift, so
the rules still hold. The optimality gap reported is that of the main model.

Hard rules (every roster returned keeps them):

- at most one shift a day, within the agent's availability on that weekday;
- paid hours of each week within ``hours_per_week`` +- ``hours_tolerance_h``;
- at least ``min_rest_h`` between the end of a shift and the next day's start;
- at most ``max_consecutive_days`` in a row (within the roster: the days before it are
  not known).

Soft, in this order of weight (a lower one never costs a higher one):

1. coverage: agent-minutes on the phones short of the requirement (minutes on the phones
   per interval, breaks left out, ``callsim.analytics.shifts.coverage``);
2. weekends fairly shared: each agent available at weekends works the even share of
   the weekend shifts, rounded down or up (the covering programme's weekend shifts
   shared among them); each weekend day off that share costs;
3. preferences: each day off wanted that is worked, each shift starting outside the
   agent's ``prefer_start``.

The first stage starts from a roster keeping the hard rules alone (found in a moment): a
complete hint that CP-SAT improves, where a first roster with coverage can take it
longer than its time limit.

Every hard rule binds one agent alone, so an input with no roster has an agent with no
roster of their own: ``roster`` then finds and names them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from callsim.analytics.shifts import ShiftType, coverage, plan_shifts, shift_types
from callsim.errors import CallsimError, InputError
from callsim.plan.people import People, Person, span_minutes
from callsim.plan.requirement import WEEKDAYS

MAX_WEEKS = 6
W_SHORT = 10_000  # an agent-minute short
W_WEEKEND = 100  # a weekend day of spread between agents
W_PREFERENCE = 1  # a preference not met


class RosterError(CallsimError):
    """The solver found no roster within its time limit (the input may have one)."""


@dataclass(frozen=True, slots=True)
class Work:
    agent: str
    day: date
    shift: ShiftType

    @property
    def paid_h(self) -> float:
        return self.shift.length_min / 60


@dataclass(frozen=True, slots=True)
class AgentSummary:
    agent: str
    contract_h: float  # a week
    paid_h_by_week: tuple[float, ...]
    days: int
    weekend_days: int
    preferences: int  # asked: days off wanted in the roster + shifts with a preferred start
    preferences_met: int


@dataclass(frozen=True, slots=True)
class Roster:
    first: date
    days: int
    interval_min: int
    work: list[Work]
    required: np.ndarray  # [day, interval] agents
    scheduled: np.ndarray  # [day, interval] agents on the phones (fractions at breaks)
    agents: list[AgentSummary]
    status: str  # OPTIMAL or FEASIBLE (stopped at the time limit)
    objective: float
    bound: float
    wall_s: float

    @property
    def gap(self) -> float:
        """(objective - best bound) / objective: 0 when proven optimal."""
        return 0.0 if self.objective == 0 else (self.objective - self.bound) / self.objective

    @property
    def short_agent_h(self) -> float:
        short = np.maximum(self.required - self.scheduled, 0)
        return float(short.sum() * self.interval_min / 60)


def _allowed(person: Person, weekday: str, start: int, length: int) -> bool:
    if person.available is None:
        return True
    span = person.available.get(weekday)  # type: ignore[call-overload]
    if span is None:
        return False
    lo, hi = span_minutes(span)
    return lo <= start and start + length <= hi


def _preferred(person: Person, start: int) -> bool:
    if person.prefer_start is None:
        return True
    lo, hi = span_minutes(person.prefer_start)
    return lo <= start <= hi


def roster(
    people: People,
    first: date,
    required: np.ndarray,
    interval_min: int,
    *,
    time_limit_s: float = 30.0,
    workers: int = 2,
    seed: int = 1,
) -> Roster:
    """Roster ``people`` (those with the file's skill) from ``first`` over the days of
    ``required`` ([day, interval] agents on the 24-hour grid), a whole number of weeks."""
    days = required.shape[0]
    if days % 7 or not 1 <= days // 7 <= MAX_WEEKS:
        raise InputError(f"{days // 7!r} is not a whole number of weeks in 1..6", field="weeks")
    if time_limit_s <= 0:
        raise InputError(f"{time_limit_s!r} is not a positive number", field="time_limit_s")
    types = shift_types(people.shifts)
    grid = _Grid(types, interval_min)
    start = time_limit_s / 4
    rules_only = _solve(people, first, required, grid, start, workers, seed)
    if rules_only is None:
        for k, person in enumerate(people.agents):
            if person in people.rostered():
                alone = people.model_copy(update={"agents": [person]})
                if _solve(alone, first, required, grid, 10.0, workers, seed) is None:
                    raise InputError(_why(people, person, first, days, k))
        raise RosterError(
            f"no roster keeping the rules found within {start:g} s, a quarter of the time "
            "limit (every agent has one alone: give the solver more --time-limit-s)"
        )
    found = _solve(people, first, required, grid, time_limit_s - start, workers, seed,
                   hint=rules_only)  # fmt: skip
    if found is None:  # no time left to improve it: the rules-only roster, no gap known
        found = dataclasses.replace(rules_only, optimal=False, objective=math.nan,
                                    bound=math.nan)  # fmt: skip
    return _placed(people, first, required, grid, found, workers, seed)


class _Grid:
    """The shifts (start, length) and their types with breaks placed, on the interval grid."""

    def __init__(self, types: list[ShiftType], interval_min: int) -> None:
        self.types = types
        self.interval_min = interval_min
        self.base = sorted({(t.start_min, t.length_min) for t in types})
        self.of_base = [[k for k, t in enumerate(types) if (t.start_min, t.length_min) == b]
                        for b in self.base]  # fmt: skip
        starts = list(range(0, 1440, interval_min))
        # [interval, type]: whole minutes on the phones
        self.minutes = np.rint(coverage(types, starts, interval_min) * interval_min).astype(int)


@dataclass(frozen=True, slots=True)
class _Stage:
    worked: set[tuple[int, int, int]]  # (agent, day, shift)
    optimal: bool
    objective: float
    bound: float
    wall_s: float


def _why(people: People, person: Person, first: date, days: int, k: int) -> str:
    r = people.rules
    lengths = ", ".join(f"{h:g}" for h in people.shifts.lengths_h)
    avail = (
        "any day"
        if person.available is None
        else ", ".join(f"{d} {s}" for d, s in person.available.items()) or "no day"
    )
    return (
        f"agents[{k}] ({person.name}): no roster keeps {person.hours_per_week:g} h "
        f"+- {r.hours_tolerance_h:g} a week from {first.isoformat()} over "
        f"{days // 7} week{'s' * (days > 7)} with shifts of {lengths} h, available "
        f"{avail}, at most {r.max_consecutive_days} days in a row and {r.min_rest_h:g} h of "
        "rest (expected a contract the availability and the shift lengths can give)"
    )


def _solve(
    people: People,
    first: date,
    required: np.ndarray,
    grid: _Grid,
    time_limit_s: float,
    workers: int,
    seed: int,
    hint: _Stage | None = None,
) -> _Stage | None:
    """The first stage; without ``hint``, the hard rules alone (no coverage)."""
    from ortools.sat.python import cp_model  # ortools: imported when used

    rules = people.rules
    agents = people.rostered()
    days = required.shape[0]
    base = grid.base
    model = cp_model.CpModel()
    x: dict[tuple[int, int, int], Any] = {}
    for a, person in enumerate(agents):
        for d in range(days):
            weekday = WEEKDAYS[(first + timedelta(days=d)).weekday()]
            for s, (start, length) in enumerate(base):
                if _allowed(person, weekday, start, length):
                    x[a, d, s] = model.new_bool_var(f"x{a}_{d}_{s}")
    on_day: dict[tuple[int, int], list[Any]] = {}
    for (a, d, _), var in x.items():
        on_day.setdefault((a, d), []).append(var)
    penalties: list[Any] = []
    for a, person in enumerate(agents):
        for d in range(days):
            if on_day.get((a, d)):
                model.add_at_most_one(on_day[a, d])
        for w in range(days // 7):
            paid = sum(base[s][1] * var for (b, d, s), var in x.items()
                       if b == a and w * 7 <= d < w * 7 + 7)  # fmt: skip
            contract = round(person.hours_per_week * 60)
            slack = round(rules.hours_tolerance_h * 60)
            model.add_linear_constraint(paid, contract - slack, contract + slack)
        rest = round(rules.min_rest_h * 60)
        for d in range(days - 1):
            for s1, (start1, length1) in enumerate(base):
                if (a, d, s1) not in x:
                    continue
                gap = 1440 - start1 - length1  # to the next midnight
                too_soon = [x[a, d + 1, s2] for s2, (start2, _) in enumerate(base)
                            if (a, d + 1, s2) in x and gap + start2 < rest]  # fmt: skip
                if too_soon:
                    model.add(x[a, d, s1] + sum(too_soon) <= 1)
        span = rules.max_consecutive_days + 1
        for d in range(days - span + 1):
            window = [v for e in range(d, d + span) for v in on_day.get((a, e), [])]
            model.add(sum(window) <= rules.max_consecutive_days)
        wanted = set(person.days_off)
        for d in range(days):
            if first + timedelta(days=d) in wanted:
                penalties.extend(W_PREFERENCE * v for v in on_day.get((a, d), []))
            for s, (start, _) in enumerate(base):
                if (a, d, s) in x and not _preferred(person, start):
                    penalties.append(W_PREFERENCE * x[a, d, s])
    weekend = _weekend(people, first, days)
    # the weekend days each agent available at weekends would work if the covering
    # programme's weekend shifts were shared evenly: days off it or beyond it are penalised
    # agent by agent (a spread of the most and the fewest moved only at its two ends)
    sharing = [a for a, p in enumerate(agents)
               if p.available is None or set(p.available) & set(rules.weekend)]  # fmt: skip
    ideal = _ideal(people, required, grid)
    shifts = sum(c for (d, _), c in ideal.items() if d in weekend)
    share = shifts / len(sharing) if sharing else 0.0
    for a in sharing:
        worked = sum(v for d in weekend for v in on_day.get((a, d), []))
        off_share = model.new_int_var(0, days, f"off_share{a}")
        model.add(off_share >= worked - math.ceil(share))
        model.add(off_share >= math.floor(share) - worked)
        penalties.append(W_WEEKEND * off_share)
        if hint is not None:
            had = sum((b, d, s) in hint.worked for (b, d, s) in x if b == a and d in weekend)
            model.add_hint(off_share, max(had - math.ceil(share), math.floor(share) - had, 0))
    by_shift: dict[tuple[int, int], list[Any]] = {}
    for (_, d, s), var in x.items():
        by_shift.setdefault((d, s), []).append(var)
    n = {}  # agents working a shift on a day: coverage sums these, not the agents
    for (d, s), on in by_shift.items():
        n[d, s] = model.new_int_var(0, len(on), f"n{d}_{s}")
        model.add(n[d, s] == sum(on))
    if hint is None:  # the shifts the covering programme would have, as far as the rules allow
        for (d, s), count in ideal.items():
            missing = model.new_int_var(0, count, f"missing{d}_{s}")
            model.add(missing >= count - n[d, s] if (d, s) in n else missing >= count)
            penalties.append(W_SHORT * base[s][1] * missing)
    else:
        for (d, s), var in n.items():
            model.add_hint(var, sum((a, d, s) in hint.worked for a in range(len(agents))))
        m = {}  # agents of a shift taking each of its break placements
        hinted: dict[tuple[int, int], int] = {}
        for (d, s), total in n.items():
            ks = grid.of_base[s]
            for k in ks:
                m[d, k] = model.new_int_var(0, len(by_shift[d, s]), f"m{d}_{k}")
            model.add(sum(m[d, k] for k in ks) == total)
            many = sum((a, d, s) in hint.worked for a in range(len(agents)))
            for k in ks:
                hinted[d, k] = many if k == ks[0] else 0
                model.add_hint(m[d, k], hinted[d, k])
        for d in range(days):
            for i in np.nonzero(required[d] > 0)[0]:
                need = int(required[d, i]) * grid.interval_min
                short = model.new_int_var(0, need, f"short{d}_{i}")
                on = [(int(grid.minutes[i, k]), var) for (e, k), var in m.items()
                      if e == d and grid.minutes[i, k] > 0]  # fmt: skip
                model.add(sum(c * var for c, var in on) + short >= need)
                got = sum(int(grid.minutes[i, k]) * c for (e, k), c in hinted.items() if e == d)
                model.add_hint(short, max(need - got, 0))
                penalties.append(W_SHORT * short)
        for key, var in x.items():
            model.add_hint(var, key in hint.worked)
    model.minimize(sum(penalties))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    # probing took seconds of presolve on the bank's two weeks, for no better roster
    solver.parameters.cp_model_probing_level = 0
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return _Stage(
        worked={key for key, var in x.items() if solver.value(var)},
        optimal=status == cp_model.OPTIMAL,
        objective=float(solver.objective_value),
        bound=float(solver.best_objective_bound),
        wall_s=float(solver.wall_time),
    )


def _ideal(people: People, required: np.ndarray, grid: _Grid) -> dict[tuple[int, int], int]:
    """(day, shift) -> agents: each day's fewest paid hours covering its requirement
    (``callsim.analytics.shifts.plan_shifts``, the set-covering programme)."""
    starts = list(range(0, 1440, grid.interval_min))
    out: dict[tuple[int, int], int] = {}
    plans: dict[bytes, Any] = {}
    for d in range(required.shape[0]):
        if not required[d].any():
            continue
        key = required[d].tobytes()
        if key not in plans:
            plans[key] = plan_shifts(required[d], starts, grid.interval_min, people.shifts)
        plan = plans[key]
        for t, count in zip(plan.types, plan.counts, strict=True):
            s = grid.base.index((t.start_min, t.length_min))
            out[d, s] = out.get((d, s), 0) + int(count)
    return out


def _weekend(people: People, first: date, days: int) -> list[int]:
    return [d for d in range(days)
            if WEEKDAYS[(first + timedelta(days=d)).weekday()] in people.rules.weekend]  # fmt: skip


def _breaks(
    counts: dict[int, int], need: np.ndarray, grid: _Grid, workers: int, seed: int
) -> dict[int, list[int]]:
    """One day's breaks: shift -> the type of each of its agents, the least shortfall."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    m = {k: model.new_int_var(0, n, f"m{k}") for s, n in counts.items() for k in grid.of_base[s]}
    for s, n in counts.items():
        model.add(sum(m[k] for k in grid.of_base[s]) == n)
    shorts = []
    for i in np.nonzero(need > 0)[0]:
        want = int(need[i]) * grid.interval_min
        short = model.new_int_var(0, want, f"short{i}")
        model.add(sum(int(grid.minutes[i, k]) * v for k, v in m.items()) + short >= want)
        shorts.append(short)
    model.minimize(sum(shorts))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 5.0
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.solve(model)  # always feasible: every placement of every shift is allowed
    return {s: [k for k in grid.of_base[s] for _ in range(solver.value(m[k]))]
            for s in counts}  # fmt: skip


def _placed(
    people: People,
    first: date,
    required: np.ndarray,
    grid: _Grid,
    stage: _Stage,
    workers: int,
    seed: int,
) -> Roster:
    agents = people.rostered()
    days = required.shape[0]
    work: list[Work] = []
    scheduled = np.zeros(required.shape)
    for d in range(days):
        mine = sorted((s, a) for (a, e, s) in stage.worked if e == d)
        counts: dict[int, int] = {}
        for s, _ in mine:
            counts[s] = counts.get(s, 0) + 1
        placed = _breaks(counts, required[d], grid, workers, seed)
        for s, a in mine:
            k = placed[s].pop()
            work.append(Work(agents[a].name, first + timedelta(days=d), grid.types[k]))
            scheduled[d] += grid.minutes[:, k] / grid.interval_min
    weekend = _weekend(people, first, days)
    summaries = []
    for person in agents:
        mine_w = [w for w in work if w.agent == person.name]
        by_week = tuple(
            sum(w.paid_h for w in mine_w if (w.day - first).days // 7 == k)
            for k in range(days // 7)
        )
        in_roster = [d for d in person.days_off if 0 <= (d - first).days < days]
        worked_days = {w.day for w in mine_w}
        met = sum(d not in worked_days for d in in_roster)
        starts_ok = sum(_preferred(person, w.shift.start_min) for w in mine_w)
        asked = len(in_roster) + (len(mine_w) if person.prefer_start else 0)
        summaries.append(
            AgentSummary(
                agent=person.name,
                contract_h=person.hours_per_week,
                paid_h_by_week=by_week,
                days=len(mine_w),
                weekend_days=sum((w.day - first).days in weekend for w in mine_w),
                preferences=asked,
                preferences_met=met + (starts_ok if person.prefer_start else 0),
            )
        )
    return Roster(
        first=first,
        days=days,
        interval_min=grid.interval_min,
        work=sorted(work, key=lambda w: (w.day, w.shift.start_min, w.agent)),
        required=required,
        scheduled=scheduled,
        agents=summaries,
        status="OPTIMAL" if stage.optimal else "FEASIBLE",
        objective=stage.objective,
        bound=stage.bound,
        wall_s=stage.wall_s,
    )
