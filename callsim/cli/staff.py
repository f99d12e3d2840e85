"""``callsim staff SCENARIO [--simulate] [--shifts RULES]``: a scenario's day staffed per
interval and agent profile, by Erlang or by simulating its routing, and turned into shifts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import typer

from callsim.analytics.channels import erlang_caveat
from callsim.analytics.metrics import mean_ci, or_none
from callsim.analytics.shifts import ShiftPlan, plan_shifts
from callsim.analytics.staffing import Target
from callsim.analytics.verdict import Verdict, share_ci
from callsim.cli.console import err, print_table, progress
from callsim.cli.simulate import report_problems
from callsim.errors import InputError
from callsim.report.files import json_text, run_dir, write_csv, write_json
from callsim.scenario import Scenario, load_scenario
from callsim.scenario.model import minutes
from callsim.scenario.shifts import ShiftRules, load_shift_rules, scenario_yaml
from callsim.sim.execute import executor
from callsim.sim.staffing import (
    ErlangStart,
    Round,
    StaffPlan,
    cost_curve,
    erlang_start,
    measure,
    staff_by_simulation,
    with_plan,
    with_shifts,
)

STAFF_SCENARIO_FILES = (
    "staff.json",
    "staff.csv",
    "staff.png",
    "staffed.yaml",
    "shifts.csv",
    "shifts.yaml",
)


def staff_scenario(
    path: Path,
    *,
    sl_target: float | None,
    sl_threshold_s: float | None,
    max_abandon: float | None,
    max_occupancy: float | None,
    shrinkage: float,
    simulate: bool,
    confidence: float | None,
    replications: int,
    seed: int,
    workers: int | None,
    dask: str | None,
    shifts: Path | None,
    out: Path | None,
    plots: bool,
    as_json: bool,
    quiet: bool,
    cheapest: bool = False,
) -> None:
    sc = load_scenario(path)
    report_problems(path, sc, strict=False)
    if max_occupancy is not None or shrinkage:
        raise InputError(
            "--max-occupancy and --shrinkage: for Erlang plans without a scenario "
            "(a scenario's own breaks and routing stand for them)"
        )
    if confidence is not None and not simulate:
        raise InputError("--confidence: needs --simulate (Erlang gives averages only)")
    if cheapest and not simulate:
        raise InputError("--cheapest: needs --simulate (it scales the simulated plan)")
    if cheapest and sc.costs is None:
        raise InputError(f"--cheapest: {path} has no costs block (wages, abandons, revenue)")
    target = Target(
        sc.service_level.sl_target if sl_target is None else sl_target,
        sc.service_level.sl_threshold_s if sl_threshold_s is None else sl_threshold_s,
        max_abandon,
    )
    rules = load_shift_rules(shifts) if shifts is not None else None
    folder = run_dir(out, f"staff-{sc.name}", STAFF_SCENARIO_FILES) if out or not as_json else None
    started = time.perf_counter()
    doc: dict[str, Any] = {"scenario": sc.name, "target": _target(target, confidence)}
    shift_plans: list[ShiftPlan] | None = None
    by_shifts = None  # the scenario staffed by the shifts
    checked = None  # the shifts, simulated
    if not simulate:
        caveat = erlang_caveat(sc)  # chats held k > 1 at once: no closed form
        if caveat is not None:
            err.print(f"Warning: {path}: {caveat}", markup=False, highlight=False)
            doc["warning"] = caveat
        start = erlang_start(sc, target)
        chosen, found = start.agents, None
        staffed = with_plan(sc, start.profiles, chosen, start.starts)
        if rules is not None:
            shift_plans, by_shifts = _shifts(sc, rules, start, chosen)
    else:
        with executor(workers, dask) as ex:
            label = f"staffing {sc.name} by simulation on {ex.name}"
            with progress(label, None, enabled=not quiet) as bar:
                task = bar.task_ids[0]

                def on_round(what: str, r: Round) -> None:
                    short = int((r.verdict == Verdict.MISSES).sum())
                    unsure = int((r.verdict == Verdict.NOT_SURE).sum())
                    bar.update(
                        task,
                        description=f"{label}: {what}, {r.days.count} days, "
                        f"{int(r.agents.sum())} agent-intervals, "
                        f"{short} cells short, {unsure} not sure",
                    )

                found = staff_by_simulation(
                    sc,
                    target,
                    ex,
                    replications=replications,
                    seed=seed,
                    confidence=confidence,
                    progress=lambda k: bar.advance(task, k),
                    on_round=on_round,
                )
                start = found.start
                chosen, staffed = found.fresh.agents, found.scenario
                if cheapest:
                    bar.update(task, description=f"{label}: the cost of more or fewer agents")
                    doc["cost_curve"] = cost_curve(
                        sc, found, target, ex, progress=lambda k: bar.advance(task, k)
                    )
                if rules is not None:
                    shift_plans, by_shifts = _shifts(sc, rules, start, chosen)
                    bar.update(task, description=f"{label}: simulating the shifts")
                    on_phones = np.array([np.round(p.scheduled) for p in shift_plans], dtype=int)
                    checked = measure(
                        by_shifts,
                        on_phones,
                        target,
                        ex,
                        days=found.fresh.days,
                        confidence=confidence,
                        progress=lambda k: bar.advance(task, k),
                    )
    doc.update(_plan_doc(start, chosen, found, target, confidence))
    doc["wall_time_s"] = round(time.perf_counter() - started, 2)
    written: list[Path] = []
    if shift_plans is not None:
        doc["shifts"] = _shifts_doc(start, shift_plans, checked, target, confidence)
    if folder is not None:
        header = (
            f"{sc.name} staffed by callsim staff {'--simulate ' if simulate else ''}"
            f"(target {target.sl_target:g} in {target.sl_threshold_s:g} s"
            + (f", abandon <= {target.max_abandon:g}" if target.max_abandon else "")
            + (f", on {confidence:.0%} of days" if confidence else "")
            + (", surely, on fresh days" if simulate else "")
            + ")"
        )
        written.append(write_json(folder / "staff.json", doc))
        written.append(_write_plan_csv(folder / "staff.csv", start, chosen, doc))
        staffed_yaml = folder / "staffed.yaml"
        staffed_yaml.write_text(scenario_yaml(staffed, header), encoding="utf-8")
        written.append(staffed_yaml)
        if shift_plans is not None and by_shifts is not None:
            shifts_yaml = folder / "shifts.yaml"
            shifts_yaml.write_text(
                scenario_yaml(by_shifts, header + "; as shifts"), encoding="utf-8"
            )
            written.append(shifts_yaml)
            written.append(_write_shifts_csv(folder / "shifts.csv", start, shift_plans))
        if plots:
            from callsim.report.plot import plot_staff_plan

            written.append(plot_staff_plan(folder / "staff.png", doc))
    if as_json:
        typer.echo(json_text(doc), nl=False)
        return
    if not quiet:
        _show(doc, simulate)
        if "cost_curve" in doc:
            _show_costs(doc["cost_curve"])
        if folder is not None:
            err.print(f"Wrote {', '.join(p.name for p in written)} to {folder}")


def _show_costs(curve: dict[str, Any]) -> None:
    """The cost of the simulated plan scaled up and down, and the cheapest staffing."""

    def pm(v: dict[str, Any], fmt: str) -> str:
        return "-" if v["mean"] is None else f"{v['mean']:{fmt}}" + (
            "" if v["ci95"] is None else f"±{v['ci95']:{fmt.lstrip('+')}}")  # fmt: skip

    rows = [
        [f"{r['factor']:g}", f"{r['agent_hours']:.0f}", pm(r["service_level"], ".3f"),
         pm(r["abandon_rate"], ".3f"), r["verdict"], pm(r["total_cost"], ".0f"),
         pm(r["total_cost_diff"], "+.0f")]
        for r in curve["factors"]
    ]  # fmt: skip
    print_table(
        f"Total cost a day of the plan scaled (its {curve['days']} fresh days; "
        "Δ: paired, against factor 1)",
        ["factor", "agent-h", "SL", "abandon", "the day", "cost/day", "Δ cost"],
        rows,
    )
    meeting = curve["cheapest_meeting_target"]
    unsure = curve["not_sure"]
    err.print(
        f"Cheapest: factor {curve['cheapest']:g}; cheapest surely meeting the targets on "
        "the day (95 % CIs clear of them): "
        + ("none" if meeting is None else f"factor {meeting:g}")
        + (f" (not sure at cheaper {', '.join(f'{f:g}' for f in unsure)})" if unsure else "")
    )


def _target(t: Target, confidence: float | None) -> dict[str, Any]:
    return {
        "sl_target": t.sl_target,
        "sl_threshold_s": t.sl_threshold_s,
        "max_abandon": t.max_abandon,
        "confidence": confidence,
    }


def _shifts(
    sc: Scenario, rules: ShiftRules, start: ErlangStart, agents: np.ndarray
) -> tuple[list[ShiftPlan], Scenario]:
    """Each profile's shifts for its plan, and the scenario they staff."""
    starts_min = [minutes(s) for s in start.starts]
    plans = [plan_shifts(row, starts_min, start.interval_min, rules) for row in agents]
    return plans, with_shifts(sc, start.profiles, plans)


