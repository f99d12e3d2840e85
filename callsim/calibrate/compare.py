"""Predictions against what happened (``callsim compare LOG SCENARIO``).

Each logged day is replayed (``build.day_scenario``) with at least what the formula gets:
its arrivals per interval, call type and priority as logged (retrials included, as they
happened: the scenario's retrial block is left out), its own talk times and after-call
work (``build.replays``), its queue discipline (priority or first come,
``fit.discipline``), and its agents at work per agent group of the skills they had that
day (``fit.day_pools``, within the pools the compared days show), times the calibrated
availability of each interval. The day is
simulated ``replications`` times; per interval and per day the prediction is the mean,
with the 5-95 % band of the replications. The exact Erlang A prediction of the same
intervals stands beside it: per pool, the same calls and staffing, the day's mean talk
per type, the exponential fit of patience.
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
from callsim.calibrate.build import (
    STANDBY,
    Model,
    day_scenario,
    frame_of,
    one_pool,
    replays,
)
from callsim.calibrate.fit import Observed, infer_pools, observe
from callsim.calibrate.forecast import plan, spread
from callsim.calibrate.log import CallLog
from callsim.errors import InputError
from callsim.scenario import Scenario
from callsim.scenario.model import dist_mean
from callsim.sim.execute import Executor, Job, Looked, run_days

COMPARED = ("abandon_rate", "asa_s", "mean_wait_s", "service_level")
BAND = (0.05, 0.95)


def day_talk_means(sc: Scenario, obs: Observed, d: int, day_talk: bool = True) -> dict[str, float]:
    """Erlang A's talk per call type on logged day ``d``: the day's mean (with
    ``day_talk``), else the calibrated distribution's mean (their mean for a type the
    calibration did not see)."""
    cal = sc.calibration
    assert cal is not None
    calibrated = {t: dist_mean(c.talk_s) for t, c in zip(cal.types, sc.calls, strict=True)}
    default = float(np.mean(list(calibrated.values())))
    return {
        t: float(np.mean(v)) if v else calibrated.get(t, default)
        for t in obs.types
        for v in [obs.talk_values[d].get(t, []) if day_talk else []]
    }


def _erlang(
    sc: Scenario,
    types: list[str],
    arrivals: np.ndarray,
    talk: dict[str, float],
    staff: np.ndarray,
    pool_of_group: list[str],
    pool_of_type: dict[str, str],
) -> dict[str, np.ndarray]:
    """Erlang A per interval ([interval] of each compared metric) of a day of
    ``arrivals`` ([interval, type]), each pool on its own: its calls, its agents
    (``staff[interval, group]`` of its groups), the mean ``talk`` of each type, the
    exponential fit of patience; the pools' figures weighted by calls."""
    cal = sc.calibration
    assert cal is not None
    fr = frame_of(sc)
    out = {m: np.full(fr.n, np.nan) for m in COMPARED}
    for i in range(fr.n):
        n_calls = arrivals[i]
        total = float(n_calls.sum())
        if total <= 0:
            continue
        acc = dict.fromkeys(("offered", "answered", "abandon", "sl", "asa", "wait"), 0.0)
        for pool in dict.fromkeys(pool_of_type.values()):
            mine = [
                (float(n), talk[t])
                for t, n in zip(types, n_calls, strict=True)
                if n > 0 and pool_of_type.get(t) == pool
            ]
            agents = sum(staff[i, j] for j, p in enumerate(pool_of_group) if p == pool)
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
        if acc["offered"] <= 0:
            continue
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
    forecast: CallLog | None = None,
) -> dict[str, Any]:
    """Each logged day predicted and set against the log. With ``precision``, every day's
    predicted headline figures (``analytics.precision``) are simulated to it (days added
    to every logged day alike, ``replications`` the first batch), or to
    ``max_replications``. With ``forecast`` (the log the scenario was calibrated on),
    every day is predicted without its own calls, talk or staffing (``forecast.plan``)."""
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
    for name in ("availability_factors", "standby_factors", "standby_per_idle_share"):
        given = getattr(cal, name)
        if given is not None and len(given) != fr.n:
            raise InputError(
                f"{len(given)} values, expected one per interval of the horizon ({fr.n}): "
                "the scenario is not as callsim calibrate wrote it",
                field=f"calibration.{name}",
            )
    chosen = set(days)
    model = model or Model()
    pools = infer_pools([c for c in log.calls if c.day in chosen])
    if not model.pools:
        pools = one_pool(pools)
    obs = observe(log, days, fr, pools)
    n_days = len(days)
    pool_of_type = {t: pools.of_type(t) for t in obs.types}
    spread_doc: dict[str, Any] | None = None
    if forecast is not None:
        sp = spread(sc, forecast)
        fc = plan(sc, sp, replications, seed)
        results = _gather(run_on, [fc.jobs], progress) * n_days
        stopping: dict[str, Any] = {"precision": None, "replications": replications}
        staffs = [fc.staff] * n_days
        ea = _erlang(
            sc, fc.types, fc.arrivals, fc.talk, fc.staff, fc.pool_of_group, fc.pool_of_type
        )
        erls = [ea] * n_days
        calls = fc.arrivals.sum(axis=1)  # Erlang A's day: the forecast's calls weigh it
        weights = [(calls, calls * (1 - np.nan_to_num(ea["abandon_rate"])))] * n_days
        spread_doc = {
            "calibration_log": forecast.source,
            "calibration_days": [d.isoformat() for d in sp.days],
            "cv": sp.cv(),
            # a future day's idle share is not known: its standby split is the average day's
            "readiness": "calibrated" if any(cal.standby_per_idle_share or []) else None,
        }
    else:
        given = sc.routing.handover_s  # the calibrated hand-over: taken off the day's gaps
        handover_s = dist_mean(given) if given is not None and model.handover else 0.0
        replayed = replays(log, obs, fr, pools, model, handover_s)
        scenarios = [
            day_scenario(sc, r.observed, 0, r.pools, model, r.ranked, r.wrap_up) for r in replayed
        ]
        staffs = [_staffing(s, fr.n) for s in scenarios]
        erls = [
            _erlang(
                sc,
                obs.types,
                obs.arrivals[d],
                day_talk_means(sc, obs, d, model.day_talk),
                staffs[d],
                [r.pools.of_group(g.name.removesuffix(STANDBY)) for g in scenarios[d].agents],
                pool_of_type,
            )
            for d, r in enumerate(replayed)
        ]
        weights = [(obs.offered[d], obs.answered[d]) for d in range(n_days)]

        def figures(runs: list[list[ReplicationStats]]) -> list[Figure]:
            return [
                Figure(f"{day} {m}", metric_samples(reps, (0, 1))[m], m)
                for day, reps in zip(days, runs, strict=True)
                for m in HEADLINE
            ]

        blobs = [s.model_dump_json() for s in scenarios]
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
    for d, (day, reps) in enumerate(zip(days, results, strict=True)):
        staff = [round(float(v)) for v in staffs[d].sum(axis=1)]
        cells = metric_samples(reps, (1,))  # [replication, interval], queues summed
        totals = metric_samples(reps, (0, 1))
        erl = erls[d]
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
                "erlang_a": or_none(_weighted(erl[m], *weights[d], m)),
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
            "days_in_band": _in_band(day_rows, m),
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
        "forecast": spread_doc,
    }


