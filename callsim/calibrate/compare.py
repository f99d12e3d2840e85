"""Predictions against what happened (``callsim compare LOG SCENARIO``).

Each logged day is replayed (``build.day_scenario``) with at least what the formula gets:
its arrivals per interval, call type and priority as logged (retrials included, as they
happened: the scenario's retrial block is left out), its own talk times, and its agents
at work per agent group of the pools the compared days show, times the calibrated
availability of each interval. The day is simulated ``replications`` times; per interval
and per day the prediction is the mean, with the 5-95 % band of the replications. The
exact Erlang A prediction of the same intervals stands beside it: per pool, the same
calls and staffing, the day's mean talk per type, the exponential fit of patience.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np

from callsim.analytics.erlang import erlang_a
from callsim.analytics.metrics import ReplicationStats, metric_samples, or_none
from callsim.analytics.precision import CAP, HEADLINE, Figure, Precision
from callsim.calibrate.build import Model, day_scenario, frame_of, one_pool
from callsim.calibrate.fit import Observed, Pools, infer_pools, observe
from callsim.calibrate.log import CallLog
from callsim.errors import InputError
from callsim.scenario import Scenario
from callsim.scenario.model import dist_mean
from callsim.sim.execute import Executor, Looked, run_days

COMPARED = ("abandon_rate", "asa_s", "mean_wait_s", "service_level")
BAND = (0.05, 0.95)


def _erlang(
    sc: Scenario,
    obs: Observed,
    d: int,
    staff: np.ndarray,
    pools: Pools,
    day_talk: bool = True,
) -> dict[str, np.ndarray]:
    """Erlang A per interval of day ``d`` ([interval] of each compared metric): each pool
    on its own (its calls, its agents: ``staff[interval, group]`` of its groups, the
    day's mean talk of each type, the exponential fit of patience), the pools' figures
    weighted by calls."""
    cal = sc.calibration
    assert cal is not None
    fr = frame_of(sc)
    calibrated = {t: dist_mean(c.talk_s) for t, c in zip(cal.types, sc.calls, strict=True)}
    default = float(np.mean(list(calibrated.values())))
    talk = {
        t: float(np.mean(v)) if v else calibrated.get(t, default)
        for t in obs.types
        for v in [obs.talk_values[d].get(t, []) if day_talk else []]
    }
    out = {m: np.full(fr.n, np.nan) for m in COMPARED}
    for i in range(fr.n):
        n_calls = obs.arrivals[d, i]
        total = float(n_calls.sum())
        if total <= 0:
            continue
        acc = dict.fromkeys(("offered", "answered", "abandon", "sl", "asa", "wait"), 0.0)
        for pool in pools.names:
            mine = [
                (float(n), talk[t])
                for t, n in zip(obs.types, n_calls, strict=True)
                if n > 0 and pools.of_type(t) == pool
            ]
            agents = sum(staff[i, j] for j, g in enumerate(obs.groups) if pools.of_group(g) == pool)
            n = sum(x for x, _ in mine)
            if n <= 0:
                continue
            aht = sum(x * a for x, a in mine) / n
            a = erlang_a(
                n / (fr.interval_min * 60), aht, cal.patience_exp_mean_s, round(float(agents)),
                fr.sl_threshold_s,
            )  # fmt: skip
            answered = n * (1 - a.p_abandon)
            acc["offered"] += n
            acc["answered"] += answered
            acc["abandon"] += n * a.p_abandon
            acc["sl"] += n * a.service_level
            acc["wait"] += n * a.mean_wait_s
            acc["asa"] += answered * (a.asa_s if a.asa_s is not None else 0.0)
        out["abandon_rate"][i] = acc["abandon"] / acc["offered"]
        out["service_level"][i] = acc["sl"] / acc["offered"]
        out["mean_wait_s"][i] = acc["wait"] / acc["offered"]
        out["asa_s"][i] = acc["asa"] / acc["answered"] if acc["answered"] > 0 else np.nan
    return out


def compare(
    sc: Scenario,
    log: CallLog,
    days: list[date],
    run_on: Executor,
    *,
    replications: int = 20,
    seed: int = 1,
    progress: Callable[[int], None] | None = None,
    precision: Precision | None = None,
    max_replications: int = CAP,
    on_look: Looked | None = None,
    model: Model | None = None,
) -> dict[str, Any]:
    """Each logged day predicted and set against the log. With ``precision``, every day's
    predicted headline figures (``analytics.precision``) are simulated to it (days added
    to every logged day alike, ``replications`` the first batch), or to
    ``max_replications``."""
    cal = sc.calibration
    if cal is None:
        raise InputError(
            "the scenario has no calibration block: make it with callsim "
            "calibrate (it keeps the availability factor compare needs)"
        )
    if len(sc.calls) != len(cal.types) or (
        cal.priorities and len(cal.priorities) != len(cal.types)
    ):
        raise InputError(
            "the scenario is not as callsim calibrate wrote it (calibration.types and "
            f"calibration.priorities: one per call stream, {len(sc.calls)})"
        )
    fr = frame_of(sc)
    chosen = set(days)
    model = model or Model()
    pools = infer_pools([c for c in log.calls if c.day in chosen])
    if not model.pools:
        pools = one_pool(pools)
    obs = observe(log, days, fr, pools)
    scenarios = [day_scenario(sc, obs, d, pools, model) for d in range(len(days))]
    blobs = [s.model_dump_json() for s in scenarios]

    def figures(runs: list[list[ReplicationStats]]) -> list[Figure]:
        return [
            Figure(f"{day} {m}", metric_samples(reps, (0, 1))[m], m)
            for day, reps in zip(days, runs, strict=True)
            for m in HEADLINE
        ]

    results, stopping = run_days(
        run_on, blobs, seed, replications, precision, max_replications, figures, HEADLINE,
        progress, on_look,
    )  # fmt: skip
    replications = len(results[0])
    observed_cell = obs.metrics()
    observed_day = obs.metrics(axis=1)
    labels = fr.labels()
    day_rows: list[dict[str, Any]] = []
    cell_rows: list[dict[str, Any]] = []
    inside = {m: [0, 0] for m in COMPARED}
    for d, (day, reps, s) in enumerate(zip(days, results, scenarios, strict=True)):
        fine = np.array(
            [[p.count for p in g.on_duty or []] for g in s.agents], dtype=float
        ).T  # [slot, pool]
        by_group = fine.reshape(fr.n, -1, len(s.agents)).mean(axis=1)  # [interval, group]
        staff = [round(float(v)) for v in by_group.sum(axis=1)]
        cells = metric_samples(reps, (1,))  # [replication, interval], queues summed
        totals = metric_samples(reps, (0, 1))
        erl = _erlang(sc, obs, d, by_group, pools, model.day_talk)
        off = obs.offered[d]
        row: dict[str, Any] = {
            "day": day.isoformat(),
            "weekday": f"{day:%a}",
            "calls": int(off.sum()),
            "agent_intervals": int(sum(staff)),
        }
        for m in COMPARED:
            sim_day = totals[m]
            row[m] = {
                "observed": or_none(observed_day[m][d]),
                "predicted": or_none(_nanmean(sim_day)),
                "band": [
                    or_none(_quantile(sim_day, BAND[0])),
                    or_none(_quantile(sim_day, BAND[1])),
                ],
                "erlang_a": or_none(_weighted(erl[m], off, obs.answered[d], m)),
            }
        day_rows.append(row)
        for i, at in enumerate(labels):
            if off[i] <= 0:
                continue
            cell: dict[str, Any] = {
                "day": day.isoformat(),
                "interval_start": at,
                "calls": int(off[i]),
                "agents": staff[i],
            }
            for m in COMPARED:
                sims = cells[m][:, i]
                o = observed_cell[m][d, i]
                lo, hi = (_quantile(sims, q) for q in BAND)
                cell[m] = {
                    "observed": or_none(o),
                    "predicted": or_none(_nanmean(sims)),
                    "band": [or_none(lo), or_none(hi)],
                    "erlang_a": or_none(erl[m][i]),
                }
                if np.isfinite(o) and np.isfinite(lo):
                    inside[m][1] += 1
                    inside[m][0] += int(lo - 1e-9 <= o <= hi + 1e-9)
            cell_rows.append(cell)
    summary = {}
    for m in COMPARED:
        obs_v = np.array([r[m]["observed"] for r in day_rows], dtype=float)
        sim_v = np.array([r[m]["predicted"] for r in day_rows], dtype=float)
        erl_v = np.array([r[m]["erlang_a"] for r in day_rows], dtype=float)
        io = np.array([c[m]["observed"] for c in cell_rows], dtype=float)
        ip = np.array([c[m]["predicted"] for c in cell_rows], dtype=float)
        ie = np.array([c[m]["erlang_a"] for c in cell_rows], dtype=float)
        summary[m] = {
            "mae": or_none(_nanmean(np.abs(sim_v - obs_v))),
            "bias": or_none(_nanmean(sim_v - obs_v)),
            "erlang_a_mae": or_none(_nanmean(np.abs(erl_v - obs_v))),
            "erlang_a_bias": or_none(_nanmean(erl_v - obs_v)),
            "worst_day": _worst(days, sim_v - obs_v),
            "erlang_a_worst_day": _worst(days, erl_v - obs_v),
            "interval_mae": or_none(_nanmean(np.abs(ip - io))),
            "erlang_a_interval_mae": or_none(_nanmean(np.abs(ie - io))),
            "intervals_in_band": inside[m][0] / inside[m][1] if inside[m][1] else None,
            "intervals": inside[m][1],
        }
    return {
        "scenario": sc.name,
        "log": log.source,
        "days": [d.isoformat() for d in days],
        "replications": replications,
        "stopping_rule": stopping,
        "seed": seed,
        "band": list(BAND),
        "sl_threshold_s": fr.sl_threshold_s,
        "availability_factor": cal.availability_factor,
        "availability_factors": cal.availability_factors,
        "calibrated_pools": cal.pools,
        "pools": {
            name: {"types": pools.types[name], "agents": pools.agents[name]} for name in pools.names
        },
        "agent_groups": {
            g: {"skills": pools.group_skills(g), "agents": agents}
            for g, agents in pools.groups.items()
        },
        "calls_served_outside_their_pool": pools.outside_calls(),
        "summary": summary,
        "per_day": day_rows,
        "per_interval": cell_rows,
        "executor": run_on.name,
        "without": model.off,
    }


def _worst(days: list[date], err: np.ndarray) -> dict[str, Any] | None:
    """The day of the largest absolute error, and the error (predicted - observed)."""
    if not np.isfinite(err).any():
        return None
    k = int(np.nanargmax(np.abs(err)))
    return {"day": days[k].isoformat(), "error": float(err[k])}


def _weighted(values: np.ndarray, offered: np.ndarray, answered: np.ndarray, m: str) -> float:
    """A day's figure from its intervals' (ASA weighted by answered calls, the rest by
    offered calls)."""
    w = answered if m == "asa_s" else offered
    ok = np.isfinite(values) & (w > 0)
    return float((values[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else math.nan


def _quantile(x: np.ndarray, q: float) -> float:
    return float(np.nanquantile(x, q)) if np.isfinite(x).any() else math.nan


def _nanmean(x: np.ndarray) -> float:
    return float(np.nanmean(x)) if np.isfinite(x).any() else math.nan