def _ci(samples: np.ndarray) -> tuple[list[float | None], list[float | None]]:
    mean, half = mean_ci(samples)
    return [or_none(v) for v in mean], [or_none(v) for v in half]


def _plan_doc(
    start: ErlangStart,
    agents: np.ndarray,
    found: StaffPlan | None,
    target: Target,
    confidence: float | None,
) -> dict[str, Any]:
    erlang = start.agents.sum(axis=0)
    chosen = agents.sum(axis=0)
    calls = (start.load.rate.sum(axis=1) * start.interval_min * 60).tolist()
    rows: list[dict[str, Any]] = []
    for i, at in enumerate(start.starts):
        row: dict[str, Any] = {
            "interval_start": at,
            "calls": calls[i],
            "erlang_agents": int(erlang[i]),
        }
        if found is not None:
            row["simulated_agents"] = int(chosen[i])
            row["difference"] = int(chosen[i] - erlang[i])
        row["by_profile"] = {p.name: int(agents[k, i]) for k, p in enumerate(start.profiles)}
        rows.append(row)
    h = start.interval_min / 60
    doc: dict[str, Any] = {
        "interval_min": start.interval_min,
        "profiles": [
            {"name": p.name, "groups": list(p.groups), "skills": p.skills, "queues": list(p.queues)}
            for p in start.profiles
        ],
        "erlang_agent_hours": float(erlang.sum() * h),
    }
    if found is not None:
        doc["simulated_agent_hours"] = float(chosen.sum() * h)
        doc["met"] = found.met
        doc["rounds"] = found.rounds
        doc["days"] = {
            "search": found.best.days.count,
            "search_seeds": found.best.days.seeds,
            "fresh": found.fresh.days.count,
            "fresh_seeds": found.fresh.days.seeds,
            "most": found.most_days,
            "fresh_checks": found.checks,
        }
        doc["safe_side"] = found.safe_side
        doc["fresh_added"] = found.fresh_added
        # the Erlang plan on the search's days; the final plan on fresh days
        for name, r in (("erlang_simulated", found.erlang), ("achieved", found.fresh)):
            sl, sl_h = _ci(r.sl_all)
            ab, ab_h = _ci(r.abandon_all)
            met, met_low, _ = share_ci(r.held(target))
            verdict = r.by_interval(target, confidence)
            for i, row in enumerate(rows):
                row[name] = {
                    "service_level": sl[i],
                    "service_level_ci95": sl_h[i],
                    "abandon_rate": ab[i],
                    "abandon_rate_ci95": ab_h[i],
                    "days_met": float(met[i]),
                    "days_met_low": float(met_low[i]),
                    "verdict": Verdict(int(verdict[i])).label,
                }
        doc["cells_short_with_erlang"] = int((found.erlang.verdict == Verdict.MISSES).sum())
        doc["cells_not_sure_with_erlang"] = int((found.erlang.verdict == Verdict.NOT_SURE).sum())
    doc["intervals"] = rows
    return doc


