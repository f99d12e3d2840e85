"""A scenario from a call log (``callsim calibrate``), and each logged day as a scenario
of its own (``callsim compare``).

The calibrated scenario is the selected days' average day: one queue; one call stream per
call type with its arrival rate per interval (less the share of retrials, which the
scenario's ``retrial`` block adds back), its talk-time fit, the Kaplan-Meier patience; and
one agent group logged in by ``on_duty`` head counts: the agents at work in each interval
times an **availability factor**. The log has no agent states, so an agent counts as at
work through each spell of their calls (calls less than 30 minutes apart; the gaps were
spent waiting for the next call, or in after-call work the log does not record). Not all
of that time was available for calls (breaks, other work, after-call work): the factor is
chosen, by bisection, so that the calibration days, simulated each with its own calls and
staffing, abandon as many calls as the log says.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from callsim.analytics.metrics import metric_samples
from callsim.calibrate.fit import (
    Frame,
    Observed,
    PatienceFit,
    RetrialFit,
    TalkFit,
    day_type,
    fit_patience,
    fit_retrials,
    fit_talk,
    observe,
)
from callsim.calibrate.log import CallLog
from callsim.scenario import Scenario
from callsim.sim.execute import Executor, Job

QUEUE = "calls"
FACTOR_RANGE = (0.3, 1.5)
FACTOR_STEPS = 9  # bisection steps: the factor to within 0.003


@dataclass
class Calibration:
    source: str
    days: list[date]
    frame: Frame
    observed: Observed
    talk: dict[str, TalkFit]
    patience: PatienceFit
    retrials: RetrialFit
    talk_model: str  # lognormal | empirical
    factor: float = 1.0
    simulated_abandon: float | None = None
    tuning: list[tuple[float, float]] | None = None  # (factor, simulated abandonment)

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

    def scenario(
        self,
        arrivals: np.ndarray,  # [interval, type] calls per interval
        at_work: np.ndarray,  # [slot] agents at work, on the staffing grid
        *,
        name: str,
        retrials: bool = True,
        factor: float | None = None,
    ) -> Scenario:
        fr = self.frame
        labels = fr.labels()
        hours = fr.interval_min / 60
        keep = 1 - self.retrials.share_of_calls if retrials else 1.0
        calls, types = [], []
        for k, t in enumerate(self.observed.types):
            if t not in self.talk or arrivals[:, k].sum() <= 0:
                continue
            profile = [
                {"at": at, "per_hour": round(float(n) * keep / hours, 3)}
                for at, n in zip(labels, arrivals[:, k], strict=True)
            ]
            profile.append({"at": f"{fr.end_min // 60:02d}:{fr.end_min % 60:02d}", "per_hour": 0})
            stream: dict[str, Any] = {
                "queue": QUEUE,
                "arrivals": {"profile": profile},
                "talk_s": self.talk_dist(t),
                "patience_s": {"dist": "empirical", "values": self.patience.values()},
            }
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
        f = self.factor if factor is None else factor
        counts = [max(0, round(float(s) * f)) for s in at_work]
        slots = fr.slot_labels(len(counts))
        on_duty = [{"at": at, "count": n} for at, n in zip(slots, counts, strict=True)]
        end = f"{fr.end_min // 60:02d}:{fr.end_min % 60:02d}"
        data = {
            "name": name,
            "description": f"Calibrated from {self.source} ({len(self.days)} days, "
            f"{self.days[0]} to {self.days[-1]}) by callsim calibrate.",
            "horizon": {
                "start": labels[0],
                "end": end,
                "interval_min": fr.interval_min,
                "warmup_min": 0,
            },
            "service_level": {"sl_threshold_s": fr.sl_threshold_s, "sl_target": 0.8},
            "routing": {"strategy": "longest_idle", "ring_timeout_s": 15},
            "queues": [{"name": QUEUE, "skills": ["agent"]}],
            "calls": calls,
            "agents": [
                {
                    "name": "agents",
                    "count": max(1, *counts),
                    "skills": ["agent"],
                    "on_duty": on_duty,
                }
            ],
            "calibration": {
                "source": self.source,
                "days": [d.isoformat() for d in self.days],
                "types": types,
                "availability_factor": f,
                "retrial_share": round(self.retrials.share_of_calls, 4),
                "patience_exp_mean_s": round(self.patience.exp_mean_s, 1),
                "observed_abandon_rate": round(self.observed_abandon, 4),
            },
        }
        return Scenario.model_validate(data)

    def average_day(self, factor: float | None = None, name: str = "calibrated") -> Scenario:
        obs = self.observed
        return self.scenario(
            obs.arrivals.mean(axis=0), obs.present_fine.mean(axis=0), name=name, factor=factor
        )


def calibrate(
    log: CallLog, days: list[date], frame: Frame, talk_model: str = "lognormal"
) -> Calibration:
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
    return Calibration(
        log.source,
        days,
        frame,
        observe(log, days, frame),
        talk,
        fit_patience(calls),
        fit_retrials(calls),
        talk_model,
    )


def tune_factor(
    cal: Calibration,
    run_on: Executor,
    *,
    replications: int = 20,
    seed: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Calibration:
    """The availability factor at which the calibration days, each simulated as
    ``callsim compare`` rebuilds it (its own arrivals and agents seen), abandon as many
    calls in all as the log says (abandonment falls as the factor grows: a bisection)."""
    from callsim.calibrate.compare import day_scenario

    goal = cal.observed_abandon
    lo, hi = FACTOR_RANGE
    tried = []
    for _ in range(FACTOR_STEPS):
        mid = (lo + hi) / 2
        sc = cal.average_day(mid)
        days = [day_scenario(sc, cal.observed, d) for d in range(len(cal.days))]
        jobs = [Job(s.model_dump_json(), seed, replications) for s in days]
        offered = abandoned = 0.0
        for reps in run_on.run(jobs, progress):
            m = metric_samples(reps, (0, 1))
            offered += float(m["offered"].sum())
            abandoned += float(m["abandoned"].sum())
        ab = abandoned / max(offered, 1)
        tried.append((round(mid, 4), ab))
        if ab > goal:
            lo = mid
        else:
            hi = mid
    cal.factor = round((lo + hi) / 2, 3)
    cal.tuning = tried
    cal.simulated_abandon = min(tried, key=lambda p: abs(p[0] - cal.factor))[1]
    return cal


def day_types(days: list[date]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in days:
        out[day_type(d)] = out.get(day_type(d), 0) + 1
    return out
