"""What-if sweeps: a grid of scenario variants, simulated with common random numbers.

Every point runs replications 0..n-1 of the same seed, and each replication draws its
arrivals, talk times, patience and answers from named streams seeded by (seed, r) only:
replication r of every point sees the same callers. A difference between two points is
then measured replication by replication (a paired difference), whose confidence
interval is far narrower than that of two independent runs: the noise that both points
share cancels, and what is left is the effect of what was varied.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from callsim.analytics.metrics import (
    ReplicationStats,
    ci_of,
    metric_samples,
    or_none,
)
from callsim.analytics.precision import CAP, HEADLINE, Figure, Precision, estimate
from callsim.analytics.verdict import Verdict, verdict_at_least
from callsim.errors import InputError
from callsim.scenario import Scenario, scenario_hash
from callsim.scenario.vary import Point, Vary, grid
from callsim.sim.check import check_scenario, refuse_errors
from callsim.sim.execute import Executor, Looked, run_days
from callsim.sim.plan import build_plan
from callsim.sim.run import CONTROLS, controls, estimator, inbound, scenario_costs

SWEPT = HEADLINE  # each point's figures and paired differences
COSTED = ("total_cost", "margin")  # per day, when the scenario has costs


def sweep(
    base: Scenario,
    varies: list[Vary],
    run_on: Executor,
    *,
    replications: int,
    seed: int = 1,
    baseline: int = 1,
    progress: Callable[[int], None] | None = None,
    precision: Precision | None = None,
    max_replications: int = CAP,
    on_look: Looked | None = None,
    control_variates: bool = False,
    antithetic: bool = False,
) -> dict[str, Any]:
    """Simulate every point of the grid (``baseline``: the point, from 1, that the
    others are compared with) and return the sweep's document. With ``precision``, days
    are added to every point alike (``replications`` the first batch) until each point's figures
    and each paired difference to the baseline are within it (a difference held to the
    bound of its figure at the baseline's mean), or ``max_replications``. With
    ``control_variates``, every point's figures and paired differences are estimated
    with the controls of its days (``sim.run.controls``; a difference with both points'),
    and each row gives its figures' variance ratios; with ``antithetic``, the days run in
    antithetic pairs, each pair's mean one observation (``precision.estimate``), likewise."""
    if precision is None and not 2 <= replications <= 10_000:
        raise InputError(
            f"{replications} is not from 2 to 10,000 (a confidence interval "
            "needs two replications)",
            field="replications",
        )
    points = grid(base, varies)
    if not 1 <= baseline <= len(points):
        raise InputError(f"{baseline} is not a point from 1 to {len(points)}", field="baseline")
    plans = [build_plan(p.scenario) for p in points]
    for p, plan in zip(points, plans, strict=True):
        at = ", ".join(f"{v.path}={x}" for v, x in zip(varies, p.values, strict=True))
        refuse_errors(check_scenario(p.scenario, plan, warnings=False), f"with {at}: ")
    blobs = [p.scenario.model_dump_json() for p in points]
    masks = [inbound(plan) for plan in plans]

    def figures_of(reps: list[list[ReplicationStats]]) -> list[dict[str, np.ndarray]]:
        return [metric_samples(r, (0, 1), m) for r, m in zip(reps, masks, strict=True)]

    def controls_of(reps: list[list[ReplicationStats]]) -> list[np.ndarray] | None:
        if not control_variates:
            return None
        return [controls(plan, r) for plan, r in zip(plans, reps, strict=True)]

    def figures(reps: list[list[ReplicationStats]]) -> list[Figure]:
        return held(figures_of(reps), baseline - 1, controls_of(reps))

    reps, stopping = run_days(
        run_on, blobs, seed, replications, precision, max_replications, figures, SWEPT,
        progress, on_look, antithetic,
    )  # fmt: skip
    method = estimator(control_variates, antithetic)
    if method and precision is not None:
        stopping = {**stopping, "estimator": method}
    replications = len(reps[0])
    samples = figures_of(reps)
    ctrl = controls_of(reps)
    for p, plan, r, m in zip(points, plans, reps, samples, strict=True):  # costs, if any
        if p.scenario.costs is not None:
            c = scenario_costs(p.scenario, plan, r)
            m.update({k: np.array(v) for k, v in c["per_day"]["samples"].items()})
    base_samples = samples[baseline - 1]
    rows = [
        _row(k, p, varies, s, base_samples, k == baseline - 1,
             None if ctrl is None else (ctrl[k], ctrl[baseline - 1]), antithetic)
        for k, (p, s) in enumerate(zip(points, samples, strict=True))
    ]  # fmt: skip
    extra = {}
    if "total_cost" in samples[0]:
        extra["cheapest"] = _cheapest(samples, None)
        extra["cheapest_meeting_target"] = _cheapest(samples, base.service_level.sl_target)
    return {
        "scenario": base.name,
        "scenario_hash": scenario_hash(base),
        "vary": [{"path": v.path, "values": list(v.values)} for v in varies],
        "replications": replications,
        "seed": seed,
        "common_random_numbers": True,
        **({"control_variates": list(CONTROLS)} if control_variates else {}),
        **({"antithetic": True} if antithetic else {}),
        "stopping_rule": stopping,
        "baseline": baseline,
        "sl_threshold_s": base.service_level.sl_threshold_s,
        "sl_target": base.service_level.sl_target,
        "executor": run_on.name,
        "points": rows,
        **extra,
    }


def held(
    samples: list[dict[str, np.ndarray]], base: int, ctrl: list[np.ndarray] | None = None
) -> list[Figure]:
    """What a sweep to a precision holds to the bound: every point's figures, and every
    other point's paired differences to point ``base`` (at the bound of the figure at the
    baseline's mean); with ``ctrl``, each point's controls, estimated with them."""
    out = []
    for k, s in enumerate(samples):
        mine = None if ctrl is None else ctrl[k]
        both = None if ctrl is None else np.hstack([ctrl[k], ctrl[base]])
        for m in SWEPT:
            out.append(Figure(f"point {k + 1} {m}", s[m], m, controls=mine))
            if k != base:
                at_base = samples[base][m][~np.isnan(samples[base][m])]
                level = float(at_base.mean()) if len(at_base) else 0.0
                diff = s[m] - samples[base][m]
                out.append(Figure(f"point {k + 1} diff {m}", diff, m, level, both))
    return out


def _cheapest(samples: list[dict[str, np.ndarray]], sl_target: float | None) -> dict[str, Any]:
    """Cost as the target: the point of least total cost a day (among those whose service
    level surely meets ``sl_target``: its 95 % CI above it, if given), and its paired
    difference to the next cheapest, whose CI says whether the choice is sure or within
    the noise. ``not_sure``: cheaper points whose service level's CI straddles the target."""
    rank = sorted(range(len(samples)), key=lambda k: float(np.mean(samples[k]["total_cost"])))
    verdict = {
        k: Verdict.MEETS if sl_target is None
        else Verdict(int(verdict_at_least(s["service_level"][:, None], sl_target)[0]))
        for k, s in enumerate(samples)
    }  # fmt: skip
    ranked = [k for k in rank if verdict[k] == Verdict.MEETS]
    cheaper = rank[: rank.index(ranked[0])] if ranked else rank
    unsure = [k + 1 for k in cheaper if verdict[k] == Verdict.NOT_SURE]
    if not ranked:
        return {"point": None, "why": "no point surely meets the service-level target",
                "not_sure": unsure}  # fmt: skip
    best = ranked[0]
    out: dict[str, Any] = {"point": best + 1, "total_cost": _ci(samples[best]["total_cost"])[0]}
    if len(ranked) > 1:
        nxt = ranked[1]
        mean, half = _ci(samples[best]["total_cost"] - samples[nxt]["total_cost"])
        out.update(next_point=nxt + 1, below_next=mean, below_next_ci95=half,
                   sure=mean is not None and half is not None and mean + half < 0)  # fmt: skip
    if sl_target is not None:
        out["not_sure"] = unsure
    return out


def _row(
    k: int,
    point: Point,
    varies: list[Vary],
    s: dict[str, np.ndarray],
    base: dict[str, np.ndarray],
    is_base: bool,
    ctrl: tuple[np.ndarray, np.ndarray] | None = None,
    pairs: bool = False,
) -> dict[str, Any]:
    """A point's row; with ``ctrl`` (its controls and the baseline's) the swept figures
    and their differences are estimated with them, and ``{m}_variance_ratio`` says what
    that did (the paired difference's: ``{m}_diff_variance_ratio``)."""
    row: dict[str, Any] = {"point": k + 1, "baseline": is_base}
    row.update({v.path: x for v, x in zip(varies, point.values, strict=True)})
    row["agents"] = sum(g.count for g in point.scenario.agents)
    row["offered"] = or_none(float(np.mean(s["offered"])))
    for m in (*SWEPT, *(c for c in COSTED if c in s and c in base)):
        c = ctrl if m in SWEPT else None
        better = c is not None or pairs
        mean, half, ratio = _estimate(s[m], None if c is None else c[0], pairs)
        row[m], row[f"{m}_ci95"] = mean, half
        if better:
            row[f"{m}_variance_ratio"] = ratio
        if is_base:
            continue
        d_mean, d_half, d_ratio = _estimate(
            s[m] - base[m], None if c is None else np.hstack(c), pairs
        )
        row[f"{m}_diff"], row[f"{m}_diff_ci95"] = d_mean, d_half
        if better:
            row[f"{m}_diff_variance_ratio"] = d_ratio
        # what two independent runs of the same size would have given
        _, h_base = _ci(base[m])
        row[f"{m}_diff_ci95_independent"] = (
            None if half is None or h_base is None else math.hypot(half, h_base)
        )
    return row


def _ci(x: np.ndarray) -> tuple[float | None, float | None]:
    c = ci_of(x)
    return c["mean"], c["ci95"]


def _estimate(
    x: np.ndarray, ctrl: np.ndarray | None, pairs: bool = False
) -> tuple[float | None, float | None, float | None]:
    """Mean, 95 % half-width and (with ``ctrl``, estimated with those controls; with
    ``pairs``, of antithetic pairs' means) the variance ratio."""
    if ctrl is None and not pairs:
        return (*_ci(x), None)
    e = estimate(x, ctrl, pairs)
    return or_none(e.mean), or_none(e.ci95), or_none(e.variance_ratio)