def _shifts_doc(
    start: ErlangStart,
    plans: list[ShiftPlan],
    checked: Round | None,
    target: Target,
    confidence: float | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"profiles": []}
    for prof, p in zip(start.profiles, plans, strict=True):
        out["profiles"].append(
            {
                "profile": prof.name,
                "status": p.status,
                "paid_hours": p.paid_hours,
                "required_hours": p.lower_bound_hours,
                "shifts": [
                    {"shift": t.label, "agents": int(n)}
                    for t, n in zip(p.types, p.counts, strict=True)
                ],
                "scheduled": p.scheduled.tolist(),
                "gaps": p.gaps.tolist(),
                "over": p.over.tolist(),
            }
        )
    out["paid_hours"] = sum(p.paid_hours for p in plans)
    out["required_hours"] = sum(p.lower_bound_hours for p in plans)
    if checked is not None:  # on the plan's fresh days
        sl, sl_h = _ci(checked.sl_all)
        out["simulated"] = {
            "days": checked.days.count,
            "service_level": sl,
            "service_level_ci95": sl_h,
            "days_met": checked.days_met(target).tolist(),
            "verdict": [Verdict(int(v)).label for v in checked.by_interval(target, confidence)],
            "cells_short": int((checked.verdict == Verdict.MISSES).sum()),
            "cells_not_sure": int((checked.verdict == Verdict.NOT_SURE).sum()),
        }
    return out


