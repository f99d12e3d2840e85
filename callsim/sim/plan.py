"""Turn a validated scenario into what the simulator runs: the ACD configuration, the
clock, the call streams and each agent's timetable.

Clock: seconds from the start of the run, which is ``horizon.start`` of day 1 minus the
warm-up; minute ``m`` of day ``d`` (day 1 is the horizon's first) is on the clock at
``((d - 1) * 1440 + m - origin_min) * 60``. Arrival profiles and shifts repeat every day.

Day ``k`` of a run is the k-th 24 hours from ``horizon.start`` (a night's hours after
midnight are its own day's): the intervals' ``day``, the days table, the day-to-day
multipliers and the next-day retrials all count days so. Calls arrive in each day's
opening hours, ``start`` to ``end`` (day 1's from the warm-up on), unless the horizon is a
whole day or an arrival profile sets calls outside them (``nights_open``).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import NamedTuple

import numpy as np

from callsim.analytics.metrics import Frame
from callsim.core import AcdConfig
from callsim.core.client import Client, FaqNode
from callsim.core.inbound import CallerRouting
from callsim.scenario.centre import (
    acd_config,
    agent_names,
    caller_routing,
    centre_zone,
    clients,
    treatments,
)
from callsim.scenario.model import (
    AgentGroup,
    Arrivals,
    ClientSpec,
    Constant,
    Contacts,
    Empirical,
    Exponential,
    FollowUp,
    Horizon,
    ProfilePoint,
    Retrial,
    Scenario,
    Uniform,
    dist_mean,
    minutes,
    span_min,
)
from callsim.sim.sample import Dist, sampler

Sampler = Callable[[np.random.Generator, int], np.ndarray]
CONTROL_STEP_S = 900.0  # the control variates' step: a quarter hour (``Calls.arrived``)


@dataclass(frozen=True, slots=True)
class Recall:
    """A served caller calls the same queue again later."""

    chance: tuple[float, ...]  # by the serving agent's level 0-5
    delay: Sampler  # seconds after the call ends


@dataclass(frozen=True, slots=True)
class Transfer:
    """A served caller is sent on to another queue at once (scenario key ``transfer``)."""

    chance: tuple[float, ...]  # by the serving agent's level 0-5
    queue: str
    talk: Sampler  # the talk there, seconds


@dataclass(frozen=True, slots=True)
class Callback:
    """A caller offered a callback: accepts, then answers when dialled."""

    accept: float  # the chance a caller offered a callback takes it
    answer: float  # the chance they answer when an agent dials them
    dial: Sampler  # seconds an unanswered dial rings before the agent gives up


class Outbound(NamedTuple):
    """The dialer's calls (a NamedTuple: readers index it, ``plan.outbound[0]``)."""

    stream: int  # index into SimPlan.streams: the right party's calls
    right_party: float  # the chance a dial reaches the right party
    dial: Sampler  # seconds from the dial to the answer or the give-up


class DayToDay(NamedTuple):
    """A stream's day-to-day volume: one multiplier a day, mean 1."""

    dist: str  # gamma | normal
    cv: float


class Balking(NamedTuple):
    """The chance a caller hangs up on hearing the expected wait, by the wait (linear
    between the points: ``world.balk_chance``)."""

    waits: tuple[float, ...]  # seconds, ascending
    chances: tuple[float, ...]


class Step(enum.StrEnum):
    """A timetable step (equal to its string: ``Step.LOGIN == "login"``)."""

    LOGIN = "login"
    LOGOUT = "logout"
    PAUSE = "pause"
    READY = "ready"  # the end of a break


