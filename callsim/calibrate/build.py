"""A scenario from a call log (``callsim calibrate``), and each logged day as a scenario
of its own (``day_scenario``: the replay ``callsim compare`` and the calibration share).

The calibrated scenario is the selected days' average day:

- one queue per call type; agent groups of the skills the log shows (``fit.infer_pools``:
  who served what), each logged in by ``on_duty`` head counts, its agents at work in each
  interval times that interval's **availability factor**;
- per call type and logged priority a call stream: its arrival rate per interval (less
  the share of retrials, which the ``retrial`` block adds back), its talk-time fit, the
  Kaplan-Meier patience of its group, the after-call work the log shows; the queues age
  waiting calls so that a priority level is worth ``PRIORITY_CREDIT_S`` of waiting.

Without agent states in the log, an agent counts as at work through each spell of their
calls (calls less than 2 hours apart); after each call they are not ready for a time
(the after-call work, ``fit.fit_wrap_up``: seen whole while calls waited). With agent
states (a queue log's logins and pauses) the spells are those. The factors, one per
block of the day, are chosen by bisection so that the calibration days, each replayed
with its own calls, talk, staffing, skills of the day and queue discipline
(``replays``), abandon in each block as many calls as the log says (1 when the log has
agent states).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from callsim.analytics.metrics import metric_samples
from callsim.calibrate.fit import (
    PRIORITY_CREDIT_S,
    Frame,
    HandoverFit,
    Observed,
    PatienceFit,
    Pools,
    RetrialFit,
    TalkFit,
    WrapUpFit,
    day_pools,
    day_type,
    fit_handover,
    fit_patience,
    fit_retrials,
    fit_talk,
    fit_wrap_up,
    infer_pools,
    observe,
    queue_name,
)
from callsim.calibrate.log import CallLog, LoggedCall
from callsim.errors import InputError
from callsim.scenario import Scenario
from callsim.scenario.model import minutes, span_min
from callsim.sim.execute import Executor, Job

QUEUE = "calls"  # the one queue and agent group without pools
MIN_PATIENCE_QUEUED = 150  # a group's own patience fit needs this many calls that queued
MIN_PATIENCE_ABANDONED = 30  # ... and this many abandonments
MIN_DAY_TALK = 30  # a type's talk in a replay is the day's own when it answered this many
MIN_DAY_QUEUED = 10  # a type's day is split by priority as its queued calls when this many
MIN_SHARE = 0.01  # a priority of less than this share of a type's queued calls joins the main
FACTOR_RANGE = (0.3, 1.5)
READY_RANGE = (0.1, 1.5)  # the ready agents' factor (those logged in less the standby)
MAX_STANDBY = 0.9  # at most this share of the agents logged in are on standby
FACTOR_STEPS = 9  # bisection steps: the factor to within 0.003
BLOCK_MIN = 120  # the day's blocks of one availability factor each
MIN_BLOCK_ABANDONED = 100  # a block's factor needs this many abandonments over the days
STANDBY_AFTER_S = 20.0  # a call waits this long before standby agents take it
WRAP_UP_MAX_S = 120.0  # after-call work ends by then: a longer not-ready gap was time away


CHOICES = (
    "pools",
    "priorities",
    "day_talk",
    "availability_by_interval",
    "patience_by_group",
    "wrap_up",
    "day_skills",
    "handover",
    "wrap_up_max",
    "day_wrap_up",
)
STANDBY = "_standby"  # a standby group's and queue's name: its agent group's or type's and this


@dataclass(frozen=True, slots=True)
class Model:
    """What calibrate and compare give the simulation, each choice on by default (the
    ablation switches them off one at a time: ``--without``)."""

    pools: bool = True  # queues and agent groups from who served what; else one of each
    priorities: bool = True  # callers' logged priority with the queue credit; else FIFO
    day_talk: bool = True  # a replay gets the day's talk; else the calibrated talk
    availability_by_interval: bool = True  # a factor per interval of the day; else one
    patience_by_group: bool = True  # Kaplan-Meier per type and priority; else all calls
    wrap_up: bool = True  # after-call not-ready time (Kaplan-Meier while calls waited); else none
    day_skills: bool = True  # a replay's agents have the skills of their day; else the period's
    handover: bool = True  # a call that waited is handed over as the log's waits show; else at once
    wrap_up_max: bool = True  # after-call work ends by WRAP_UP_MAX_S (beyond: time away); else not
    day_wrap_up: bool = True  # a replay gets the day's own after-call work; else the calibrated
    # agents at work split into ready and standby (who take a call once it has waited
    # STANDBY_AFTER_S), fitted to the log's service level, each day's ready agents
    # following its agents' idle share (``standby_split``); off unless asked (--standby)
    standby: bool = False

    @classmethod
    def without(cls, names: str | None) -> Model:
        off = [n.strip() for n in (names or "").split(",") if n.strip()]
        for n in off:
            if n not in CHOICES:
                raise InputError(f"--without: {n!r} is not one of {', '.join(CHOICES)}")
        return cls(**dict.fromkeys(off, False))

    @property
    def off(self) -> list[str]:
        return [n for n in CHOICES if not getattr(self, n)]


def one_pool(pools: Pools) -> Pools:
    """Every type and every agent in one pool (the model without pools)."""
    types = sorted({t for ts in pools.types.values() for t in ts})
    agents = sorted({a for ags in pools.agents.values() for a in ags})
    return Pools(
        pools.served, {QUEUE: types}, {QUEUE: agents}, dict.fromkeys(agents, types), {QUEUE: agents}
    )


def end_label(fr: Frame) -> str:
    return f"{fr.end_min // 60:02d}:{fr.end_min % 60:02d}"


def priority_shares(queued: np.ndarray, levels: list[int]) -> dict[int, float]:
    """A type's calls split by priority as logged for those that queued ([level] counts):
    the shares of levels with at least ``MIN_SHARE`` (the rest join the commonest); a type
    that never queued is all of the lowest level."""
    total = float(queued.sum())
    if total <= 0:
        return {levels[0]: 1.0}
    share = {v: float(n) / total for v, n in zip(levels, queued, strict=True)}
    main = max(share, key=lambda v: (share[v], v))
    out = {v: x for v, x in share.items() if x >= MIN_SHARE}
    out[main] = out.get(main, 0.0) + sum(x for x in share.values() if x < MIN_SHARE)
    return dict(sorted(out.items()))


@dataclass(frozen=True, slots=True)
class Block:
    """A block of the day (``availability_blocks``) as ``tune_factor`` fitted it: its
    agents logged in (ready and standby) and its ready agents, each as a factor of the
    agents at work, fitted to the log's abandonment and service level of the block."""

    intervals: list[int]
    factor: float
    ready: float  # on the calibration days' mean idle share (``standby_split``)
    abandon_rate: float  # the log's
    service_level: float  # the log's
    slope: float = 0.0  # standby share per idle share (``standby_split``)