def _write_plan_csv(
    path: Path, start: ErlangStart, agents: np.ndarray, doc: dict[str, Any]
) -> Path:
    columns = ["interval_start", "calls", "erlang_agents", *(p.name for p in start.profiles)]
    sim = "achieved" in doc["intervals"][0]
    if sim:
        columns += ["service_level", "service_level_ci95", "abandon_rate", "days_met", "verdict"]
    rows = []
    for i, r in enumerate(doc["intervals"]):
        row = [
            r["interval_start"],
            round(r["calls"], 2),
            r["erlang_agents"],
            *(int(agents[k, i]) for k in range(len(start.profiles))),
        ]
        if sim:
            a = r["achieved"]
            row += [a["service_level"], a["service_level_ci95"], a["abandon_rate"], a["days_met"],
                    a["verdict"]]  # fmt: skip
        rows.append(row)
    return write_csv(path, columns, rows)


def _write_shifts_csv(path: Path, start: ErlangStart, plans: list[ShiftPlan]) -> Path:
    rows = [
        [prof.name, t.label, int(n), t.length_min / 60]
        for prof, p in zip(start.profiles, plans, strict=True)
        for t, n in zip(p.types, p.counts, strict=True)
    ]
    return write_csv(path, ["profile", "shift", "agents", "paid_hours_each"], rows)


def _pm(mean: float | None, half: float | None) -> str:
    if mean is None:
        return "-"
    return f"{mean:.3f}" + ("" if half is None else f"±{half:.3f}")


