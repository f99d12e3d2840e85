"""What a call log says, per day and interval, and the fits a scenario is built from:
the pools of agents and call types (who served what), arrivals, talk times per call type
(lognormal, with its Kolmogorov-Smirnov distance), patience (Kaplan-Meier from waits
censored by answers, an exponential tail), retrials (callers identified by their ids),
after-call work (Kaplan-Meier of the time an agent was not ready after a call, censored
when the queue emptied) and the agents at work per pool."""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from callsim.analytics import kpi
from callsim.calibrate.log import CallLog, LoggedCall
from callsim.errors import InputError

STAFF_STEP_MIN = 5  # the grid of the staffing written to scenarios
WORK_GAP_S = 7200.0  # a longer gap between an agent's calls is time away
AFTER_CALL_S = 20.0  # after a call, the agent is at work this long (after-call work)
RETRIAL_WINDOW_S = 3600.0  # a call within this after an abandoned one is its retrial
TAIL_AT_RISK = 30  # the Kaplan-Meier curve is kept while this many still wait
QUANTILES = 200  # values of an empirical distribution written to the scenario
OWN_SHARE = 0.10  # a type that is this share of an agent's answered calls is one of theirs
OWN_MIN_CALLS = 10  # ... and this many of them (a few calls say nothing)
SKILL_SHARE = 0.02  # a type that is this share of an agent's answered calls is a skill
SKILL_MIN_CALLS = 5  # ... and this many of them
SKILL_TYPE_SHARE = 0.05  # ... or this share of the type's answered calls (a rare type)
DAY_SKILL_EXPECTED = 3.0  # a skill not used in a day was off if it would have shown this often
PRIORITY_CREDIT_S = 90.0  # the bank's queue credit per priority level (its documentation)
MIN_PRIORITY_PAIRS = 10  # a day's queue discipline is read from this many overtaking chances
PRIORITY_MARGIN = 0.25  # priority: a higher priority overtakes this much more than an equal
DAY_TYPES = {
    6: "weekday",
    0: "weekday",
    1: "weekday",
    2: "weekday",
    3: "weekday",
    4: "friday",
    5: "saturday",
}  # Sunday to Thursday: the working days


def day_type(d: date) -> str:
    return DAY_TYPES[d.weekday()]


def select_days(log: CallLog, spec: str) -> list[date]:
    """``weekdays`` (Sunday to Thursday), ``friday``, ``saturday``, ``all``, or a comma
    list of dates and ranges (``1999-10-03..1999-10-07``); only days the log has."""
    have = log.days
    words = {"weekdays": "weekday", "friday": "friday", "saturday": "saturday"}
    if spec == "all":
        chosen = have
    elif spec in words:
        chosen = [d for d in have if day_type(d) == words[spec]]
    else:
        wanted: set[date] = set()
        for part in spec.split(","):
            lo, _, hi = part.strip().partition("..")
            try:
                a = datetime.strptime(lo, "%Y-%m-%d").date()
                b = datetime.strptime(hi, "%Y-%m-%d").date() if hi else a
            except ValueError:
                raise InputError(
                    f"--days: {part.strip()!r} is not a date YYYY-MM-DD, a range "
                    "A..B, weekdays, friday, saturday or all"
                ) from None
            wanted.update(d for d in have if a <= d <= b)
        chosen = sorted(wanted)
    if not chosen:
        raise InputError(
            f"--days: {spec!r} selects none of the log's days ({have[0]} to {have[-1]})"
        )
    return chosen


@dataclass(frozen=True, slots=True)
class Discipline:
    """A day's queue discipline as its calls show it: of the pairs of calls of one type
    that both queued and were answered, the later arriving while the earlier waited and
    less than ``PRIORITY_CREDIT_S`` per priority level after it, the share the later one
    was answered first, when it had a higher priority (``overtaken``, of ``pairs``) and
    when it had the same (``same``, skills and chance). Priorities were in effect when a
    higher priority overtook ``PRIORITY_MARGIN`` more often than an equal one; ``on`` is
    None when the day has fewer than ``MIN_PRIORITY_PAIRS`` such pairs (it cannot tell)."""

    pairs: int
    overtaken: float
    same: float

    @property
    def on(self) -> bool | None:
        if self.pairs < MIN_PRIORITY_PAIRS:
            return None
        return self.overtaken >= self.same + PRIORITY_MARGIN


