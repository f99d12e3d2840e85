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
from dataclasses import dataclass

import numpy as np

from callsim.scenario.load import scenario_error
from callsim.scenario.model import Scenario, minutes
from callsim.sim.plan import SimPlan, Stream, _daily, _day_hhmm, build_plan

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
    found = _servable(s) + _shifts(s, plan) + _volume(s, plan) + _profiles(s)
    if warnings and not any(p.level is Level.ERROR for p in found):
        found += _coverage(plan) + _callbacks(s)
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


def _servable(s: Scenario) -> list[Problem]:
    groups = [set(g.skill_levels()) for g in s.agents]
    receivers = _receivers(s)
    out = []
    for i, q in enumerate(s.queues):
        if any(set(q.skills) <= skills for skills in groups):
            continue
        need = ", ".join(q.skills)
        if q.name in receivers:
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


def _profiles(s: Scenario) -> list[Problem]:
    out = []
    h = s.horizon
    overnight = h.days > 1 or minutes(h.end) <= minutes(h.start)
    streams = [(f"calls[{i}]", c.arrivals) for i, c in enumerate(s.calls)]
    streams += [(f"clients[{i}]", c.arrivals) for i, c in enumerate(s.clients)]
    for where, arrivals in streams:
        if arrivals.profile is None or overnight:
            continue  # a profile that repeats over several days has no "after the day"
        first = minutes(arrivals.profile[0].at)
        if first >= minutes(h.end):
            out.append(
                Problem(
                    Level.ERROR,
                    f"{where}.arrivals.profile",
                    f"every point is at or after the horizon's end {h.end}: no point sets "
                    f"the rate of the day {h.start}-{h.end}",
                )
            )
        elif first > minutes(h.start):
            rate = arrivals.profile[0].per_hour
            out.append(
                Problem(
                    Level.WARNING,
                    f"{where}.arrivals.profile[0]",
                    f"starts at {arrivals.profile[0].at}, after the horizon's start "
                    f"{h.start}: its rate ({rate:g}/h) also applies before it",
                )
            )
    return out


def _coverage(plan: SimPlan) -> list[Problem]:
    """Per queue and minute: calls arrive but nobody serves the queue, or the offered load
    (Erlangs) exceeds the agents serving it."""
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
    groups: dict[str, int] = {}  # a group's agents share one timetable: the first of each
    counts: dict[str, int] = {}
    for a, timetable in enumerate(plan.timetables):
        groups.setdefault(timetable.group, a)
        counts[timetable.group] = counts.get(timetable.group, 0) + 1
    for a in groups.values():
        timetable, skills = plan.timetables[a], set(plan.acd.agents[a].skills)
        qualified = [j for j, q in enumerate(plan.acd.queues) if set(q.skills) <= skills]
        if not qualified:
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
        for j in qualified:
            staffed[j] += count * on
    counted = t >= plan.count_from_s
    out = []
    origin = plan.origin_min
    for j, q in enumerate(plan.queues):
        field = f"queues[{j}]"
        nobody = counted & (load[j] > 0) & (staffed[j] == 0)
        over = counted & (load[j] > 0) & (load[j] >= staffed[j]) & ~nobody
        if nobody.any():
            out.append(
                Problem(
                    Level.WARNING,
                    field,
                    f"calls arrive but no agent serves {q!r} {_ranges(nobody, origin)}",
                )
            )
        if over.any():
            k = int(np.argmax(np.where(over, load[j] - staffed[j], -np.inf)))
            out.append(
                Problem(
                    Level.WARNING,
                    field,
                    f"offered load {load[j][k]:.1f} Erlangs at {_hhmm(origin + k)} is more "
                    f"than the {staffed[j][k]:g} agents serving {q!r} can carry "
                    f"{_ranges(over, origin)}: the queue grows until callers give up",
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