@dataclass
class Calibration:
    source: str
    days: list[date]
    frame: Frame
    observed: Observed
    pools: Pools
    talk: dict[str, TalkFit]
    patience: PatienceFit  # all calls that queued
    patience_by_group: dict[tuple[str, int], PatienceFit]  # (type or pool, priority) -> fit
    retrials: RetrialFit
    wrap_up: WrapUpFit | None
    talk_model: str  # lognormal | empirical
    model: Model = Model()
    handover: HandoverFit | None = None  # the ACD's hand-over of a call that waited
    factor: float = 1.0
    factors: list[float] | None = None  # per interval; none = ``factor`` in every one
    simulated_abandon: float | None = None
    # per bisection step: the mean factor (ready and standby), the simulated abandonment,
    # the mean ready factor, the simulated service level
    tuning: list[tuple[float, float, float, float]] | None = None
    blocks: list[Block] | None = None  # the day's blocks, each with its factors and goals
    days_replayed: list[Replay] | None = None  # each day as tune_factor replays it
    standby: list[float] | None = None  # per interval: agents at work on standby (x this)
    standby_after_s: float = STANDBY_AFTER_S  # a call waits this long for a standby agent
    # per interval: a day's standby share of those logged in per its idle share
    # (``standby_split``); the calibration days' mean idle share gives the average day's
    standby_slope: list[float] | None = None
    idle_share: float = 0.0

    @property
    def observed_abandon(self) -> float:
        return float(self.observed.abandoned.sum() / max(self.observed.offered.sum(), 1))

    def talk_dist(self, t: str) -> dict[str, Any]:
        f = self.talk[t]
        if self.talk_model == "empirical":
            return {"dist": "empirical", "values": list(f.values)}
        return {
            "dist": "lognormal",
            "mean": round(math.exp(f.mu + f.sigma**2 / 2), 1),
            "cv": round(math.sqrt(math.exp(f.sigma**2) - 1), 3),
        }

    def patience_of(self, t: str, priority: int) -> PatienceFit:
        """The patience of type ``t``'s callers of ``priority``: the first group with a
        fit of its own, of (type, priority), (type), (pool, priority), (pool), all calls."""
        if not self.model.patience_by_group:
            return self.patience
        pool = "pool " + self.pools.of_type(t)
        for key in ((t, priority), (t, -1), (pool, priority), (pool, -1)):
            if key in self.patience_by_group:
                return self.patience_by_group[key]
        return self.patience

    def interval_factors(self, factor: float | list[float] | None = None) -> list[float]:
        f = self.factors if factor is None else factor
        if f is None:
            f = self.factor
        return [float(f)] * self.frame.n if isinstance(f, float | int) else list(f)

    def scenario(
        self,
        arrivals: np.ndarray,  # [interval, type] calls per interval
        at_work: np.ndarray,  # [slot, pool] agents at work, on the staffing grid
        *,
        name: str,
        retrials: bool = True,
        factor: float | list[float] | None = None,
        standby: list[float] | None = None,
    ) -> Scenario:
        fr = self.frame
        obs = self.observed
        labels = fr.labels()
        hours = fr.interval_min / 60
        keep = 1 - self.retrials.share_of_calls if retrials else 1.0
        calls, types, priorities = [], [], []
        queued = obs.queued_priority.sum(axis=0)  # [type, level]
        ranked = obs.ranked()  # the discipline of most days: by priority, or first come
        for k, t in enumerate(obs.types):
            if t not in self.talk or arrivals[:, k].sum() <= 0:
                continue
            shares = priority_shares(queued[k], obs.levels) if self.model.priorities else {0: 1.0}
            for level, share in shares.items():
                profile = [
                    {"at": at, "per_hour": round(float(n) * share * keep / hours, 3)}
                    for at, n in zip(labels, arrivals[:, k], strict=True)
                ]
                profile.append({"at": end_label(fr), "per_hour": 0})
                stream: dict[str, Any] = {
                    "queue": queue_name(t),
                    "arrivals": {"profile": profile},
                    "talk_s": self.talk_dist(t),
                    "patience_s": {
                        "dist": "empirical",
                        "values": self.patience_of(t, level).values(),
                    },
                    "priority": level if ranked else 0,
                }
                if self.model.wrap_up and self.wrap_up is not None:
                    stream["wrap_up_s"] = {"dist": "empirical", "values": self.wrap_up_values()}
                if retrials and self.retrials.mean_delay_s:
                    stream["retrial"] = {
                        "probability": round(self.retrials.probability, 4),
                        "delay_s": {
                            "dist": "exponential",
                            "mean": round(self.retrials.mean_delay_s, 1),
                        },
                        "max_attempts": 3,
                    }
                calls.append(stream)
                types.append(t)
                priorities.append(level)
        factors = self.interval_factors(factor)
        standby = standby if standby is not None else self.standby
        if not self.model.standby:
            standby = None
        agents = agent_groups(at_work, factors, obs.groups, self.pools, fr, standby)
        aging = round(1 / PRIORITY_CREDIT_S, 6) if ranked and len(set(priorities)) > 1 else 0.0
        mean_factor = float(np.mean(factors))
        data = {
            "name": name,
            "description": f"Calibrated from {self.source} ({len(self.days)} days, "
            f"{self.days[0]} to {self.days[-1]}) by callsim calibrate.",
            "horizon": {
                "start": labels[0],
                "end": end_label(fr),
                "interval_min": fr.interval_min,
                "warmup_min": 0,
            },
            "service_level": {"sl_threshold_s": fr.sl_threshold_s, "sl_target": 0.8},
            "routing": self.routing(),
            "queues": queues(
                obs.types, aging, self.standby_after_s if standby is not None else None
            ),
            "calls": calls,
            "agents": agents,
            "calibration": {
                "source": self.source,
                "days": [d.isoformat() for d in self.days],
                "types": types,
                "priorities": priorities,
                "pools": self.pools.types,
                "availability_factor": round(mean_factor, 3),
                "availability_factors": [round(f, 3) for f in factors],
                "standby_factors": [round(f, 3) for f in standby] if standby else None,
                "standby_per_idle_share": [round(k, 3) for k in self.standby_slope]
                if standby and self.standby_slope
                else None,
                "retrial_share": round(self.retrials.share_of_calls, 4),
                "patience_exp_mean_s": round(self.patience.exp_mean_s, 1),
                "observed_abandon_rate": round(self.observed_abandon, 4),
            },
        }
        return Scenario.model_validate(data)

    def wrap_up_values(self) -> list[float]:
        """The after-call work the scenario is given: the log's (``fit.fit_wrap_up``),
        ended by ``WRAP_UP_MAX_S`` (``wrap_up_values``)."""
        assert self.wrap_up is not None
        return wrap_up_values(self.wrap_up, self.model)

    def routing(self) -> dict[str, Any]:
        out: dict[str, Any] = {"strategy": "longest_idle", "ring_timeout_s": 15}
        if self.model.handover and self.handover is not None:
            out["handover_s"] = {"dist": "empirical", "values": list(self.handover.values)}
        return out

    def average_day(
        self,
        factor: float | list[float] | None = None,
        name: str = "calibrated",
        standby: list[float] | None = None,
    ) -> Scenario:
        obs = self.observed
        return self.scenario(
            obs.arrivals.mean(axis=0),
            obs.present_group.mean(axis=0),
            name=name,
            factor=factor,
            standby=standby,
        )