@dataclass(frozen=True, slots=True)
class Stream:
    queue: str
    priority: int | None
    pieces: tuple[tuple[float, float, float], ...]  # (start_s, end_s, rate_per_s)
    talk: Sampler
    patience: Sampler | None
    wrap_up: Sampler | None
    retrial_p: float
    retrial_delay: Sampler | None
    retrial_max: int = 0
    client: int = -1  # index into SimPlan.clients, or -1
    mean_handle_s: float = 0.0  # mean talk + wrap-up (the offered load per call)
    handle_moment2_s2: float = 0.0  # the mean of (talk + wrap-up)², the same draws'
    mean_patience_s: float = float("inf")  # none: callers wait for ever
    day_to_day: DayToDay | None = None
    recall: Recall | None = None
    transfer: Transfer | None = None  # a served caller sent on to another queue
    retrial_busy_p: float = 0.0  # callers who heard busy
    retrial_next_day: float = 0.0  # callers who call the next day instead
    balking: Balking | None = None
    callback: Callback | None = None
    slowdown: float = 0.0  # a chat queue's (world.chat_talk_s)


@dataclass(frozen=True, slots=True)
class Timetable:
    """One agent's working time: ``(at_s, kind)`` steps; in time order."""

    agent: str
    group: str
    answer_probability: float
    steps: tuple[tuple[float, Step], ...]
    answer_delay: Sampler | None = None  # own pick-up time (a personal device)