def discipline(calls: list[LoggedCall]) -> Discipline:
    """The queue discipline of one day's ``calls`` (``Discipline``)."""
    by_type: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for c in calls:
        if c.answered and c.wait_s > 0:
            by_type[c.type].append((c.arrival_s, c.arrival_s + c.wait_s, c.priority))
    counts = {True: [0, 0], False: [0, 0]}  # higher priority later?: [overtook, pairs]
    for rows in by_type.values():
        rows.sort()
        for k, (arrived, answered, prio) in enumerate(rows):
            for later, later_answered, later_prio in rows[k + 1 :]:
                if later >= answered:
                    break
                if later_prio < prio:
                    continue
                higher = later_prio > prio
                credit = PRIORITY_CREDIT_S * (later_prio - prio) if higher else PRIORITY_CREDIT_S
                if later - arrived >= credit:
                    continue
                counts[higher][0] += later_answered < answered
                counts[higher][1] += 1
    (over, pairs), (same, n_same) = counts[True], counts[False]
    return Discipline(pairs, over / pairs if pairs else 0.0, same / n_same if n_same else 0.0)


@dataclass(frozen=True, slots=True)
class Frame:
    """The modelled day: intervals from ``start_min`` to ``end_min`` after midnight."""

    start_min: int
    end_min: int
    interval_min: int
    sl_threshold_s: float

    @property
    def n(self) -> int:
        return (self.end_min - self.start_min) // self.interval_min

    def index(self, arrival_s: float) -> int:
        i = int((arrival_s / 60 - self.start_min) // self.interval_min)
        return i if 0 <= i < self.n and arrival_s >= self.start_min * 60 else -1

    def slot_labels(self, slots: int) -> list[str]:
        """The start of each of ``slots`` equal slots of the frame, HH:MM."""
        width = (self.end_min - self.start_min) / slots
        return [
            f"{int(self.start_min + k * width) // 60:02d}:"
            f"{int(self.start_min + k * width) % 60:02d}"
            for k in range(slots)
        ]

    def labels(self) -> list[str]:
        """Each interval's start, HH:MM."""
        return self.slot_labels(self.n)


@dataclass(frozen=True, slots=True)
class Pools:
    """Who served what: call types joined into pools, each pool served by its own agents.

    An agent's own types are those that make up at least ``OWN_SHARE`` of the calls they
    answered, and at least ``OWN_MIN_CALLS`` of them. Types that are one agent's own
    belong to one pool (transitively: a union of the agents' sets). A type that is
    nobody's own (a rare type every agent took now and then) joins the pool whose agents
    answered most of it. An agent belongs to the pool of their own types (one with none:
    of the type they answered most).

    Within the pools, an agent's skills are the types of which they answered at least
    ``SKILL_MIN_CALLS`` calls, and these made up at least ``SKILL_SHARE`` of their
    answered calls or ``SKILL_TYPE_SHARE`` of the type's (a rare type's servers); a type
    that is nobody's skill is a skill of every agent who answered it. Agents with
    the same skills form an agent group; each type is a queue of its own.
    """

    served: dict[str, dict[str, int]]  # agent -> type -> answered calls
    types: dict[str, list[str]]  # pool -> its call types (pools ordered by calls answered)
    agents: dict[str, list[str]]  # pool -> its agents
    skills: dict[str, list[str]]  # agent -> the types they serve (their skills)
    groups: dict[str, list[str]]  # agent group (agents of one set of skills) -> its agents

    def group_skills(self, group: str) -> list[str]:
        return self.skills[self.groups[group][0]] if self.groups[group] else []

    def of_group(self, group: str) -> str:
        """The pool of the group's agents who answered most of its calls."""
        pools = Counter[str]()
        for a in self.groups[group]:
            pools[self.of_agent(a)] += sum(self.served.get(a, {}).values())
        return max(pools, key=lambda p: (pools[p], p)) if pools else self.names[0]

    @property
    def names(self) -> list[str]:
        return list(self.types)

    def of_type(self, t: str) -> str:
        for name, ts in self.types.items():
            if t in ts:
                return name
        return self.names[0]

    def of_agent(self, a: str) -> str:
        for name, agents in self.agents.items():
            if a in agents:
                return name
        return self.names[0]

    def outside_calls(self) -> int:
        """Answered calls taken by an agent of another pool than the call type's."""
        return sum(
            n
            for a, row in self.served.items()
            for t, n in row.items()
            if self.of_type(t) != self.of_agent(a)
        )


def infer_pools(calls: list[LoggedCall], own_share: float = OWN_SHARE) -> Pools:
    types = sorted({c.type for c in calls})
    served: dict[str, Counter[str]] = defaultdict(Counter)
    for c in calls:
        if c.answered and c.agent:
            served[c.agent][c.type] += 1
    parent = {t: t for t in types}

    def root(t: str) -> str:
        while parent[t] != t:
            t = parent[t]
        return t

    own: dict[str, set[str]] = {}
    for a, row in served.items():
        total = sum(row.values())
        own[a] = {t for t, n in row.items() if n >= max(own_share * total, OWN_MIN_CALLS)}
        if own[a]:
            first, *rest = sorted(own[a])
            for t in rest:
                parent[root(t)] = root(first)
    owned = {t for ts in own.values() for t in ts}
    groups: dict[str, set[str]] = defaultdict(set)
    for t in owned:
        groups[root(t)].add(t)
    if not groups:  # nobody answered enough of anything: one pool of every type
        groups[types[0]] = set()
    members: dict[str, list[str]] = {
        r: sorted(a for a in served if own[a] and root(next(iter(own[a]))) == r) for r in groups
    }
    for t in types:
        if t in owned:
            continue
        took = {r: sum(served[a][t] for a in members[r]) for r in groups}
        groups[max(groups, key=lambda r: (took[r], len(members[r]), r))].add(t)
    for a, row in served.items():  # an agent with no type of their own: their commonest's
        if not own[a]:
            t = max(sorted(row), key=lambda u: row[u])
            members[next(r for r in groups if t in groups[r])].append(a)
    of_type = Counter[str]()
    for row in served.values():
        of_type.update(row)
    skills: dict[str, set[str]] = {
        a: {
            t
            for t, n in row.items()
            if n >= SKILL_MIN_CALLS
            and (n >= SKILL_SHARE * sum(row.values()) or n >= SKILL_TYPE_SHARE * of_type[t])
        }
        for a, row in served.items()
    }
    for t in types:
        if not any(t in sk for sk in skills.values()):
            for a, row in served.items():
                if row[t] > 0:
                    skills[a].add(t)
    for a, row in served.items():
        if not skills[a]:
            skills[a] = {row.most_common(1)[0][0]}
    by_set: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for a in sorted(served):
        by_set[tuple(sorted(skills[a]))].append(a)
    set_load = {k: sum(sum(served[a].values()) for a in v) for k, v in by_set.items()}
    load = {r: sum(sum(served[a].values()) for a in members[r]) for r in groups}
    order = sorted(groups, key=lambda r: (-load[r], r))
    names = {r: _pool_name(groups[r], served, members[r]) for r in order}
    return Pools(
        {a: dict(row) for a, row in sorted(served.items())},
        {names[r]: sorted(groups[r]) for r in order},
        {names[r]: sorted(members[r]) for r in order},
        {a: sorted(skills[a]) for a in sorted(served)},
        {_name(k): by_set[k] for k in sorted(by_set, key=lambda k: (-set_load[k], k))},
    )


def day_pools(pools: Pools, calls: list[LoggedCall]) -> Pools:
    """The skills of one day, as its ``calls`` show them, within the period's ``pools``.
    Agents were given types for a day (in October, an agent took prospects on 4 of their
    19 days, internet calls on 1 of 15). An agent has that day every type they answered
    that day, and each of their period's skills (``pools``) that the day could not show
    missing: one they would have answered fewer than ``DAY_SKILL_EXPECTED`` calls of
    (their calls that day times the type's share of the calls answered by the day's
    agents who took it). Agents with the same skills form the day's agent groups."""
    served: dict[str, Counter[str]] = defaultdict(Counter)
    for c in calls:
        if c.answered and c.agent:
            served[c.agent][c.type] += 1
    share = {}
    for t in {t for row in served.values() for t in row}:
        takers = [row for row in served.values() if row[t] > 0]
        share[t] = sum(row[t] for row in takers) / sum(sum(row.values()) for row in takers)
    skills: dict[str, list[str]] = {}
    for a, row in served.items():
        total = sum(row.values())
        kept = {
            t
            for t in pools.skills.get(a, [])
            if row[t] > 0 or total * share.get(t, 0.0) < DAY_SKILL_EXPECTED
        }
        skills[a] = sorted(kept | set(row))
    by_set: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for a in sorted(served):
        by_set[tuple(skills[a])].append(a)
    load = {k: sum(sum(served[a].values()) for a in v) for k, v in by_set.items()}
    return Pools(
        {a: dict(row) for a, row in sorted(served.items())},
        pools.types,
        pools.agents,
        skills,
        {_name(k): by_set[k] for k in sorted(by_set, key=lambda k: (-load[k], k))},
    )


def queue_name(t: str) -> str:
    """The queue of call type ``t`` (each type has its own)."""
    return _name((t,))


def _name(types: tuple[str, ...]) -> str:
    return "_".join("".join(ch if ch.isalnum() else "_" for ch in t.lower()) for t in types)


def _pool_name(types: set[str], served: dict[str, Counter[str]], agents: list[str]) -> str:
    """A pool is named after its most answered type (lower case)."""
    calls = Counter({t: sum(served[a][t] for a in agents) for t in types})
    best = max(sorted(types), key=lambda t: calls[t])
    return "".join(ch if ch.isalnum() else "_" for ch in best.lower()) or "pool"


@dataclass
class Observed:
    """Per day and interval ([day, interval]) what the log shows."""

    days: list[date]
    types: list[str]
    arrivals: np.ndarray  # [day, interval, type]
    offered: np.ndarray
    answered: np.ndarray
    abandoned: np.ndarray
    within: np.ndarray  # answered within the threshold
    wait_answered_s: np.ndarray
    wait_abandoned_s: np.ndarray
    talk_s: np.ndarray  # summed talk of answered calls
    agents_seen: np.ndarray  # distinct agents talking during the interval
    agents_present: np.ndarray  # agents at work: their spells of calls, gaps included
    present_fine: np.ndarray  # [day, slot]: the same every STAFF_STEP_MIN minutes
    outside: int  # calls of these days arriving outside the frame
    groups: list[str]  # the agent groups whose agents present_group counts
    present_group: np.ndarray  # [day, slot, group]: present_fine per agent group
    talk_values: list[dict[str, list[float]]]  # per day, per type: the answered calls' talk
    levels: list[int]  # the priorities logged for calls that queued
    queued_priority: np.ndarray  # [day, type, level]: calls that queued, by priority
    from_states: bool = False  # every agent's day at work read from logged agent states
    disciplines: list[Discipline] = field(default_factory=list)  # per day: priorities?
    # [day, interval]: agent-seconds at work more than AFTER_CALL_S into a gap between
    # the agent's calls while calls of their skills waited (``idle_waiting``)
    idle_waiting_s: np.ndarray | None = None
    interval_s: float = 1800.0

    def idle_share(self, d: int) -> float:
        """Day ``d``'s agents at work not ready while calls waited: the share of their
        time at work that they spent more than ``AFTER_CALL_S`` into a gap between calls
        while calls of their skills waited (``idle_waiting``); 0 without the measure."""
        at_work = float(self.agents_present[d].sum()) * self.interval_s
        if self.idle_waiting_s is None or at_work <= 0:
            return 0.0
        return float(self.idle_waiting_s[d].sum()) / at_work

    def ranked(self, d: int | None = None) -> bool:
        """Whether the queues ranked callers by priority on day ``d`` (``Discipline``; a
        day that cannot tell, or ``None``: as most of the days that can)."""
        on = self.disciplines[d].on if d is not None and self.disciplines else None
        if on is not None:
            return on
        known = [x.on for x in self.disciplines if x.on is not None]
        return 2 * sum(known) >= len(known)

    def metrics(self, axis: int | None = None) -> dict[str, np.ndarray]:
        """abandon_rate, asa_s, mean_wait_s, service_level: per cell, or summed over
        ``axis`` first (1: per day)."""

        def s(x: np.ndarray) -> np.ndarray:
            return x.sum(axis=axis) if axis is not None else x

        off, ans, ab = s(self.offered), s(self.answered), s(self.abandoned)
        return {
            "abandon_rate": kpi.abandon_rate(ab, off),
            "asa_s": kpi.asa_s(s(self.wait_answered_s), ans),
            "mean_wait_s": kpi.mean_wait_s(
                s(self.wait_answered_s), s(self.wait_abandoned_s), ans, ab
            ),
            "service_level": kpi.service_level(s(self.within), off),
        }


def observe(log: CallLog, days: list[date], frame: Frame, pools: Pools | None = None) -> Observed:
    """The log's days per interval; agents at work counted per agent group of ``pools``
    (one group, ``calls``, of every agent when none)."""
    types = sorted({c.type for c in log.calls})
    names = list(pools.groups) if pools is not None else ["calls"]
    p_index = {n: k for k, n in enumerate(names)}
    group_of = {a: g for g, agents in (pools.groups if pools else {}).items() for a in agents}
    levels = sorted({c.priority for c in log.calls if c.wait_s > 0 or not c.answered} | {0})
    l_index = {v: k for k, v in enumerate(levels)}
    queued_priority = np.zeros((len(days), len(types), len(levels)))
    talk_values: list[dict[str, list[float]]] = [defaultdict(list) for _ in days]
    t_index = {t: k for k, t in enumerate(types)}
    d_index = {d: k for k, d in enumerate(days)}
    shape = (len(days), frame.n)
    arrivals = np.zeros((*shape, len(types)))
    cols = {
        k: np.zeros(shape)
        for k in (
            "offered",
            "answered",
            "abandoned",
            "within",
            "wait_answered_s",
            "wait_abandoned_s",
            "talk_s",
        )
    }
    seen: list[list[set[str]]] = [[set() for _ in range(frame.n)] for _ in days]
    spans: dict[tuple[int, str], list[tuple[float, float]]] = defaultdict(list)
    outside = 0
    step = frame.interval_min * 60
    by_day: dict[date, list[LoggedCall]] = {d: [] for d in days}
    for c in log.calls:
        d = d_index.get(c.day)
        if d is None:
            continue
        by_day[c.day].append(c)
        i = frame.index(c.arrival_s)
        if i < 0:
            outside += 1
            continue
        arrivals[d, i, t_index[c.type]] += 1
        cols["offered"][d, i] += 1
        if c.wait_s > 0 or not c.answered:
            queued_priority[d, t_index[c.type], l_index[c.priority]] += 1
        if c.answered:
            talk_values[d][c.type].append(c.talk_s)
            cols["answered"][d, i] += 1
            cols["within"][d, i] += c.wait_s <= frame.sl_threshold_s
            cols["wait_answered_s"][d, i] += c.wait_s
            cols["talk_s"][d, i] += c.talk_s
            start = c.arrival_s + c.wait_s
            first = max(0, int((start - frame.start_min * 60) // step))
            last = min(frame.n - 1, int((start + c.talk_s - frame.start_min * 60) // step))
            for k in range(first, last + 1):
                seen[d][k].add(c.agent)
            spans[(d, c.agent)].append((start, start + c.talk_s))
        else:
            cols["abandoned"][d, i] += 1
            cols["wait_abandoned_s"][d, i] += c.wait_s
    agents = np.array([[len(s) for s in row] for row in seen], dtype=float)
    # agents at work, on a finer grid than the intervals (they come and go within one)
    k_fine = frame.interval_min // STAFF_STEP_MIN if frame.interval_min % STAFF_STEP_MIN == 0 else 1
    fine_step = step / k_fine
    by_pool = np.zeros((len(days), frame.n * k_fine, len(names)))
    lo0 = int(frame.start_min * 60)
    width = round(fine_step) * by_pool.shape[1]
    from_states = bool(spans) and all((days[d], a) in log.staffed for d, a in spans)
    for (d, agent), talks in spans.items():
        j = p_index[group_of[agent]] if pools is not None else 0
        logged = log.staffed.get((days[d], agent))
        at = _logged(logged, lo0, width) if logged else _at_work(sorted(talks), lo0, width)
        by_pool[d, :, j] += at.reshape(by_pool.shape[1], -1).mean(axis=1)
    fine = by_pool.sum(axis=2)
    present = fine.reshape(len(days), frame.n, k_fine).mean(axis=2)
    skills = pools.skills if pools is not None else {}
    idle = np.array([idle_waiting(by_day[day], frame, t_index, skills) for day in days]).reshape(
        shape
    )
    return Observed(
        days,
        types,
        arrivals,
        agents_seen=agents,
        agents_present=present,
        present_fine=fine,
        outside=outside,
        groups=names,
        present_group=by_pool,
        talk_values=[dict(v) for v in talk_values],
        levels=levels,
        queued_priority=queued_priority,
        from_states=from_states,
        disciplines=[discipline(by_day[d]) for d in days],
        idle_waiting_s=idle,
        interval_s=float(step),
        **cols,
    )


def idle_waiting(
    calls: list[LoggedCall], frame: Frame, t_index: dict[str, int], skills: dict[str, list[str]]
) -> np.ndarray:
    """A day's agents not ready while calls waited, per interval ([interval]): the
    agent-seconds more than ``AFTER_CALL_S`` into a gap between two of an agent's calls
    (up to ``WORK_GAP_S`` long) while calls of the agent's ``skills`` (every type of
    ``t_index`` when not given) waited. A ready agent would have taken such a call; the
    gap's first ``AFTER_CALL_S`` are the after-call work of most calls (``fit_wrap_up``)."""
    out = np.zeros(frame.n)
    if not calls:
        return out
    waiting = _waiting(calls, t_index, {calls[0].day: 0}, 2 * 86_400)[0]
    talks: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for c in calls:
        if c.answered and c.agent:
            start = c.arrival_s + c.wait_s
            talks[c.agent].append((start, start + c.talk_s))
    every = list(range(len(t_index)))
    lo0, step = frame.start_min * 60, frame.interval_min * 60
    for agent, spans in talks.items():
        mine = [t_index[t] for t in skills[agent] if t in t_index] if agent in skills else every
        busy = np.any(waiting[mine], axis=0)
        spans.sort()
        for (_, end), (nxt, _) in itertools.pairwise(spans):
            if nxt - end > WORK_GAP_S:
                continue
            e, s = int(end + AFTER_CALL_S), int(nxt)
            if s <= e:
                continue
            seconds = np.flatnonzero(busy[e:s]) + e
            i = (seconds - lo0) // step
            i = i[(i >= 0) & (i < frame.n)]
            out += np.bincount(i, minlength=frame.n)[: frame.n]
    return out


def _waiting(
    calls: list[LoggedCall], t_index: dict[str, int], d_index: dict[date, int], width: int
) -> list[np.ndarray]:
    """Per day, [type, second after midnight]: whether a call of the type was waiting."""
    out = [np.zeros((len(t_index), width), dtype=bool) for _ in d_index]
    for c in calls:
        d = d_index.get(c.day)
        a, b = int(c.arrival_s), min(width, int(c.arrival_s + c.wait_s))
        if d is not None and b > a:
            out[d][t_index[c.type], a:b] = True
    return out


def _logged(spells: list[tuple[float, float]], lo0: int, width: int) -> np.ndarray:
    """An agent's day from a log of agent states: at work through its spells."""
    at = np.zeros(width)
    for a, b in spells:
        i, j = max(0, int(a) - lo0), min(width, int(b) - lo0)
        if j > i:
            at[i:j] = 1.0
    return at


def _at_work(talks: list[tuple[float, float]], lo0: int, width: int) -> np.ndarray:
    """An agent's day, second by second from ``lo0``: at work (1) or not. Talking is, and
    ``AFTER_CALL_S`` after each call; so is a gap between two calls up to ``WORK_GAP_S``
    long (how much of it the agent was not ready for calls is the after-call work,
    ``fit_wrap_up``). Before the first call and after the last, and in longer gaps, the
    agent was away."""
    at = np.zeros(width)
    for k, (a, b) in enumerate(talks):
        i, j = max(0, int(a) - lo0), min(width, int(b + AFTER_CALL_S) - lo0)
        if j > i:
            at[i:j] = 1.0
        if k + 1 < len(talks) and talks[k + 1][0] - b <= WORK_GAP_S:
            g0, g1 = max(0, j), min(width, int(talks[k + 1][0]) - lo0)
            if g1 > g0:
                at[g0:g1] = 1.0
    return at


@dataclass(frozen=True, slots=True)
class TalkFit:
    type: str
    calls: int
    mean_s: float
    cv: float
    mu: float  # of log talk
    sigma: float
    ks: float  # Kolmogorov-Smirnov distance of the lognormal fit
    values: tuple[float, ...]  # QUANTILES quantiles of the data (an empirical fit)


def fit_talk(calls: list[LoggedCall]) -> TalkFit:
    from scipy import stats

    t = np.array([c.talk_s for c in calls if c.answered and c.talk_s > 0])
    if len(t) < 10:
        raise InputError(
            f"call type {calls[0].type!r}: {len(t)} answered calls with a talk "
            "time, too few to fit (at least 10)"
        )
    logs = np.log(t)
    mu, sigma = float(logs.mean()), float(logs.std(ddof=1))
    ks = float(stats.kstest(t, "lognorm", args=(sigma, 0, math.exp(mu))).statistic)
    q = np.quantile(t, (np.arange(QUANTILES) + 0.5) / QUANTILES)
    return TalkFit(
        calls[0].type,
        len(t),
        float(t.mean()),
        float(t.std(ddof=1) / t.mean()),
        mu,
        sigma,
        ks,
        tuple(round(float(v), 1) for v in q),
    )


@dataclass(frozen=True, slots=True)
class PatienceFit:
    """Kaplan-Meier survival of patience: ``times`` and ``survival`` just after each."""

    queued: int
    abandoned: int
    times: np.ndarray
    survival: np.ndarray
    exp_mean_s: float  # exponential MLE: time waited / abandonments
    tail_from_s: float  # where the curve hands over to the tail
    tail_mean_s: float  # exponential tail's mean beyond it
    median_s: float | None

    def values(self) -> list[float]:
        """QUANTILES quantiles of patience: the curve, then the exponential tail."""
        out = []
        s_end = float(self.survival[-1]) if len(self.survival) else 1.0
        for k in range(QUANTILES):
            u = (k + 0.5) / QUANTILES  # P(patience <= value)
            if 1 - u >= s_end:
                j = int(np.searchsorted(-self.survival, -(1 - u), side="left"))
                out.append(float(self.times[min(j, len(self.times) - 1)]))
            else:
                out.append(self.tail_from_s - self.tail_mean_s * math.log((1 - u) / s_end))
        return [round(v, 1) for v in out]


def fit_patience(calls: list[LoggedCall]) -> PatienceFit:
    queued = [c for c in calls if c.wait_s > 0 or not c.answered]
    if not queued:
        raise InputError("no call waited in the queue: patience cannot be estimated")
    return survival(
        np.array([c.wait_s for c in queued]), np.array([not c.answered for c in queued])
    )


def survival(t: np.ndarray, event: np.ndarray) -> PatienceFit:
    """Kaplan-Meier of times ``t`` that ended (``event``) or were cut short (censored),
    kept while ``TAIL_AT_RISK`` are still at risk; an exponential tail beyond."""
    order = np.argsort(t, kind="stable")
    t, event = t[order], event[order]
    uniq, first = np.unique(t, return_index=True)
    deaths = np.add.reduceat(event.astype(float), first)
    at_risk = len(t) - first
    keep = at_risk >= TAIL_AT_RISK
    surv = np.cumprod(1 - deaths / at_risk)
    times, curve = uniq[keep], surv[keep]
    tail_from = float(times[-1]) if len(times) else 0.0
    beyond = t > tail_from
    exposure = float((t[beyond] - tail_from).sum())
    tail_events = int(event[beyond].sum())
    ended = int(event.sum())
    exp_mean = float(t.sum() / ended) if ended else math.inf
    tail_mean = exposure / tail_events if tail_events else exp_mean
    below = np.nonzero(curve <= 0.5)[0]
    return PatienceFit(
        len(t),
        ended,
        times,
        curve,
        exp_mean,
        tail_from,
        tail_mean,
        float(times[below[0]]) if len(below) else None,
    )


@dataclass(frozen=True, slots=True)
class RetrialFit:
    identified: int  # calls with a caller id
    abandoned_identified: int
    retried: int  # of those, called again within the window
    share_of_calls: float  # of identified calls, the share that were retrials
    probability: float
    mean_delay_s: float | None


def fit_retrials(calls: list[LoggedCall]) -> RetrialFit:
    by_caller: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for c in calls:
        if c.caller:
            t = datetime.combine(c.day, datetime.min.time()).timestamp() + c.arrival_s
            by_caller[c.caller].append((t, c.answered))
    identified = sum(len(v) for v in by_caller.values())
    abandoned = retried = retrials = 0
    delays = []
    for seq in by_caller.values():
        seq.sort()
        for (t, answered), (t2, _) in zip(seq, [*seq[1:], (math.inf, True)], strict=True):
            if answered:
                continue
            abandoned += 1
            if t2 - t <= RETRIAL_WINDOW_S:
                retried += 1
                retrials += 1
                delays.append(t2 - t)
    return RetrialFit(
        identified,
        abandoned,
        retried,
        retrials / identified if identified else 0.0,
        retried / abandoned if abandoned else 0.0,
        float(np.mean(delays)) if delays else None,
    )


@dataclass(frozen=True, slots=True)
class WrapUpFit:
    """After-call work, as the log shows it: after each answered call the agent was not
    ready for a time (``fit_wrap_up``)."""

    gaps: int  # after-call times seen (the agent's gaps between calls)
    whole: int  # of them, seen whole: calls of the agent's skills waited all through
    mean_s: float  # of the fitted distribution (its quantiles)
    median_s: float
    values: tuple[float, ...]  # QUANTILES quantiles: the Kaplan-Meier curve, then its tail


@dataclass(frozen=True, slots=True)
class HandoverFit:
    """The time the ACD took to hand a call that waited to the agent who freed up
    (``fit_handover``)."""

    level: float  # answered calls that queued, per second of wait, once the ramp is over
    ramp: tuple[int, ...]  # of them, per whole second of wait 0, 1, ... HANDOVER_STEADY_S[0]
    mean_s: float
    values: tuple[float, ...]  # QUANTILES quantiles of the hand-over


HANDOVER_STEADY_S = (6, 15)  # waits (whole seconds) past any hand-over: the steady level
MIN_HANDOVER_LEVEL = 10  # answered calls that queued per second of wait, to read a ramp


def fit_handover(calls: list[LoggedCall]) -> HandoverFit | None:
    """A call that queued is answered no sooner than the ACD hands it to a freed agent.
    Agents free up at any moment, so without a hand-over the answered calls that queued
    would be as many at a wait of 1 s as at 10 s; a hand-over H makes the count at wait
    w (to the nearest second) the steady level times P(H <= w). So the counts per second of
    wait, over their level at ``HANDOVER_STEADY_S``, are H's distribution function
    (piecewise linear between whole seconds). None when the level is under
    ``MIN_HANDOVER_LEVEL`` or the count at 1 s already reaches half of it: the log's
    seconds cannot show a hand-over."""
    lo, hi = HANDOVER_STEADY_S
    counts = np.zeros(hi + 1)
    for c in calls:
        if c.answered and 0 < c.wait_s < hi + 0.5:
            counts[round(c.wait_s)] += 1  # a log's whole seconds: a wait to the nearest
    level = float(np.median(counts[lo : hi + 1]))
    if level < MIN_HANDOVER_LEVEL or counts[1] >= level / 2:
        return None
    cdf = np.minimum(np.maximum.accumulate(counts[: lo + 1] / level), 1.0)
    cdf[0], cdf[lo] = 0.0, 1.0
    top = int(np.argmax(cdf >= 1.0))  # the first whole second the ramp is over
    start = int(np.flatnonzero(cdf[:top] <= 0)[-1])  # the last second with none
    x, y = np.arange(start, top + 1, dtype=float), cdf[start : top + 1]
    y[-1] = 1.0
    u = (np.arange(QUANTILES) + 0.5) / QUANTILES
    q = np.interp(u, y, x)  # the inverse of the piecewise-linear distribution function
    ramp = tuple(int(n) for n in counts[: lo + 1])
    return HandoverFit(level, ramp, float(np.mean(q)), tuple(round(float(v), 2) for v in q))


def fit_wrap_up(
    calls: list[LoggedCall],
    pools: Pools | None = None,
    by_day: dict[date, Pools] | None = None,
    handover_s: float = 0.0,
) -> WrapUpFit | None:
    """After each answered call the agent was not ready for a time. While calls of the
    agent's skills (that day's, ``by_day``, else ``pools``; every type without) waited,
    a ready agent would have taken one: a gap to the agent's next call during which
    calls waited all through is that time, seen whole; a gap in which the queue emptied
    says only that it lasted beyond that moment (censored). Kaplan-Meier of these, with
    an exponential tail (``survival``); gaps longer than ``WORK_GAP_S`` were time away.
    (The gaps alone, before a call already waiting, see only the agents who came back
    first.) A gap that ends with a call that waited holds that call's hand-over too
    (``fit_handover``): ``handover_s`` (its mean) is taken off every gap."""
    types = sorted({c.type for c in calls})
    t_index = {t: k for k, t in enumerate(types)}
    days = sorted({c.day for c in calls})
    d_index = {d: k for k, d in enumerate(days)}
    width = 2 * 86_400
    waiting = _waiting(calls, t_index, d_index, width)
    by_agent: dict[tuple[int, str], list[tuple[float, float]]] = defaultdict(list)
    for c in calls:
        if c.answered and c.agent:
            start = c.arrival_s + c.wait_s
            by_agent[(d_index[c.day], c.agent)].append((start, start + c.talk_s))
    times, ended = [], []
    for (d, agent), spans in by_agent.items():
        skills = types
        if by_day is not None and days[d] in by_day:
            skills = by_day[days[d]].skills.get(agent, types)
        elif pools is not None:
            skills = pools.skills.get(agent, types)
        busy = np.any(waiting[d][[t_index[t] for t in skills if t in t_index]], axis=0)
        spans.sort()
        for (_, end), (nxt, _) in itertools.pairwise(spans):
            e, s = int(end), int(nxt)
            if s <= e or s - e > WORK_GAP_S:
                continue
            idle = np.flatnonzero(~busy[e:s])
            seen = float(s - e) if not len(idle) else float(idle[0])
            times.append(max(seen - handover_s, 0.0))
            ended.append(not len(idle))
    if sum(ended) < 30:
        return None
    fit = survival(np.array(times), np.array(ended))
    q = fit.values()
    return WrapUpFit(
        len(times),
        int(sum(ended)),
        float(np.mean(q)),
        fit.median_s if fit.median_s is not None else float(np.median(q)),
        tuple(q),
    )