def wrap_up_values(fit: WrapUpFit, model: Model) -> list[float]:
    """After-call work as a scenario is given it: the fit's quantiles, ended by
    ``WRAP_UP_MAX_S`` (``model.wrap_up_max``): a longer gap while calls waited was time
    away, which the availability factors stand for."""
    top = WRAP_UP_MAX_S if model.wrap_up_max else math.inf
    return [min(v, top) for v in fit.values]


def agent_groups(
    at_work: np.ndarray,
    factors: list[float],
    groups: list[str],
    pools: Pools,
    fr: Frame,
    standby: list[float] | None = None,
) -> list[dict[str, Any]]:
    """The agent groups of a scenario: each logged in by ``on_duty`` as its agents at work
    ([slot, group]) times the availability of the slot's interval, rounded so that the
    sum over the day keeps the unrounded agent-time (the remainder carried on). With
    ``standby`` (a factor per interval), each group also has its standby agents, at work
    times that factor: ``<group>_standby``, whose skills are the standby queues of the
    group's types (``queues``), which calls of the types overflow to once they waited."""
    out = []
    for j, group in enumerate(groups):
        skills = [queue_name(t) for t in pools.group_skills(group)] if group in pools.groups else []
        out.append(_group(group, skills, at_work[:, j], factors, fr))
    if standby is not None:
        for j, group in enumerate(groups):
            skills = [s + STANDBY for s in out[j]["skills"]]
            out.append(_group(group + STANDBY, skills, at_work[:, j], standby, fr))
    return out


