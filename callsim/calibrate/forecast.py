"""Forecast mode (``callsim compare --forecast``): each logged day predicted as a planner
would the week before, without its own calls, talk or staffing.

What the prediction gets: the calibrated scenario's average day (its arrival profile per
call stream, its talk and patience) and its agent groups as the plan (a planner edits
their ``on_duty``). Its uncertainty is the calibration days' own day-to-day spread: each
calibration day's volume, mean talk and agent-time as shares of their means (``Spread``).
Each simulated day takes one calibration day's three shares together (they move
together: a busy day is often a short-talk day) and multiplies the profile, the talk and
the plan by them; who of the plan is available in each 5-minute slot is drawn
(``available``). The 5-95 % band over those days is the prediction interval; the
report says how many observed days fall inside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from callsim.calibrate.build import QUEUE, STANDBY, frame_of
from callsim.calibrate.fit import infer_pools, observe, queue_name
from callsim.calibrate.log import CallLog
from callsim.errors import InputError
from callsim.scenario import Scenario
from callsim.scenario.model import dist_mean
from callsim.sim.execute import Job


def available(at_work: np.ndarray, factor: np.ndarray, draws: np.random.Generator) -> np.ndarray:
    """Agents available per slot on one simulated day, drawn: the slot's agents (a
    fraction of one is there with that chance), each available with chance ``factor``
    in each slot, on their own; a factor over 1 adds that share of agents. The mean is
    ``at_work * factor``."""
    whole = np.floor(at_work)
    present = whole + (draws.random(at_work.shape) < at_work - whole)
    base = draws.binomial(present.astype(np.int64), np.minimum(factor, 1.0))
    extra = draws.binomial(present.astype(np.int64), np.clip(factor - 1.0, 0.0, 1.0))
    return np.asarray(base + extra, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Spread:
    """The calibration days' day-to-day spread: per day, its calls, mean talk and
    agent-time, each as a share of the days' mean."""

    days: list[date]
    volume: np.ndarray
    talk: np.ndarray
    staffing: np.ndarray

    def cv(self) -> dict[str, float]:
        """Coefficient of variation of each, over the days."""
        return {
            k: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0
            for k, v in (("volume", self.volume), ("talk", self.talk), ("staffing", self.staffing))
        }


def spread(sc: Scenario, log: CallLog) -> Spread:
    """The day-to-day spread of the days ``sc`` was calibrated on, from their log."""
    cal = sc.calibration
    assert cal is not None
    have = set(log.days)
    days = [d for d in (date.fromisoformat(x) for x in cal.days) if d in have]
    if len(days) < 2:
        raise InputError(
            f"--calibration-log: {log.source} has {len(days)} of the {len(cal.days)} days the "
            "scenario was calibrated on; the forecast needs at least 2 for their spread"
        )
    chosen = set(days)
    calls = [c for c in log.calls if c.day in chosen]
    obs = observe(log, days, frame_of(sc), infer_pools(calls))
    volume = obs.offered.sum(axis=1)
    talk = obs.talk_s.sum(axis=1) / np.maximum(obs.answered.sum(axis=1), 1)
    staffing = obs.present_group.sum(axis=(1, 2))
    return Spread(
        days,
        volume / volume.mean(),
        talk / talk.mean(),
        staffing / max(float(staffing.mean()), 1e-9),
    )


def _scaled_talk(talk: dict[str, Any], k: float) -> dict[str, Any]:
    if talk.get("dist") == "empirical":
        return {**talk, "values": [round(v * k, 1) for v in talk["values"]]}
    if "mean" in talk:
        return {**talk, "mean": round(talk["mean"] * k, 1)}
    return talk


@dataclass(frozen=True, slots=True)
class Plan:
    """What every compared day is predicted from: the simulated days (``jobs``), the
    plan's agents per interval and group, the average day's calls per interval and type,
    and the calibrated mean talk per type (Erlang A's)."""

    jobs: list[Job]
    staff: np.ndarray  # [interval, group]
    pool_of_group: list[str]
    pool_of_type: dict[str, str]
    arrivals: np.ndarray  # [interval, type]
    types: list[str]
    talk: dict[str, float]


def plan(sc: Scenario, sp: Spread, replications: int, seed: int) -> Plan:
    """The forecast's simulated days: simulated day ``r`` takes calibration day ``k``'s
    shares (``k`` a shuffle of the days, repeated), scales the average day's arrivals,
    talk and the plan's agents by them, and draws the agents available."""
    cal = sc.calibration
    assert cal is not None
    fr = frame_of(sc)
    base = sc.model_dump(mode="json", exclude_unset=True)
    rng = np.random.default_rng([seed, 7])
    order = np.concatenate(
        [rng.permutation(len(sp.days)) for _ in range(replications // len(sp.days) + 1)]
    )
    groups = [g for g in base["agents"] if g.get("on_duty")]
    jobs = []
    for r in range(replications):
        k = int(order[r])
        data = json.loads(json.dumps(base))
        for stream in data["calls"]:
            for p in stream["arrivals"].get("profile", []):
                p["per_hour"] = round(p["per_hour"] * float(sp.volume[k]), 3)
            stream["talk_s"] = _scaled_talk(stream["talk_s"], float(sp.talk[k]))
        draws = np.random.default_rng([seed, 7, r])
        for g in data["agents"]:
            if g.get("on_duty"):
                planned = np.array([p["count"] for p in g["on_duty"]], dtype=float)
                got = available(planned, np.full(len(planned), float(sp.staffing[k])), draws)
                for p, n in zip(g["on_duty"], got, strict=True):
                    p["count"] = int(n)
                g["count"] = max(1, g["count"], int(got.max()))
        jobs.append(Job(json.dumps(data), seed, 1, r))
    per_slot = [np.array([p.count for p in g.on_duty or []], dtype=float) for g in sc.agents]
    if not groups or any(len(c) % fr.n for c in per_slot):
        raise InputError(
            "--forecast: the scenario's agent groups need on_duty head counts over the "
            "horizon (the plan), as callsim calibrate writes them"
        )
    staff = np.stack([c.reshape(fr.n, -1).mean(axis=1) for c in per_slot], axis=1)
    pool_of_type = {t: p for p, ts in cal.pools.items() for t in ts} or dict.fromkeys(
        cal.types, QUEUE
    )
    queue_type = {queue_name(t): t for t in cal.types}
    pool_of_group = [
        next(
            (
                pool_of_type.get(queue_type.get(s.removesuffix(STANDBY), ""), QUEUE)
                for s in g.skills
            ),
            QUEUE,
        )
        for g in sc.agents
    ]
    types = sorted(set(cal.types))
    hours = fr.interval_min / 60
    arrivals = np.zeros((fr.n, len(types)))
    labels = fr.labels()
    for t, c in zip(cal.types, sc.calls, strict=True):
        profile = {p.at: p.per_hour for p in c.arrivals.profile or []}
        per = c.arrivals.per_hour
        for i, at in enumerate(labels):
            rate = profile.get(at, 0.0) if per is None else per
            arrivals[i, types.index(t)] += rate * hours / (1 - cal.retrial_share)
    talk = {t: dist_mean(c.talk_s) for t, c in zip(cal.types, sc.calls, strict=True)}
    return Plan(jobs, staff, pool_of_group, pool_of_type, arrivals, types, talk)