def _show(doc: dict[str, Any], simulate: bool) -> None:
    conf = doc["target"]["confidence"]
    shifts = doc.get("shifts")
    columns = ["interval", "calls", "Erlang"]
    if simulate:
        columns += ["sim", "Δ", "SL", "abandon", *(["days met"] if conf else []), "verdict"]
    if shifts:
        columns += ["shifts", "over"]
    rows = []
    for i, r in enumerate(doc["intervals"]):
        row: list[Any] = [r["interval_start"], f"{r['calls']:.0f}", r["erlang_agents"]]
        if simulate:
            a = r["achieved"]
            row += [
                r["simulated_agents"],
                f"{r['difference']:+d}",
                _pm(a["service_level"], a["service_level_ci95"]),
                _pm(a["abandon_rate"], a["abandon_rate_ci95"]),
            ]
            if conf:
                row.append(f"{a['days_met']:.0%} (≥{a['days_met_low']:.0%})")
            row.append(a["verdict"])
        if shifts:
            on = sum(p["scheduled"][i] for p in shifts["profiles"])
            over = sum(p["over"][i] for p in shifts["profiles"])
            gap = sum(p["gaps"][i] for p in shifts["profiles"])
            row += [f"{on:g}", f"{over:g}" + (f" (gap {gap:g})" if gap else "")]
        rows.append(row)
    t = doc["target"]
    goal = (
        f"{t['sl_target']:.0%} in {t['sl_threshold_s']:g} s"
        + (f", abandon <= {t['max_abandon']:.1%}" if t["max_abandon"] else "")
        + (f", on {conf:.0%} of days" if conf else " on average")
    )
    title = f"{doc['scenario']}: agents on the phones per interval ({goal})"
    if simulate:
        title += f"; the simulated plan on {doc['days']['fresh']} fresh days, mean ± 95 % CI" + (
            "; days met (≥ the 95 % CI's low end)" if conf else ""
        )
    print_table(title, columns, rows)
    line = f"Erlang plan: {doc['erlang_agent_hours']:.1f} agent-hours"
    if simulate:
        verdicts = [r["achieved"]["verdict"] for r in doc["intervals"]]
        counts = {v.label: verdicts.count(v.label) for v in Verdict}
        days = doc["days"]
        line += (
            f"; simulated plan: {doc['simulated_agent_hours']:.1f} "
            f"({doc['simulated_agent_hours'] - doc['erlang_agent_hours']:+.1f}). "
            f"On {days['fresh']} fresh days (seeds the search never used): "
            + (
                "every interval surely meets the targets (95 % CIs clear of them)"
                if doc["met"]
                else f"{counts['meets']} intervals meet the targets, "
                f"{counts['not sure']} not sure, {counts['misses']} miss"
            )
            + f". The Erlang plan misses {doc['cells_short_with_erlang']} (interval, queue) "
            f"cells under this routing and is not sure in {doc['cells_not_sure_with_erlang']}"
            f" on the search's {days['search']} days. {doc['rounds']} rounds, "
            f"{days['fresh_checks']} fresh checks, {doc['wall_time_s']:.0f} s"
        )
        if doc["safe_side"]:
            line += (
                f". {doc['safe_side']} times a cell was still not sure after "
                f"{days['most']} days and got an agent more (the safe side)"
            )
        if doc["fresh_added"]:
            line += (
                f". Fresh days did not confirm some cells: {doc['fresh_added']} "
                "agent-intervals added, and the plan measured again on those days"
            )
    err.print(line)
    if shifts:
        rows = [
            [p["profile"], s["shift"], s["agents"]] for p in shifts["profiles"] for s in p["shifts"]
        ]
        print_table(
            "Shifts (fewest paid agent-hours covering the plan)",
            ["profile", "shift (b: break)", "agents"],
            rows,
        )
        gaps = sum(sum(p["gaps"]) for p in shifts["profiles"])
        over = sum(sum(p["over"]) for p in shifts["profiles"])
        msg = (
            f"Paid {shifts['paid_hours']:.1f} agent-hours for "
            f"{shifts['required_hours']:.1f} required "
            f"({shifts['paid_hours'] / max(shifts['required_hours'], 1e-9) - 1:+.1%}); "
            f"over-staffed {over:.1f} agent-intervals, gaps {gaps:.1f}"
        )
        if "simulated" in shifts:
            sim = shifts["simulated"]
            msg += (
                f"; simulated on the {sim['days']} fresh days: {sim['cells_short']} "
                f"(interval, queue) cells short, {sim['cells_not_sure']} not sure"
            )
        err.print(msg)