def _in_band(rows: list[dict[str, Any]], m: str) -> float | None:
    """The share of days whose observed figure ``m`` is inside the predicted band."""
    got = [
        r[m]["band"][0] - 1e-9 <= r[m]["observed"] <= r[m]["band"][1] + 1e-9
        for r in rows
        if r[m]["observed"] is not None and r[m]["band"][0] is not None
    ]
    return sum(got) / len(got) if got else None


def _staffing(s: Scenario, n: int) -> np.ndarray:
    """A day scenario's agents per interval and group (the mean of its slots)."""
    fine = np.array([[p.count for p in g.on_duty or []] for g in s.agents], dtype=float).T
    by_group: np.ndarray = fine.reshape(n, -1, len(s.agents)).mean(axis=1)
    return by_group  # [interval, group]


def _gather(
    run_on: Executor, jobs: list[list[Job]], progress: Callable[[int], None] | None
) -> list[list[ReplicationStats]]:
    """Each day's replications, from its jobs (run all at once)."""
    flat = run_on.run([j for day in jobs for j in day], progress)
    out, k = [], 0
    for day in jobs:
        out.append([r for reps in flat[k : k + len(day)] for r in reps])
        k += len(day)
    return out


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
    """The band's ends as a prediction interval: of n simulated days, the value of rank
    q (n + 1) (``weibull``). A new day like them falls between the ranks of q and 1 - q
    with chance 1 - 2q; the plain sample quantiles of 20 days would cover about 81 %
    where 90 % is meant."""
    ok = x[np.isfinite(x)]
    return float(np.quantile(ok, q, method="weibull")) if len(ok) else math.nan


def _nanmean(x: np.ndarray) -> float:
    return float(np.nanmean(x)) if np.isfinite(x).any() else math.nan