@dataclass(frozen=True, slots=True)
class SimPlan:
    name: str
    acd: AcdConfig
    streams: tuple[Stream, ...]
    timetables: tuple[Timetable, ...]
    origin_min: int  # clock 0 in minutes after midnight of day 1 (negative: the day before)
    count_from_s: float  # horizon.start on the clock (end of warm-up)
    arrivals_end_s: float  # horizon.end on the clock
    run_end_s: float  # the run stops here: what is still open ends interrupted
    interval_s: float
    n_intervals: int
    queues: tuple[str, ...]
    sl_threshold_s: float
    short_abandon_s: float
    answer_delay: Sampler | None
    ring_timeout_s: float
    handover: Sampler | None = None  # a call that waited: the ACD's hand-over, not answer_delay
    clients: tuple[PlanClient, ...] = ()
    calendar_start: datetime | None = None  # the clock's 0 as an aware date and time
    formal_factor: float = 1.0
    forward_s: Sampler | None = None
    note_s: Sampler | None = None
    outbound: Outbound | None = None
    days: int = 1  # horizon.days: each day's arrivals run from count_from_s + k days
    day_span_s: float = 0.0  # for this long (horizon.start to horizon.end)
    contacts: Contacts | None = None
    caller_routing: CallerRouting = field(default_factory=CallerRouting)

    def frame(self) -> Frame:
        """Where the run's calls are counted (the horizon's intervals)."""
        return Frame(
            self.count_from_s,
            self.interval_s,
            self.n_intervals,
            self.queues,
            tuple(t.agent for t in self.timetables),
            len(self.clients),
            self.sl_threshold_s,
            self.short_abandon_s,
        )

    @property
    def counted_end_s(self) -> float:
        """The end of the counted intervals on the clock."""
        return self.count_from_s + self.n_intervals * self.interval_s

    def slots(self, step_s: float) -> int:
        """How many steps of ``step_s`` cover the counted intervals (the last one cut at
        their end)."""
        return math.ceil(self.n_intervals * self.interval_s / step_s)

    def expected_calls(self, step_s: float | None = None) -> np.ndarray:
        """[slot, stream]: the mean number of first calls arriving in each step of
        ``step_s`` (default: each interval) of the counted intervals from each stream,
        exactly, from its rates (a day-to-day volume multiplier has mean 1): what a
        replication's drawn arrivals average to."""
        step = step_s or self.interval_s
        n, start, end = self.slots(step), self.count_from_s, self.counted_end_s
        out = np.zeros((n, len(self.streams)))
        for k, s in enumerate(self.streams):
            for a, b, r in s.pieces:
                for i in range(
                    max(0, int((a - start) // step)), min(n, math.ceil((b - start) / step))
                ):
                    lo = start + i * step
                    out[i, k] += r * max(0.0, min(b, lo + step, end) - max(a, lo))
        return out

    def interval_labels(self) -> list[tuple[int, str]]:
        """(day, "HH:MM") of each interval's start; day k is the k-th 24 hours from the
        horizon's start (an overnight day's hours after midnight are its own)."""
        start = self.origin_min + self.count_from_s / 60
        step = self.interval_s / 60
        return [
            (int(i * step // 1440) + 1, _day_hhmm(start + i * step)[1])
            for i in range(self.n_intervals)
        ]


def paid_seconds(plan: SimPlan, wage_of_group: dict[str, float]) -> np.ndarray:
    """[interval]: the agents' working time in each counted interval (log-in to log-out,
    breaks included: shifts are paid whole), each second weighted by its group's wage."""
    n, step, start = plan.n_intervals, plan.interval_s, plan.count_from_s
    out = np.zeros(n)
    end = start + n * step
    for t in plan.timetables:
        wage = wage_of_group.get(t.group, 0.0)
        if not wage:
            continue
        on: float | None = None
        spans = []
        for at, kind in t.steps:
            if kind is Step.LOGIN and on is None:
                on = at
            elif kind is Step.LOGOUT and on is not None:
                spans.append((on, at))
                on = None
        if on is not None:
            spans.append((on, end))
        for a, b in spans:
            a, b = max(a, start), min(b, end)
            for i in range(int((a - start) // step), math.ceil((b - start) / step)):
                lo = start + i * step
                out[i] += wage * max(0.0, min(b, lo + step) - max(a, lo))
    return out


def _day_hhmm(total_min: float) -> tuple[int, str]:
    day, m = divmod(round(total_min), 1440)
    return day + 1, f"{m // 60:02d}:{m % 60:02d}"


DRAIN_S = 4 * 3600.0  # how long a run follows calls after the horizon's end


def _daily(origin: int, end_s: float, start_min: int, length_min: int) -> list[tuple[float, float]]:
    """The (start_s, end_s) on the clock of a daily span from ``start_min`` after midnight
    lasting ``length_min``, every day it overlaps [0, end_s) (the day before day 1 too: a
    night shift that began then)."""
    spans: list[tuple[float, float]] = []
    first_day = (origin // 1440) - 1
    day = first_day
    while True:
        start = ((day * 1440) + start_min - origin) * 60.0
        if start >= end_s:
            return spans
        stop = start + length_min * 60.0
        if stop > 0:
            spans.append((start, stop))
        day += 1


def night_points(h: Horizon, arrivals: Arrivals) -> list[ProfilePoint]:
    """The profile's points with calls outside each day's opening hours (``start`` to
    ``end``), over several days (one day has no night)."""
    span = span_min(h.start, h.end)
    if h.days == 1 or arrivals.profile is None:
        return []
    start = minutes(h.start)
    return [
        p for p in arrivals.profile if p.per_hour > 0 and (minutes(p.at) - start) % 1440 >= span
    ]


def nights_open(h: Horizon, arrivals: Arrivals) -> bool:
    """Whether calls arrive outside each day's opening hours: they are the whole day, or
    the profile has points with calls outside them (it then sets the rate day and night)."""
    return span_min(h.start, h.end) == 1440 or bool(night_points(h, arrivals))


def build_plan(s: Scenario) -> SimPlan:
    h = s.horizon
    origin = minutes(h.start) - h.warmup_min
    start_s = h.warmup_min * 60.0
    end_s = start_s + h.length_min() * 60.0
    span_s = span_min(h.start, h.end) * 60.0  # a day's opening hours

    def pieces(arrivals: Arrivals) -> tuple[tuple[float, float, float], ...]:
        """The rate's pieces, each within one day's opening hours (the nights' too when
        they are open): a day's multiplier scales whole pieces."""
        if arrivals.per_hour is not None:
            rates = [(0.0, end_s, arrivals.per_hour / 3600)]
        else:  # each day: the first rate from midnight, each point's until the next point
            assert arrivals.profile is not None
            at = [minutes(p.at) for p in arrivals.profile]
            at[0] = 0
            bounds = [*at[1:], 1440]
            rates = sorted(
                (lo, hi, p.per_hour / 3600)
                for p, a, b in zip(arrivals.profile, at, bounds, strict=True)
                if p.per_hour > 0
                for lo, hi in _daily(origin, end_s, a, b - a)
            )
        hours = 86_400.0 if nights_open(h, arrivals) else span_s
        days = [start_s + k * 86_400.0 for k in range(h.days)]
        opening = [(0.0 if k == 0 else t, min(t + hours, end_s)) for k, t in enumerate(days)]
        return tuple((max(a, lo), min(b, hi), r)
                     for lo, hi in opening for a, b, r in rates
                     if min(b, hi) > max(a, lo))  # fmt: skip

    streams = [
        Stream(
            queue=c.queue,
            priority=c.priority,
            pieces=pieces(c.arrivals),
            talk=sampler(c.talk_s),
            patience=sampler(c.patience_s) if c.patience_s else None,
            wrap_up=sampler(c.wrap_up_s) if c.wrap_up_s else None,
            retrial_p=c.retrial.probability if c.retrial else 0.0,
            retrial_delay=sampler(c.retrial.delay_s) if c.retrial else None,
            retrial_max=c.retrial.max_attempts if c.retrial else 0,
            mean_handle_s=dist_mean(c.talk_s) + (dist_mean(c.wrap_up_s) if c.wrap_up_s else 0),
            handle_moment2_s2=handle_moment2(c.talk_s, c.wrap_up_s),
            mean_patience_s=dist_mean(c.patience_s) if c.patience_s else float("inf"),
            day_to_day=_day_to_day(c.arrivals),
            recall=Recall(_chances(c.recall), sampler(c.recall.delay_s)) if c.recall else None,
            transfer=Transfer(_chances(c.transfer), c.transfer.queue, sampler(c.transfer.talk_s))
            if c.transfer
            else None,
            retrial_busy_p=_busy_retrial(c.retrial),
            retrial_next_day=c.retrial.next_day if c.retrial else 0.0,
            callback=Callback(c.callback.accept, c.callback.answer, sampler(c.callback.dial_s))
            if c.callback
            else None,
            balking=Balking(
                tuple(sorted(c.balking)), tuple(c.balking[k] for k in sorted(c.balking))
            )
            if c.balking
            else None,
            slowdown=next((q.slowdown for q in s.queues if q.name == c.queue), 0.0),
        )
        for c in s.calls
    ]
    work = s.answering
    for i, cl in enumerate(s.clients):
        streams.append(
            Stream(
                queue=cl.queue,
                priority=None,
                pieces=pieces(cl.arrivals),
                talk=sampler(work.talk_s),
                patience=sampler(work.patience_s) if work.patience_s else None,
                wrap_up=sampler(work.wrap_up_s) if work.wrap_up_s else None,
                retrial_p=0.0,
                retrial_delay=None,
                client=i,
                mean_handle_s=dist_mean(work.talk_s)
                + (dist_mean(work.wrap_up_s) if work.wrap_up_s else 0),
                handle_moment2_s2=handle_moment2(work.talk_s, work.wrap_up_s),
                mean_patience_s=dist_mean(work.patience_s) if work.patience_s else float("inf"),
                day_to_day=_day_to_day(cl.arrivals),
            )
        )
    outbound = None
    if (o := s.outbound) is not None:  # the dialer's calls: a stream with no arrivals
        outbound = Outbound(len(streams), o.right_party, sampler(o.dial_s))
        streams.append(
            Stream(
                queue=o.queue,
                priority=None,
                pieces=(),
                talk=sampler(o.talk_s),
                patience=None,
                wrap_up=sampler(o.wrap_up_s) if o.wrap_up_s else None,
                retrial_p=0.0,
                retrial_delay=None,
                mean_handle_s=dist_mean(o.talk_s) + (dist_mean(o.wrap_up_s) if o.wrap_up_s else 0),
            )
        )
    centre = centre_zone(s)
    calendar_start = datetime.combine(work.day, time(0), centre) + timedelta(minutes=origin)

    groups = {g.name: g for g in s.agents}
    timetables = []
    for name, group in agent_names(s):
        g = groups[group]
        k = int(name.rsplit("-", 1)[1])  # the agent's number in its group
        p_answer = (
            g.device.answer_probability
            if g.device is not None
            else g.answer_probability
            if g.answer_probability is not None
            else s.routing.answer_probability
        )
        steps = _on_duty(g, k, origin, end_s) if g.on_duty else _steps(g, origin, end_s)
        delay = sampler(g.device.answer_delay_s) if g.device is not None else None
        timetables.append(Timetable(name, g.name, p_answer, steps, delay))
    # agents who always answer at once: their phones answer by themselves
    auto_answer = (
        s.routing.answer_delay_s is None
        and s.routing.handover_s is None
        and all(t.answer_probability >= 1.0 and t.answer_delay is None for t in timetables)
    )
    r = s.routing
    return SimPlan(
        name=s.name,
        acd=acd_config(s, auto_answer=auto_answer),
        streams=tuple(streams),
        timetables=tuple(timetables),
        origin_min=origin,
        count_from_s=start_s,
        arrivals_end_s=end_s,
        run_end_s=end_s + DRAIN_S,
        interval_s=h.interval_min * 60.0,
        n_intervals=int((end_s - start_s) // (h.interval_min * 60.0)),
        queues=tuple(q.name for q in s.queues),
        sl_threshold_s=s.service_level.sl_threshold_s,
        short_abandon_s=s.service_level.short_abandon_s,
        answer_delay=sampler(r.answer_delay_s) if r.answer_delay_s else None,
        handover=sampler(r.handover_s) if r.handover_s else None,
        ring_timeout_s=r.ring_timeout_s,
        clients=tuple(_client(spec, c) for spec, c in zip(s.clients, clients(s), strict=True)),
        calendar_start=calendar_start,
        formal_factor=work.formal_factor,
        forward_s=sampler(work.forward_s),
        note_s=sampler(work.note_s),
        contacts=work.contacts if s.clients else None,
        days=h.days,
        day_span_s=span_s,
        outbound=outbound,
        caller_routing=caller_routing(s),
    )


def _steps(g: AgentGroup, origin: int, end_s: float) -> tuple[tuple[float, Step], ...]:
    """An agent's timetable: log in and out every day of its shift (the whole run if it
    has none), with the breaks that fall inside each shift; in time order (a log-out
    before a log-in at the same instant)."""
    if g.shift is None:
        shifts = [(0.0, float("inf"))]
        start_min, length = 0, 10**9
    else:
        start_min, length = minutes(g.shift.start), g.shift.length_min()
        shifts = _daily(origin, end_s, start_min, length)
    steps: list[tuple[float, Step]] = []
    for on, off in shifts:
        login = max(on, 0.0)
        steps.append((login, Step.LOGIN))
        for b in g.breaks:
            offset = (minutes(b.start) - start_min) % 1440 if g.shift else None
            if offset is None:  # no shift: the break every day of the run
                for t, _ in _daily(origin, end_s, minutes(b.start), b.minutes):
                    if t >= 0:
                        steps += [(t, Step.PAUSE), (t + b.minutes * 60.0, Step.READY)]
            elif offset < length and on + offset * 60.0 >= login:
                t = on + offset * 60.0
                steps += [(t, Step.PAUSE), (t + b.minutes * 60.0, Step.READY)]
        if off != float("inf"):
            steps.append((off, Step.LOGOUT))
    steps.sort(key=lambda st: st[0])  # stable: a log-out stays before a log-in at its time
    return tuple(steps)


def _chances(f: FollowUp) -> tuple[float, ...]:
    """The chance of a follow-up by the serving agent's level (index 0 unused)."""
    return (f.probability, *(f.by_level.get(k, f.probability) for k in range(1, 6)))


def moment2(dist: Dist) -> float:
    """The mean of a distribution's square, exactly (an empirical one's values'; 0 if it
    has none)."""
    if isinstance(dist, Constant):
        return dist.value**2
    if isinstance(dist, Uniform):
        return (dist.low**2 + dist.low * dist.high + dist.high**2) / 3
    if isinstance(dist, Empirical):
        return sum(v * v for v in dist.values) / len(dist.values) if dist.values else 0.0
    if isinstance(dist, Exponential):
        return 2 * dist.mean**2
    return dist.mean**2 * (1 + dist.cv**2)  # lognormal, gamma: by their cv


def handle_moment2(talk: Dist, wrap_up: Dist | None) -> float:
    """The mean of (talk + wrap-up)² of independent draws."""
    if wrap_up is None:
        return moment2(talk)
    return moment2(talk) + 2 * dist_mean(talk) * dist_mean(wrap_up) + moment2(wrap_up)


def _day_to_day(arrivals: Arrivals) -> DayToDay | None:
    u = arrivals.day_to_day
    return None if u is None else DayToDay(u.dist, u.cv)


def _on_duty(g: AgentGroup, k: int, origin: int, end_s: float) -> tuple[tuple[float, Step], ...]:
    """Agent ``k`` (from 1) of an ``on_duty`` group: logged in while the count is >= k
    (each point's count from its time to the next, the first from midnight)."""
    assert g.on_duty is not None
    at = [minutes(p.at) for p in g.on_duty]
    at[0] = 0
    bounds = [*at[1:], 1440]
    spans = sorted(
        span
        for p, a, b in zip(g.on_duty, at, bounds, strict=True)
        if p.count >= k
        for span in _daily(origin, end_s + DRAIN_S, a, b - a)
    )
    steps: list[tuple[float, Step]] = []
    for on, off in spans:
        if steps and steps[-1][0] >= on:  # continues the span before
            steps.pop()
        else:
            steps.append((max(on, 0.0), Step.LOGIN))
        steps.append((off, Step.LOGOUT))
    return tuple(steps)


@dataclass(frozen=True, slots=True)
class PlanClient:
    """A client as the simulator needs it: the core's policy object (its voice menu's
    option probabilities drive the callers' keys) plus what callers and targets do."""

    client: Client
    success: dict[str, float]  # forward target -> chance it takes the call
    employees: tuple[str, ...]  # callers ask for one of them, uniformly
    advertising_share: float
    faq_paths: tuple[tuple[str, ...], ...]  # each call is about one FAQ leaf, uniformly


def _leaf_paths(node: FaqNode) -> list[tuple[str, ...]]:
    """The title paths from ``node`` (not included) to each of its leaves."""
    if not node.children:
        return [()]
    return [(c.title, *path) for c in node.children for path in _leaf_paths(c)]


def _client(spec: ClientSpec, client: Client) -> PlanClient:
    return PlanClient(
        client=client,
        success={t.number: t.success for tr in treatments(spec) for t in tr.targets},
        employees=tuple(e.name for e in spec.employees),
        advertising_share=spec.advertising_share,
        faq_paths=tuple(_leaf_paths(client.faq)) if client.faq else (),
    )


def _busy_retrial(r: Retrial | None) -> float:
    """The chance a caller who heard busy calls again."""
    if r is None:
        return 0.0
    return r.probability if r.busy_probability is None else r.busy_probability
