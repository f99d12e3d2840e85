"""Predictions against what happened (``callsim compare LOG SCENARIO``).

Each logged day is rebuilt from the calibrated scenario: its call streams carry that
day's arrivals per interval and call type as logged (retrials included, as they
happened: the scenario's retrial block is left out), and its agents are that day's agents
seen talking per interval times the calibrated availability factor. The day is simulated
``replications`` times; per interval and per day the prediction is the mean, with the
5-95 % band of the replications. The exact Erlang A prediction of the same intervals (the
same calls, staffing and mean talk, with the exponential fit of patience) stands beside.
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
from callsim.calibrate.fit import Frame, Observed, observe
from callsim.calibrate.log import CallLog
from callsim.errors import InputError
from callsim.scenario import Scenario
from callsim.scenario.model import dist_mean, minutes, span_min
from callsim.sim.execute import Executor, Looked, run_days

COMPARED = ("abandon_rate", "asa_s", "mean_wait_s", "service_level")
BAND = (0.05, 0.95)


def frame_of(sc: Scenario) -> Frame:
    start = minutes(sc.horizon.start)
    return Frame(
        start,
        start + span_min(sc.horizon.start, sc.horizon.end),
        sc.horizon.interval_min,
        sc.service_level.sl_threshold_s,
    )


def day_scenario(sc: Scenario, obs: Observed, d: int) -> Scenario:
    """Logged day ``d`` as a scenario: its arrivals per type, its staffing."""
    cal = sc.calibration
    assert cal is not None
    fr = frame_of(sc)
    labels = fr.labels()
    hours = fr.interval_min / 60
    data = sc.model_dump(mode="json", exclude_unset=True)
    counts = np.zeros((fr.n, len(cal.types)))
    main = int(
        np.argmax(
            [
                obs.arrivals[:, :, obs.types.index(t)].sum() if t in obs.types else 0
                for t in cal.types
            ]
        )
    )
    for k, t in enumerate(obs.types):  # types never calibrated join the largest stream
        j = cal.types.index(t) if t in cal.types else main
        counts[:, j] += obs.arrivals[d, :, k]
    end = f"{fr.end_min // 60:02d}:{fr.end_min % 60:02d}"
    for j, stream in enumerate(data["calls"]):
        profile = [
            {"at": at, "per_hour": float(n) / hours}
            for at, n in zip(labels, counts[:, j], strict=True)
        ]
        stream["arrivals"] = {"profile": [*profile, {"at": end, "per_hour": 0}]}
        stream.pop("retrial", None)
    staff = [max(0, round(float(s) * cal.availability_factor)) for s in obs.present_fine[d]]
    group = data["agents"][0]
    group["count"] = max(1, *staff)
    slots = fr.slot_labels(len(staff))
    group["on_duty"] = [{"at": at, "count": n} for at, n in zip(slots, staff, strict=True)]
    data["agents"] = [group]
    data["name"] = f"{sc.name}-{obs.days[d].isoformat()}"
    return Scenario.model_validate(data)


def _erlang(sc: Scenario, obs: Observed, d: int, staff: list[int]) -> dict[str, np.ndarray]:
    """Erlang A per interval of day ``d``: [interval] of each compared metric."""
    cal = sc.calibration
    assert cal is not None
    fr = frame_of(sc)
    talk = {t: dist_mean(c.talk_s) for t, c in zip(cal.types, sc.calls, strict=True)}
    default = float(np.mean(list(talk.values())))
    out = {m: np.full(fr.n, np.nan) for m in COMPARED}
    for i in range(fr.n):
        n_calls = obs.arrivals[d, i]
        total = float(n_calls.sum())
        if total <= 0:
            continue
        aht = (
            sum(float(n) * talk.get(t, default) for t, n in zip(obs.types, n_calls, strict=True))
            / total
        )
        rate = total / (fr.interval_min * 60)
        a = erlang_a(rate, aht, cal.patience_exp_mean_s, staff[i], fr.sl_threshold_s)
        out["abandon_rate"][i] = a.p_abandon
        out["service_level"][i] = a.service_level
        out["asa_s"][i] = a.asa_s if a.asa_s is not None else np.nan
        out["mean_wait_s"][i] = a.mean_wait_s
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
    if len(sc.calls) != len(cal.types) or len(sc.agents) != 1:
        raise InputError(
            "the scenario is not as callsim calibrate wrote it (one call "
            "stream per calibrated type, one agent group)"
        )
    fr = frame_of(sc)
    obs = observe(log, days, fr)
    scenarios = [day_scenario(sc, obs, d) for d in range(len(days))]
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
        fine = np.array([p.count for p in s.agents[0].on_duty or []], dtype=float)
        staff = [round(float(v)) for v in fine.reshape(fr.n, -1).mean(axis=1)]  # per interval
        cells = metric_samples(reps, None)
        totals = metric_samples(reps, (0, 1))
        erl = _erlang(sc, obs, d, staff)
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
                sims = cells[m][:, i, 0]
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
        summary[m] = {
            "mae": or_none(_nanmean(np.abs(sim_v - obs_v))),
            "bias": or_none(_nanmean(sim_v - obs_v)),
            "erlang_a_mae": or_none(_nanmean(np.abs(erl_v - obs_v))),
            "erlang_a_bias": or_none(_nanmean(erl_v - obs_v)),
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
        "summary": summary,
        "per_day": day_rows,
        "per_interval": cell_rows,
        "executor": run_on.name,
    }


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