def _group(
    name: str, skills: list[str], at_work: np.ndarray, factors: list[float], fr: Frame
) -> dict[str, Any]:
    per_slot = at_work.shape[0] // fr.n
    counts, carry = [], 0.0
    for k in range(at_work.shape[0]):
        want = float(at_work[k]) * factors[k // per_slot] + carry
        n = max(0, round(want))
        carry = want - n
        counts.append(n)
    return {
        "name": name,
        "count": max(1, *counts),
        "skills": skills,
        "on_duty": [
            {"at": at, "count": n}
            for at, n in zip(fr.slot_labels(len(counts)), counts, strict=True)
        ],
    }


def queues(types: list[str], aging: float, standby_after_s: float | None) -> list[dict[str, Any]]:
    """A queue per call type; with ``standby_after_s``, each type's calls overflow after
    that wait to its standby queue (``<type>_standby``, a skill of the standby agents
    only: ``agent_groups``), which no stream calls."""
    out: list[dict[str, Any]] = [
        {"name": queue_name(t), "skills": [queue_name(t)], "aging_per_s": aging} for t in types
    ]
    if standby_after_s is None:
        return out
    for q in out:
        q["overflow"] = {"after_s": standby_after_s, "to": [q["name"] + STANDBY]}
    return out + [
        {"name": q["name"] + STANDBY, "skills": [q["name"] + STANDBY], "aging_per_s": aging}
        for q in out
    ]


def frame_of(sc: Scenario) -> Frame:
    start = minutes(sc.horizon.start)
    return Frame(
        start,
        start + span_min(sc.horizon.start, sc.horizon.end),
        sc.horizon.interval_min,
        sc.service_level.sl_threshold_s,
    )


@dataclass
class Replay:
    """What a replay of one logged day is given beside its calls: the day observed on
    its own (``observed``, its index 0) with the agent groups of the day's skills
    (``pools``, ``fit.day_pools``), the day's queue discipline (``ranked``) and the
    day's own after-call work (``wrap_up``, ``fit.fit_wrap_up`` on the day's calls; None
    when the day shows too few gaps, or without ``model.wrap_up`` or ``model.day_wrap_up``)."""

    observed: Observed
    pools: Pools
    ranked: bool
    wrap_up: WrapUpFit | None = None


def replays(
    log: CallLog,
    obs: Observed,
    frame: Frame,
    pools: Pools,
    model: Model,
    handover_s: float = 0.0,
) -> list[Replay]:
    """Each of ``obs``'s days as ``day_scenario`` replays it: with the skills of the day
    (``model.day_skills``; else the period's ``pools``), its queue discipline, and its
    own after-call work (``model.day_wrap_up``), read as the calibration reads the
    period's (``fit.fit_wrap_up``, the gaps less ``handover_s``, the mean hand-over)."""
    by_day: dict[date, list[LoggedCall]] = {d: [] for d in obs.days}
    for c in log.calls:
        if c.day in by_day:
            by_day[c.day].append(c)
    out = []
    for d, day in enumerate(obs.days):
        mine = day_pools(pools, by_day[day]) if model.day_skills and model.pools else pools
        own = (
            fit_wrap_up(by_day[day], mine, {day: mine}, handover_s)
            if model.wrap_up and model.day_wrap_up
            else None
        )
        out.append(Replay(observe(log, [day], frame, mine), mine, obs.ranked(d), own))
    return out


def day_scenario(
    sc: Scenario,
    obs: Observed,
    d: int,
    pools: Pools,
    model: Model | None = None,
    ranked: bool | None = None,
    wrap_up: WrapUpFit | None = None,
) -> Scenario:
    """Logged day ``d`` as a scenario: its arrivals per type (split by priority as its calls
    that queued were), each type a queue; its own talk times per type; its own after-call
    work (``wrap_up``: ``Replay.wrap_up``; else the calibrated); its agents at work per
    agent group of ``pools`` (the skills they showed) times the calibrated availability
    of each interval; the calibrated patience of each type and priority."""
    cal = sc.calibration
    assert cal is not None
    model = model or Model()
    fr = frame_of(sc)
    labels = fr.labels()
    hours = fr.interval_min / 60
    data = sc.model_dump(mode="json", exclude_unset=True)
    prios = cal.priorities or [0] * len(cal.types)
    base = {(t, p): stream for t, p, stream in zip(cal.types, prios, data["calls"], strict=True)}
    rates = [sum(p["per_hour"] for p in s["arrivals"]["profile"]) for s in data["calls"]]
    main = cal.types[int(np.argmax(rates))]
    # the day's own queue discipline, as its calls show it: priority or first come
    ranked = model.priorities and (obs.ranked(d) if ranked is None else ranked)
    calls = []
    for k, t in enumerate(obs.types):
        counts = obs.arrivals[d, :, k]
        if counts.sum() <= 0:
            continue
        queued = obs.queued_priority[d, k]
        if not model.priorities:
            shares = {0: 1.0}
        elif queued.sum() >= MIN_DAY_QUEUED or t not in cal.types:
            shares = priority_shares(queued, obs.levels)
        else:  # too few of the day's calls queued to split it: the calibrated split
            mine = [r for r, u in zip(rates, cal.types, strict=True) if u == t]
            shares = {
                p: r / sum(mine) for p, r, u in zip(prios, rates, cal.types, strict=True) if u == t
            }
        for level, share in shares.items():
            kind = t if t in cal.types else main
            near = min((p for u, p in base if u == kind), key=lambda p: (abs(p - level), -p))
            stream = copy.deepcopy(base[(kind, near)])
            stream.pop("retrial", None)
            stream["queue"] = queue_name(t)
            stream["priority"] = level if ranked else 0
            stream["arrivals"] = {
                "profile": [
                    *(
                        {"at": at, "per_hour": float(n) * share / hours}
                        for at, n in zip(labels, counts, strict=True)
                    ),
                    {"at": end_label(fr), "per_hour": 0},
                ]
            }
            if model.day_talk:
                stream["talk_s"] = day_talk(stream["talk_s"], obs.talk_values[d].get(t, []))
            if model.day_wrap_up and wrap_up is not None and "wrap_up_s" in stream:
                own = wrap_up_values(wrap_up, model)
                stream["wrap_up_s"] = {"dist": "empirical", "values": own}
            calls.append(stream)
    factors = cal.availability_factors or [cal.availability_factor] * fr.n
    after_s = standby_after(sc)  # the scenario's standby agents, if calibrate fitted them
    standby = cal.standby_factors if after_s is not None else None
    if standby is not None and cal.standby_per_idle_share:  # the day's own readiness
        logged_in = [f + x for f, x in zip(factors, standby, strict=True)]
        factors, _ = standby_split(logged_in, cal.standby_per_idle_share, obs.idle_share(d))
    agents = agent_groups(obs.present_group[d], factors, obs.groups, pools, fr, standby)
    several = len({c["priority"] for c in calls}) > 1
    aging = round(1 / PRIORITY_CREDIT_S, 6) if ranked and several else 0.0
    data["queues"] = queues(obs.types, aging, after_s if standby else None)
    data["calls"] = calls
    data["agents"] = agents
    data["name"] = f"{sc.name}-{obs.days[d].isoformat()}"
    if not model.handover:
        data["routing"].pop("handover_s", None)
    return Scenario.model_validate(data)


def standby_split(
    logged_in: list[float], slope: list[float], idle: float
) -> tuple[list[float], list[float]]:
    """The average day's agents logged in (per interval, a factor of the agents at work)
    as ready and standby agents: the standby share of each interval is its ``slope``
    times the ``idle`` share (``Observed.idle_share``: how much of their time at work the
    agents sat out while calls of their skills waited), at most ``MAX_STANDBY``. A
    replayed day's ready agents are the ready of its own idle share; its standby agents
    are the average day's (``day_scenario``)."""
    share = [min(MAX_STANDBY, k * idle) for k in slope]
    ready = [f * (1 - x) for f, x in zip(logged_in, share, strict=True)]
    return ready, [f * x for f, x in zip(logged_in, share, strict=True)]


def standby_after(sc: Scenario) -> float | None:
    """The wait after which a calibrated scenario's calls overflow to its standby agents
    (``queues``); None when it has none."""
    for q in sc.queues:
        if q.overflow is not None and q.overflow.to[0] == q.name + STANDBY:
            return q.overflow.after_s
    return None


def day_talk(calibrated: dict[str, Any], day: list[float]) -> dict[str, Any]:
    """A type's talk in a replay: the day's own talk times when it answered at least
    ``MIN_DAY_TALK`` calls of it; with fewer, the calibrated distribution scaled to the
    day's mean; with none, the calibrated distribution."""
    if len(day) >= MIN_DAY_TALK:
        return {"dist": "empirical", "values": [round(v, 1) for v in day]}
    if not day or float(np.mean(day)) <= 0:
        return calibrated
    mean = float(np.mean(day))
    if calibrated["dist"] == "empirical" and calibrated.get("values"):
        ratio = mean / max(float(np.mean(calibrated["values"])), 1e-9)
        return {"dist": "empirical", "values": [round(v * ratio, 1) for v in calibrated["values"]]}
    if calibrated["dist"] in ("lognormal", "gamma", "exponential"):
        return {**calibrated, "mean": round(mean, 1)}
    return calibrated


def fit_patience_by_group(
    calls: list[LoggedCall], pools: Pools
) -> dict[tuple[str, int], PatienceFit]:
    """Kaplan-Meier patience per call type and per pool (``pool <name>``), each also per
    priority (all priorities: -1), where the group has enough calls that queued and
    abandoned to stand on its own."""
    groups: dict[tuple[str, int], list[LoggedCall]] = {}
    for c in calls:
        if c.wait_s > 0 or not c.answered:
            for who in (c.type, "pool " + pools.of_type(c.type)):
                groups.setdefault((who, -1), []).append(c)
                groups.setdefault((who, c.priority), []).append(c)
    out = {}
    for key, cs in sorted(groups.items()):
        if len(cs) >= MIN_PATIENCE_QUEUED and sum(not c.answered for c in cs) >= (
            MIN_PATIENCE_ABANDONED
        ):
            out[key] = fit_patience(cs)
    return out


def calibrate(
    log: CallLog,
    days: list[date],
    frame: Frame,
    talk_model: str = "lognormal",
    model: Model | None = None,
) -> Calibration:
    model = model or Model()
    chosen = set(days)
    calls = [c for c in log.calls if c.day in chosen]
    by_type: dict[str, list[Any]] = {}
    for c in calls:
        by_type.setdefault(c.type, []).append(c)
    talk = {
        t: fit_talk(cs)
        for t, cs in sorted(by_type.items())
        if sum(1 for c in cs if c.answered and c.talk_s > 0) >= 10
    }
    pools = infer_pools(calls) if model.pools else one_pool(infer_pools(calls))
    obs = observe(log, days, frame, pools)
    handover = fit_handover(calls) if model.handover else None
    # the gaps (the period's and each day's) less the hand-over the scenario carries: its
    # quantiles' mean, as ``compare`` reads it back (``dist_mean``)
    given = sum(handover.values) / len(handover.values) if handover else 0.0
    replayed = replays(log, obs, frame, pools, model, given)
    cal = Calibration(
        log.source,
        days,
        frame,
        obs,
        pools,
        talk,
        fit_patience(calls),
        fit_patience_by_group(calls, pools),
        fit_retrials(calls),
        fit_wrap_up(
            calls,
            pools,
            {d: r.pools for d, r in zip(days, replayed, strict=True)},
            given,
        ),
        talk_model,
        model,
        handover,
    )
    cal.days_replayed = replayed
    return cal


def availability_blocks(obs: Observed, frame: Frame) -> list[list[int]]:
    """The intervals grouped into blocks of ``BLOCK_MIN`` minutes, each given its own
    availability factor; a block whose calls abandoned fewer than ``MIN_BLOCK_ABANDONED``
    times over the days joins its neighbour (the last the one before it)."""
    per = max(1, BLOCK_MIN // frame.interval_min)
    blocks = [list(range(i, min(i + per, frame.n))) for i in range(0, frame.n, per)]
    abandoned = obs.abandoned.sum(axis=0)
    out: list[list[int]] = []
    for b in blocks:
        if out and abandoned[out[-1]].sum() < MIN_BLOCK_ABANDONED:
            out[-1] = out[-1] + b
        else:
            out.append(b)
    if len(out) > 1 and abandoned[out[-1]].sum() < MIN_BLOCK_ABANDONED:
        last = out.pop()
        out[-1] = out[-1] + last
    return out


def tune_factor(
    cal: Calibration,
    run_on: Executor,
    *,
    replications: int = 20,
    seed: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Calibration:
    """The availability factors at which the calibration days, each simulated as
    ``callsim compare`` rebuilds it (its own arrivals, talk and agents at work), abandon
    as many calls as the log says: in all (one factor), or in each block of the day (a
    factor per block: ``availability_blocks``), and, with standby agents
    (``model.standby``), answer as many calls within the service level's threshold as the
    log says. A block's factor counts its agents logged in, ready and standby; a ready
    factor splits them: the ready take calls at once, the standby once a call has
    waited ``standby_after_s``. Each replayed day's ready agents follow its own idle
    share (``standby_split``: a day whose agents sat out more while calls waited has
    fewer ready); its standby agents are the average day's. Abandonment falls as a
    factor grows, the service level grows with the ready factor (more calls answered at
    once): a bisection of every factor and ready factor at once (a block's factor barely
    moves another's calls, the split barely moves abandonment: the standby answer the
    calls that waited, which the ready would have answered a little sooner). When the
    log records every agent's states (``Observed.from_states``), availability is known:
    the factors are 1, no standby, simulated once for the report."""
    obs = cal.observed
    blocks = (
        availability_blocks(obs, cal.frame)
        if cal.model.availability_by_interval
        else [list(range(cal.frame.n))]
    )
    goal = np.array([obs.abandoned[:, b].sum() / max(obs.offered[:, b].sum(), 1) for b in blocks])
    sl_goal = np.array([obs.within[:, b].sum() / max(obs.offered[:, b].sum(), 1) for b in blocks])
    known = obs.from_states  # the log's agent states say when agents were available: 1
    standby = cal.model.standby and not known
    lo = np.full(len(blocks), 1.0 if known else FACTOR_RANGE[0])
    hi = np.full(len(blocks), 1.0 if known else FACTOR_RANGE[1])
    ready_lo, ready_hi = np.full(len(blocks), READY_RANGE[0]), np.full(len(blocks), READY_RANGE[1])
    tried = []
    replayed = cal.days_replayed or []
    cal.idle_share = float(np.mean([r.observed.idle_share(0) for r in replayed] or [0.0]))
    if standby and cal.idle_share <= 0:  # a split by the days' idle share: nothing to split
        raise InputError(
            "the calibration days' log shows no agent sitting out a gap between calls while "
            "calls of their skills waited (idle share 0): there are no standby agents to fit; "
            "calibrate without it",
            field="standby",
        )
    n = cal.frame.n
    for _ in range(1 if known else FACTOR_STEPS):
        mid = (lo + hi) / 2
        ready = np.minimum((ready_lo + ready_hi) / 2, mid)
        factors, on_standby = _split(cal, mid, ready if standby else None, blocks)
        sc = cal.average_day(factors, standby=on_standby)
        days = [
            day_scenario(sc, r.observed, 0, r.pools, cal.model, r.ranked, r.wrap_up)
            for r in replayed
        ]
        jobs = [Job(s.model_dump_json(), seed, replications) for s in days]
        offered = np.zeros(n)
        abandoned = np.zeros(n)
        within = np.zeros(n)
        for reps in run_on.run(jobs, progress):
            m = metric_samples(reps, (1,))  # [replication, interval]
            offered += m["offered"].sum(axis=0)
            abandoned += m["abandoned"].sum(axis=0)
            within += np.nan_to_num(m["service_level"] * m["offered"]).sum(axis=0)
        ab = np.array([abandoned[b].sum() / max(offered[b].sum(), 1) for b in blocks])
        sl = np.array([within[b].sum() / max(offered[b].sum(), 1) for b in blocks])
        tried.append(
            (
                round(float(np.mean(_per_interval(mid, blocks, n))), 4),
                float(abandoned.sum() / offered.sum()),
                round(float(np.mean(factors)), 4),
                float(within.sum() / offered.sum()),
            )
        )
        lo = np.where(ab > goal, mid, lo)
        hi = np.where(ab > goal, hi, mid)
        ready_lo = np.where(sl < sl_goal, ready, ready_lo)  # too few answered in time
        ready_hi = np.where(sl < sl_goal, ready_hi, ready)
    best = np.round((lo + hi) / 2, 3)
    ready = np.round(np.minimum((ready_lo + ready_hi) / 2, best), 3) if standby else best
    cal.factors, cal.standby = _split(cal, best, ready if standby else None, blocks)
    cal.factor = round(float(np.mean(cal.factors)), 3)
    slopes = cal.standby_slope or [0.0] * n
    cal.blocks = [
        Block(b, float(f), float(r), float(g), float(s), slopes[b[0]])
        for b, f, r, g, s in zip(blocks, best, ready, goal, sl_goal, strict=True)
    ]
    cal.tuning = tried
    cal.simulated_abandon = tried[-1][1]
    return cal


def _split(
    cal: Calibration, logged_in: np.ndarray, ready: np.ndarray | None, blocks: list[list[int]]
) -> tuple[list[float], list[float] | None]:
    """The average day's ready and standby factors per interval from each block's
    factors of agents logged in and, with standby agents, of ``ready`` agents. A block's
    standby share is proportional to a day's idle share (``standby_split``): the slope
    is its share over the calibration days' mean idle share, kept in
    ``cal.standby_slope`` for the replays, which split by their own day's."""
    n = cal.frame.n
    factors = _per_interval(logged_in, blocks, n)
    if ready is None:
        return factors, None
    share = 1 - ready / logged_in
    slope = share / cal.idle_share  # > 0: tune_factor refuses standby on days without
    cal.standby_slope = [round(k, 4) for k in _per_interval(slope, blocks, n)]
    on, off = standby_split(factors, cal.standby_slope, cal.idle_share)
    return [round(f, 4) for f in on], [round(f, 4) for f in off]


def _per_interval(block_factors: np.ndarray, blocks: list[list[int]], n: int) -> list[float]:
    out = [1.0] * n
    for f, b in zip(block_factors, blocks, strict=True):
        for i in b:
            out[i] = float(f)
    return out


def day_types(days: list[date]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in days:
        out[day_type(d)] = out.get(day_type(d), 0) + 1
    return out
