"""Turn a validated scenario into what the simulator runs: the ACD configuration, the
clock, the call streams and each agent's timetable.

Clock: seconds from the start of the run, which is ``horizon.start`` minus the warm-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from callsim.core import (
    AcdConfig,
    Action,
    ActionKind,
    AgentConfig,
    QueueConfig,
    RoutingConfig,
)
from callsim.scenario.model import Queue, Scenario, ToQueue, minutes
from callsim.sim.sample import Dist, dist_mean, sampler

Sampler = Callable[[np.random.Generator, int], np.ndarray]


@dataclass(frozen=True, slots=True)
class Stream:
    queue: str
    priority: int | None
    pieces: tuple[tuple[float, float, float], ...]  # (start_s, end_s, rate_per_s)
    handle: Sampler
    patience: Sampler | None
    wrap_up: Sampler | None
    retrial_p: float
    retrial_delay: Sampler | None


@dataclass(frozen=True, slots=True)
class Shift:
    """One agent's working time: ``(at_s, kind, reason)`` steps, kind in login, logout,
    pause, ready; in time order."""

    agent: str
    group: str
    answer_probability: float
    steps: tuple[tuple[float, str], ...]


@dataclass(frozen=True, slots=True)
class SimPlan:
    name: str
    acd: AcdConfig
    streams: tuple[Stream, ...]
    shifts: tuple[Shift, ...]
    origin_min: int  # clock 0 in minutes after midnight
    count_from_s: float  # horizon.start on the clock (end of warm-up)
    arrivals_end_s: float  # horizon.end on the clock
    interval_s: float
    n_intervals: int
    queues: tuple[str, ...]
    sl_threshold_s: float
    short_abandon_s: float
    answer_delay: Sampler | None
    ring_timeout_s: float

    def clock(self, hhmm: str) -> float:
        return (minutes(hhmm) - self.origin_min) * 60.0

    def interval_labels(self) -> list[str]:
        start = self.origin_min + self.count_from_s / 60
        step = self.interval_s / 60
        return [_hhmm(start + i * step) for i in range(self.n_intervals)]


def _hhmm(total_min: float) -> str:
    m = round(total_min) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def _action(fallback: str | ToQueue) -> Action:
    if isinstance(fallback, ToQueue):
        return Action(ActionKind.QUEUE, fallback.queue)
    return Action(ActionKind(fallback))


def _queue(q: Queue) -> QueueConfig:
    return QueueConfig(
        name=q.name,
        skills=tuple(q.skills),
        strategy=q.strategy,
        priority=q.priority,
        max_wait_s=q.max_wait_s,
        on_max_wait=_action(q.on_max_wait),
        overflow_after_s=q.overflow.after_s if q.overflow else None,
        overflow_to=tuple(q.overflow.to) if q.overflow else (),
        join_empty=q.join_empty,
        leave_when_empty=q.leave_when_empty,
        on_empty=_action(q.on_empty),
        wrap_up_s=0.0,  # the simulator passes each call's own wrap-up
    )


def build_plan(s: Scenario) -> SimPlan:
    h = s.horizon
    origin = minutes(h.start) - h.warmup_min
    start_s = h.warmup_min * 60.0
    end_s = (minutes(h.end) - origin) * 60.0

    def clock(hhmm: str) -> float:
        return (minutes(hhmm) - origin) * 60.0

    streams = []
    for c in s.calls:
        if c.arrivals.per_hour is not None:
            pieces: list[tuple[float, float, float]] = [(0.0, end_s, c.arrivals.per_hour / 3600)]
        else:
            assert c.arrivals.profile is not None
            points = [(clock(p.at), p.per_hour / 3600) for p in c.arrivals.profile]
            points[0] = (min(points[0][0], 0.0), points[0][1])  # the first rate also before it
            bounds = [t for t, _ in points[1:]] + [end_s]
            pieces = [
                (max(t, 0.0), min(b, end_s), r) for (t, r), b in zip(points, bounds, strict=True)
            ]
        streams.append(
            Stream(
                queue=c.queue,
                priority=c.priority,
                pieces=tuple(pieces),
                handle=sampler(c.handle_s),
                patience=sampler(c.patience_s) if c.patience_s else None,
                wrap_up=sampler(c.wrap_up_s) if c.wrap_up_s else None,
                retrial_p=c.retrial.probability if c.retrial else 0.0,
                retrial_delay=sampler(c.retrial.delay_s) if c.retrial else None,
            )
        )

    agents = []
    shifts = []
    for g in s.agents:
        p_answer = (
            g.answer_probability
            if g.answer_probability is not None
            else s.routing.answer_probability
        )
        for k in range(1, g.count + 1):
            name = f"{g.name}-{k}"
            agents.append(AgentConfig(name, g.skill_levels(), weight=g.weight))
            login = max(clock(g.shift.start), 0.0) if g.shift else 0.0
            steps = [(login, "login")]
            for b in g.breaks:
                t = clock(b.start)
                if t >= login:
                    steps += [(t, "pause"), (t + b.minutes * 60.0, "ready")]
            if g.shift:
                steps.append((max(clock(g.shift.end), login), "logout"))
            steps.sort(key=lambda st: st[0])
            shifts.append(Shift(name, g.name, p_answer, tuple(steps)))

    r = s.routing
    acd = AcdConfig(
        queues=tuple(_queue(q) for q in s.queues),
        agents=tuple(agents),
        routing=RoutingConfig(
            strategy=r.strategy,
            ring_timeout_s=r.ring_timeout_s,
            max_no_answer=r.max_no_answer,
            on_hunt_exhausted=Action(ActionKind(r.on_hunt_exhausted)),
            use_proficiency=r.use_proficiency,
            # agents who always answer at once: their phones answer by themselves
            auto_answer=r.answer_delay_s is None
            and r.answer_probability >= 1.0
            and all(g.answer_probability in (None, 1.0) for g in s.agents),
        ),
    )
    return SimPlan(
        name=s.name,
        acd=acd,
        streams=tuple(streams),
        shifts=tuple(shifts),
        origin_min=origin,
        count_from_s=start_s,
        arrivals_end_s=end_s,
        interval_s=h.interval_min * 60.0,
        n_intervals=int((end_s - start_s) // (h.interval_min * 60.0)),
        queues=tuple(q.name for q in s.queues),
        sl_threshold_s=s.service_level.threshold_s,
        short_abandon_s=s.service_level.short_abandon_s,
        answer_delay=sampler(r.answer_delay_s) if r.answer_delay_s else None,
        ring_timeout_s=r.ring_timeout_s,
    )


def mean_handle_s(d: Dist) -> float:
    return dist_mean(d)
