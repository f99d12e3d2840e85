"""What a valid scenario file can still get wrong: the semantic check of ``callsim
validate`` and of every run.

Errors are what cannot be meant (a queue whose calls no agent could take, a shift that
never meets the horizon, a break outside its shift or over another, more calls than a
run can hold); warnings are legal but suspicious (a time when calls arrive and nobody
serves their queue, an offered load above the agents serving it, a profile that starts
late). Each problem names the field, the value and what was expected, in one line.
"""

from __future__ import annotations

import enum
import itertools
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from callsim.core import qualified
from callsim.scenario.load import scenario_error
from callsim.scenario.model import Arrivals, Horizon, Scenario, minutes, span_min
from callsim.scenario.sites import site_queue, written_path
from callsim.sim.plan import (
    SimPlan,
    Stream,
    _daily,
    _day_hhmm,
    build_plan,
    night_points,
    nights_open,
)

MAX_CALLS = 5_000_000  # expected calls of one replication, all streams together
MAX_CONTACTS = 1_000_000  # known contacts of all clients, made for every replication


class Level(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    level: Level
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def check_scenario(
    s: Scenario, plan: SimPlan | None = None, *, warnings: bool = True
) -> list[Problem]:
    """Every semantic problem of ``s``, errors first (``warnings=False``: errors only)."""
    plan = plan or build_plan(s)
    sites = _agentless_sites(s)
    found = _servable(s, sites) + _shifts(s, plan) + _volume(s, plan) + _profiles(s)
    if warnings and not any(p.level is Level.ERROR for p in found):
        found += _coverage(s, plan, sites) + _callbacks(s) + _outbound(s, plan)
    n_sites = len(s.written().get("sites") or ())
    if n_sites:  # name the fields of the file as written, not of the sites' rewrite
        found = [Problem(p.level, written_path(p.field, n_sites), p.message) for p in found]
    return sorted(found, key=lambda p: p.level is Level.WARNING)


def refuse_errors(problems: list[Problem], where: str = "") -> None:
    """Raise one ScenarioError listing the errors among ``problems`` (if any)."""
    errors = [str(p) for p in problems if p.level is Level.ERROR]
    if errors:
        raise scenario_error(errors, where)


def _hhmm(total_min: float) -> str:
    return _day_hhmm(total_min)[1]


def _receivers(s: Scenario) -> dict[str, str]:
    """Queues that calls are sent to, and the first field that sends them."""
    found: dict[str, str] = {}
    for i, c in enumerate(s.calls):
        found.setdefault(c.queue, f"calls[{i}].queue")
    for i, cl in enumerate(s.clients):
        found.setdefault(cl.queue, f"clients[{i}].queue")
    for language, queue in s.answering.contacts.language_queues.items():
        if s.clients:
            found.setdefault(queue, f"answering.contacts.language_queues.{language}")
    return found


def _agentless_sites(s: Scenario) -> dict[str, Problem]:
    """Sites no agent group works at, each with its warning: their calls wait for the
    other sites' agents (after routing.site_delay_s)."""
    written = s.written()
    found = {}
    for i, site in enumerate(written.get("sites") or ()):
        name = site["name"]
        if any(g.get("site") in (None, name) for g in written["agents"]):
            continue
        delay = written["routing"]["site_delay_s"]
        found[name] = Problem(
            Level.WARNING,
            f"sites[{i}]",
            f"no agent group works at {name!r} (agents[].site): its share "
            f"({site['share']:g}) of every queue's calls waits routing.site_delay_s "
            f"({delay:g} s), then goes to the other sites' agents",
        )
    return found


def _site_of(queue: str, sites: dict[str, Problem]) -> str | None:
    """The agentless site whose queue ``queue`` is, if any."""
    return next((x for x in sites if queue.endswith(site_queue("", x))), None)


def _servable(s: Scenario, sites: dict[str, Problem]) -> list[Problem]:
    groups = [set(g.skill_levels()) for g in s.agents]
    skills_of = {q.name: q.skills for q in s.queues}

    def served(skills: list[str]) -> bool:
        return any(qualified(g, skills) for g in groups)

    receivers = _receivers(s)
    out = list(sites.values())
    for i, q in enumerate(s.queues):
        if served(q.skills) or _site_of(q.name, sites) is not None:
            continue
        need = ", ".join(q.skills)
        via = [t for t in (q.overflow.to if q.overflow else ()) if served(skills_of[t])]
        if q.overflow is not None and via:
            out.append(
                Problem(
                    Level.WARNING,
                    f"queues[{i}].skills",
                    f"no agent group has all of {need}: calls wait {q.overflow.after_s:g} s "
                    f"in {q.name!r}, then go to the agents of {', '.join(via)} (overflow)",
                )
            )
        elif q.name in receivers:
            out.append(
                Problem(
                    Level.ERROR,
                    f"queues[{i}].skills",
                    f"no agent group has all of {need}: the calls that {receivers[q.name]} "
                    f"sends to {q.name!r} could never be answered",
                )
            )
        else:
            out.append(
                Problem(Level.WARNING, f"queues[{i}].skills", f"no agent group has all of {need}")
            )
    return out


def _shifts(s: Scenario, plan: SimPlan) -> list[Problem]:
    out = []
    h = s.horizon
    origin = plan.origin_min
    for i, g in enumerate(s.agents):
        where = f"agents[{i}]"
        if g.shift is not None:
            start, length = minutes(g.shift.start), g.shift.length_min()
            inside = [
                (a, b)
                for a, b in _daily(origin, plan.arrivals_end_s, start, length)
                if b > plan.count_from_s
            ]
            if not inside:
                out.append(
                    Problem(
                        Level.ERROR,
                        f"{where}.shift",
                        f"{g.shift.start}-{g.shift.end} never meets the horizon "
                        f"{h.start}-{h.end}: these agents would never work",
                    )
                )
        else:
            start, length = minutes(h.start), 1440
        spans = []
        for j, b in enumerate(g.breaks):
            offset = (minutes(b.start) - start) % 1440
            label = f"{b.start} for {b.minutes} min"
            if g.shift is None:
                spans.append((offset, offset + b.minutes, j))
                continue
            shift = f"{g.shift.start}-{g.shift.end}"
            if offset >= length:
                problem = f"is outside the shift {shift}"
            elif offset == 0 and b.minutes >= length:
                problem = f"covers the whole shift {shift}"
            elif offset + b.minutes > length:
                problem = f"runs past the end of the shift {shift}"
            else:
                spans.append((offset, offset + b.minutes, j))
                continue
            out.append(Problem(Level.ERROR, f"{where}.breaks[{j}]", f"{label} {problem}"))
        spans.sort()
        for (_a0, a1, ja), (b0, _, jb) in itertools.pairwise(spans):
            if b0 < a1:
                out.append(
                    Problem(
                        Level.ERROR,
                        f"{where}.breaks[{jb}]",
                        f"{g.breaks[jb].start} overlaps breaks[{ja}] "
                        f"({g.breaks[ja].start}-{_hhmm(start + a1)})",
                    )
                )
    return out


def _expected_calls(stream: Stream) -> float:
    return sum(rate * (end - start) for start, end, rate in stream.pieces)


def _stream_field(s: Scenario, k: int) -> str:
    if k < len(s.calls):
        return f"calls[{k}].arrivals"
    return f"clients[{k - len(s.calls)}].arrivals"


def _volume(s: Scenario, plan: SimPlan) -> list[Problem]:
    out = []
    contacts = s.answering.contacts
    known = len(s.clients) * contacts.population if contacts.known_share > 0 else 0
    if known > MAX_CONTACTS:
        out.append(
            Problem(
                Level.ERROR,
                "answering.contacts.population",
                f"{contacts.population:,} known contacts for each of {len(s.clients)} clients "
                f"make {known:,}; a replication holds at most {MAX_CONTACTS:,}",
            )
        )
    counts = [_expected_calls(st) for st in plan.streams]
    if sum(counts) <= MAX_CALLS:
        return out
    k = int(np.argmax(counts))
    hours = (plan.arrivals_end_s) / 3600
    return [
        *out,
        Problem(
            Level.ERROR,
            _stream_field(s, k),
            f"about {counts[k]:,.0f} calls in {hours:g} h (all streams: {sum(counts):,.0f}); "
            f"a replication holds at most {MAX_CALLS:,} calls: check the rate",
        ),
    ]


def _callbacks(s: Scenario) -> list[Problem]:
    """Callers ready to accept callbacks that their queue never offers."""
    offering = {q.name for q in s.queues if q.callback_above_s is not None}
    return [
        Problem(Level.WARNING, f"calls[{i}].callback",
                f"queue {c.queue!r} has no callback_above_s: no callback is ever offered")
        for i, c in enumerate(s.calls)
        if c.callback is not None and c.queue not in offering
    ]  # fmt: skip


def _outbound(s: Scenario, plan: SimPlan) -> list[Problem]:
    """A dialler reserve that leaves little or nothing to dial: a free agent dials only
    while ``reserve`` other agents (of any queue) are idle."""
    o = s.outbound
    if o is None:
        return []
    need = next(q.skills for q in plan.acd.queues if q.name == o.queue)
    agents = len(plan.acd.agents)
    diallers = sum(qualified(a.skills, need) for a in plan.acd.agents)
    if o.reserve >= agents or diallers == 0:
        why = f"the centre has {agents} agents" if diallers else f"no agent can serve {o.queue!r}"
        message = (
            f"{o.reserve}: nothing is ever dialled ({why}; a free agent dials only while "
            f"{o.reserve} others are idle)"
        )
    elif o.reserve >= diallers:
        message = (
            f"{o.reserve} is at least the {diallers} agents who can dial: one of them dials "
            f"only while {o.reserve} others are idle, so the campaign waits for idle "
            "inbound-only agents"
        )
    else:
        return []
    return [Problem(Level.WARNING, "outbound.reserve", message)]


def _profiles(s: Scenario) -> list[Problem]:
    """Arrival profiles against each day's opening hours (``plan.nights_open``)."""
    out = []
    h = s.horizon
    streams = [(f"calls[{i}]", c.arrivals) for i, c in enumerate(s.calls)]
    streams += [(f"clients[{i}]", c.arrivals) for i, c in enumerate(s.clients)]
    for where, arrivals in streams:
        if arrivals.profile is None:
            continue
        field = f"{where}.arrivals.profile"
        if points := night_points(h, arrivals):
            night = ", ".join(f"{p.at} {p.per_hour:g}/h" for p in points)
            out.append(
                Problem(
                    Level.WARNING,
                    field,
                    f"has calls outside the opening hours {h.start}-{h.end} ({night}): "
                    "the nights are open, calls arrive day and night by the profile (give "
                    "those points per_hour 0 to close the nights, or write the horizon "
                    "00:00-24:00 for a centre open round the clock)",
                )
            )
        if nights_open(h, arrivals) or minutes(h.start) + span_min(h.start, h.end) > 1440:
            out += _midnight(h, field, arrivals)
            continue
        first = minutes(arrivals.profile[0].at)
        if first >= minutes(h.end):
            out.append(
                Problem(
                    Level.ERROR,
                    field,
                    f"every point is at or after the horizon's end {h.end}: no point sets "
                    f"the rate of the day {h.start}-{h.end}",
                )
            )
        elif first > minutes(h.start):
            rate = arrivals.profile[0].per_hour
            out.append(
                Problem(
                    Level.WARNING,
                    f"{field}[0]",
                    f"starts at {arrivals.profile[0].at}, after the horizon's start "
                    f"{h.start}: its rate ({rate:g}/h) also applies before it",
                )
            )
    return out


def _midnight(h: Horizon, field: str, arrivals: Arrivals) -> list[Problem]:
    """Opening hours over midnight: there the last point's rate stops and the first
    point's starts (a profile's first rate also holds before it), which a night profile
    written from its evening point on does not mean."""
    assert arrivals.profile is not None
    first, last = arrivals.profile[0], arrivals.profile[-1]
    if minutes(first.at) == 0 or first.per_hour == last.per_hour:
        return []
    length = 1440 if nights_open(h, arrivals) else span_min(h.start, h.end)
    start = 0 if length == 1440 else minutes(h.start)  # a whole day: by the clock
    at = [minutes(p.at) for p in arrivals.profile]
    rates = [arrivals.profile[max(0, bisect_right(at, (start + k) % 1440) - 1)].per_hour
             for k in range(length)]  # fmt: skip
    edges = np.flatnonzero(np.diff(np.concatenate([[0], np.array(rates) > 0, [0]])))

    def hhmm(k: int) -> str:
        return "24:00" if k and (start + k) % 1440 == 0 else _hhmm(start + k)

    spans = edges.reshape(-1, 2).tolist()  # [from, to) minutes after the opening
    covered = ", ".join(f"{hhmm(a)}-{hhmm(b)}" for a, b in spans) or "no minute"
    hours = "the day" if length == 1440 else f"the opening hours {h.start}-{h.end}"
    only = "" if spans == [[0, length]] else f"covers only {covered} of {hours}: "
    return [
        Problem(
            Level.WARNING,
            field,
            f"{only}the last point's {last.per_hour:g}/h (from {last.at}) stops at midnight "
            f"and the first point's {first.per_hour:g}/h holds from 00:00 to {first.at}; to "
            f"run {last.per_hour:g}/h through midnight add "
            f'{{at: "00:00", per_hour: {last.per_hour:g}}}',
        )
    ]


def _coverage(s: Scenario, plan: SimPlan, sites: dict[str, Problem]) -> list[Problem]:
    """Per queue and minute: calls arrive but nobody serves the queue, or the offered load
    (Erlangs) exceeds the agents serving it (the queue grows, or with routing.lines or
    max_waiting the callers beyond them hear on_full). Queues of agentless sites are
    said per site."""
    step = 60.0
    n = int(np.ceil(plan.arrivals_end_s / step))
    if n <= 0:
        return []
    t = np.arange(n) * step
    queue_index = {q: j for j, q in enumerate(plan.queues)}
    load = np.zeros((len(plan.queues), n))
    for st in plan.streams:
        for start, end, rate in st.pieces:
            arriving = (t >= start) & (t < end)
            load[queue_index[st.queue], arriving] += rate * st.mean_handle_s
    staffed = np.zeros((len(plan.queues), n))
    # a queue with overflow is carried by its agents and its overflow queues' together
    pools = [{j, *(queue_index[x] for x in q.overflow_to)} for j, q in enumerate(plan.acd.queues)]
    pooled = np.zeros((len(plan.queues), n))
    groups: dict[str, int] = {}  # a group's agents share one timetable: the first of each
    counts: dict[str, int] = {}
    for a, timetable in enumerate(plan.timetables):
        groups.setdefault(timetable.group, a)
        counts[timetable.group] = counts.get(timetable.group, 0) + 1
    for a in groups.values():
        timetable, skills = plan.timetables[a], set(plan.acd.agents[a].skills)
        served = [j for j, q in enumerate(plan.acd.queues) if qualified(skills, q.skills)]
        if not served:
            continue
        count = counts[timetable.group]
        on = np.zeros(n)
        state = 0.0
        last = 0
        for at, kind in timetable.steps:
            k = min(n, int(np.ceil(at / step)))
            on[last:k] = state
            state = 1.0 if kind in ("login", "ready") else 0.0
            last = k
        on[last:] = state
        for j in served:
            staffed[j] += count * on
        for j, pool in enumerate(pools):
            if pool.intersection(served):
                pooled[j] += count * on
    counted = t >= plan.count_from_s
    out = []
    origin = plan.origin_min
    lines = plan.acd.routing.lines
    for j, q in enumerate(plan.queues):
        if _site_of(q, sites) is not None:
            continue
        field = f"queues[{j}]"
        carried = sum(load[x] for x in pools[j])
        nobody = counted & (load[j] > 0) & (pooled[j] == 0)
        over = counted & (load[j] > 0) & (carried >= pooled[j]) & ~nobody
        if nobody.any():
            out.append(
                Problem(
                    Level.WARNING,
                    field,
                    f"calls arrive but no agent serves {q!r} {_ranges(nobody, origin)}",
                )
            )
        if over.any():
            k = int(np.argmax(np.where(over, carried - pooled[j], -np.inf)))
            places = plan.acd.queues[j].max_waiting
            room = None if lines is None else lines - pooled[j][k]  # lines left to wait on
            targets = plan.acd.queues[j].overflow_to
            whose = f"{q!r} and its overflow ({', '.join(targets)})" if targets else repr(q)
            if room is not None and room <= 0:
                then = f"no queue can form on {lines} lines: the callers beyond them hear busy"
            elif places is not None and (room is None or places <= room):
                full = s.queues[j].on_full
                then = (
                    f"the queue fills its {places} places (max_waiting), then callers get "
                    f"on_full ({full if isinstance(full, str) else 'queue ' + full.queue})"
                )
            elif room is not None:
                then = f"at most {room:g} callers can wait on {lines} lines: the rest hear busy"
            else:
                then = "the queue grows until callers give up"
            out.append(
                Problem(
                    Level.WARNING,
                    field,
                    f"offered load {carried[k]:.1f} Erlangs at {_hhmm(origin + k)} is more "
                    f"than the {pooled[j][k]:g} agents serving {whose} can carry "
                    f"{_ranges(over, origin)}: {then}",
                )
            )
    return out


def _ranges(mask: np.ndarray, origin: int) -> str:
    """'from 18:00 to 20:00' (and how many more stretches) of the minutes in ``mask``."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]])))
    starts, ends = edges[::2], edges[1::2]
    first = f"from {_hhmm(origin + starts[0])} to {_hhmm(origin + ends[0])}"
    more = len(starts) - 1
    return first + (f" (and {more} more stretches)" if more else "")
