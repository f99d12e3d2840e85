"""``callsim roster PEOPLE``: named agents rostered over 1 to 6 weeks against a
requirement per interval (staffing plans of ``callsim staff --forecast``), with OR-Tools
CP-SAT (callsim.plan.roster); each day written as a scenario ``callsim run`` simulates."""

from __future__ import annotations

import dataclasses
import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import typer

from callsim.cli.command import flag
from callsim.cli.console import err, print_table, progress
from callsim.errors import InputError
from callsim.plan.check import day_scenario
from callsim.plan.people import load_people
from callsim.plan.requirement import needs_by_day, read_need
from callsim.plan.roster import Roster, roster
from callsim.report.files import json_text, run_dir, write_csv, write_json
from callsim.scenario.model import Scenario, hhmm
from callsim.scenario.shifts import scenario_yaml

ROSTER_FILES = ("roster.csv", "coverage.csv", "agents.csv", "roster.json", "roster.png")


def roster_cmd(
    people: Path = typer.Argument(
        ..., help="Roster file (YAML): skill, shifts, rules and the named agents."
    ),
    requirement: list[str] = typer.Option(
        ...,
        "--requirement",
        help="WHEN=PLAN: a staffing plan (plan.csv of `callsim staff --forecast`, or "
        "staff.csv of `callsim staff SCENARIO`) for a date (YYYY-MM-DD), a weekday (sun, "
        "mon, ...) or all; or dated=PATTERN: every plan the glob finds, for the date in its "
        "path; or the folder `callsim staff --forecast FOLDER` wrote (its dated plans). "
        "Repeat the flag.",
    ),
    start: str = typer.Option(..., "--start", help="First day of the roster, YYYY-MM-DD."),
    weeks: int = typer.Option(2, "--weeks", help="Weeks to roster, 1 to 6."),
    interval_min: int = typer.Option(30, "--interval-min", help="The plans' interval, minutes."),
    cover: str = typer.Option(
        "agents_scheduled",
        "--cover",
        help="The plans' column of agents to cover: agents_scheduled (after shrinkage) or "
        "agents of plan.csv, or a profile of staff.csv (`callsim staff SCENARIO`).",
    ),
    time_limit_s: float = typer.Option(
        30.0, "--time-limit-s", help="CP-SAT's time limit, seconds (the gap is reported)."
    ),
    workers: int = typer.Option(2, "--workers", help="CP-SAT's search workers."),
    seed: int = typer.Option(1, "--seed", help="CP-SAT's random seed, and --check's."),
    patience_s: float | None = typer.Option(
        None, "--patience-s", help="The day scenarios' mean patience, seconds (exponential)."
    ),
    sl_threshold_s: float = typer.Option(
        20.0, "--sl-threshold-s", help="The day scenarios' service-level threshold, seconds."
    ),
    sl_target: float = typer.Option(0.8, "--sl-target", help="Their service-level target."),
    out: Path | None = typer.Option(
        None, "--out", help="Directory for the files (default results/roster-<time>/)."
    ),
    check: int = typer.Option(
        0,
        "--check",
        help="Simulate each day scenario on this many days (replications) with the real "
        "routing and report its service level per day (check.csv); 0: no check.",
    ),
    no_plots: bool = flag("--no-plots", "Do not draw roster.png."),
    as_json: bool = flag("--json", "Print roster.json on stdout instead of tables."),
) -> None:
    """Roster named agents over weeks: shifts from the allowed patterns with their breaks,
    legal rest, at most so many days in a row, hours within contract, weekends shared
    fairly, preferences where the coverage allows (OR-Tools CP-SAT)."""
    if not 0 <= check <= 1000:
        raise InputError(f"--check: {check} is not a number of simulated days in 0..1000")
    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise InputError(f"--start: {start!r} is not a date YYYY-MM-DD") from None
    if not 1 <= weeks <= 6:
        raise InputError(f"--weeks: {weeks} is not a whole number of weeks in 1..6")
    if interval_min <= 0 or 1440 % interval_min:
        raise InputError(f"--interval-min: {interval_min} does not divide a day")
    if workers < 1:
        raise InputError(f"--workers: {workers} is not a whole number >= 1")
    if not 0 < sl_target < 1:
        raise InputError(f"--sl-target: {sl_target!r} is not a fraction in (0, 1)")
    for name, value in (("--patience-s", patience_s), ("--sl-threshold-s", sl_threshold_s)):
        if value is not None and not 0 < value < math.inf:
            raise InputError(f"{name}: {value!r} is not a positive number")
    given = {}
    for item in requirement:
        when, sep, path = item.partition("=")
        if not sep and Path(item).is_dir():  # the folder of `staff --forecast FOLDER`
            when, sep, path = "dated", "=", str(Path(item) / "*" / "plan.csv")
        if not sep or not path:
            raise InputError(
                f"--requirement: {item!r} is not WHEN=PLAN (e.g. sun=plan.csv) or a folder of "
                "plans (`callsim staff --forecast FOLDER`'s)"
            )
        for key, plan in _plans(when.strip().lower(), path):
            given[key] = read_need(plan, interval_min, cover)
    staff = load_people(people)
    needs = needs_by_day(given, first, weeks * 7, interval_min)
    unplanned = [first + timedelta(days=k) for k, n in enumerate(needs) if n.source == "none"]
    if unplanned and not as_json:
        err.print(
            f"Warning: no requirement for {len(unplanned)} of the roster's days "
            f"({', '.join(f'{d:%a} {d.isoformat()}' for d in unplanned[:3])}"
            + (", ..." if len(unplanned) > 3 else "")
            + "): nobody is needed there (expected a plan for each date, weekday or all)"
        )
    required = np.stack([n.agents for n in needs])
    found = roster(staff, first, required, interval_min, time_limit_s=time_limit_s,
                   workers=workers, seed=seed)  # fmt: skip
    folder = run_dir(out, "roster", ROSTER_FILES)
    write_csv(folder / "roster.csv", ["date", "weekday", "agent", "start", "end", "paid_h",
              "breaks"], _shifts(found))  # fmt: skip
    write_csv(folder / "coverage.csv", ["date", "interval_start", "required", "scheduled",
              "short"], _coverage(found))  # fmt: skip
    weeks_h = [f"week_{k + 1}_h" for k in range(weeks)]
    write_csv(folder / "agents.csv", ["agent", "contract_h", *weeks_h, "days", "weekend_days",
              "preferences", "preferences_met"], _agents(found))  # fmt: skip
    scenarios, written_days = [], []
    (folder / "days").mkdir(exist_ok=True)
    for k, need in enumerate(needs):
        day = first + timedelta(days=k)
        scenario = day_scenario(found, day, need, staff, sl_target=sl_target,
                                sl_threshold_s=sl_threshold_s, patience_s=patience_s)  # fmt: skip
        if scenario is not None:
            written = folder / "days" / f"{day.isoformat()}.yaml"
            written.write_text(scenario_yaml(scenario, f"written by callsim roster {people}"),
                               encoding="utf-8")  # fmt: skip
            scenarios.append(str(written))
            written_days.append((day, scenario))
    summary = _summary(found, scenarios)
    checked = _check(written_days, check, seed, sl_target) if check else []
    if checked:
        write_csv(folder / "check.csv", CHECK_COLUMNS, checked)
        summary["check"] = {"replications": check, "seed": seed, "sl_target": sl_target,
                            "days": [dict(zip(CHECK_COLUMNS, r, strict=True))
                                     for r in checked]}  # fmt: skip
    write_json(folder / "roster.json", summary)
    if not no_plots:
        from callsim.report.roster import plot_roster

        plot_roster(folder / "roster.png", found.first, found.required, found.scheduled,
                    f"{people.name}: {weeks} weeks from {first.isoformat()}, "
                    f"{len(found.agents)} agents")  # fmt: skip
    if as_json:
        typer.echo(json_text(summary), nl=False)
        return
    _tables(found)
    if checked:
        print_table(
            f"Simulated check ({check} days each; below: intervals under {sl_target:g})",
            ["date", "calls", "service_level", "abandon", "occ", "below", "worst"],
            [[r[0], round(r[2]), f"{r[3]:.3f}±{r[4]:.3f}", round(r[5], 3), round(r[6], 2),
              r[7], f"{r[8]} {r[9]:.2f}"] for r in checked],
        )  # fmt: skip
    err.print(
        f"{found.status} (gap {_gap(found.gap)}, {found.wall_s:.1f} s): "
        f"{found.short_agent_h:g} of {float(found.required.sum()) * interval_min / 60:g} "
        f"required agent-hours short; wrote {folder}/"
        f"roster.csv, coverage.csv, agents.csv, roster.json"
        + ("" if no_plots else ", roster.png")
        + (", check.csv" if checked else "")
        + (
            f" and {len(scenarios)} day scenarios (days/*.yaml, for callsim run)"
            if scenarios
            else "; no day scenarios: the plans have no aht_s"
        )
    )


CHECK_COLUMNS = ["date", "weekday", "calls", "service_level", "service_level_ci95",
                 "abandon_rate", "occupancy", "intervals_below", "worst_interval",
                 "worst_service_level"]  # fmt: skip


def _check(
    days: list[tuple[date, Scenario]], replications: int, seed: int, sl_target: float
) -> list[list[Any]]:
    """Each day scenario simulated (``callsim run``'s simulator): its day's figures, the
    intervals whose mean service level is under the target, and the lowest one."""
    from callsim.sim import simulate

    rows = []
    with progress("simulating the roster's days", len(days)) as bar:
        for day, scenario in days:
            result = simulate(scenario, replications=replications, seed=seed)
            totals = result.summary["totals"]
            levels = [(r.service_level, r.interval_start) for r in result.interval_rows
                      if r.service_level is not None and r.offered]  # fmt: skip
            worst = min(levels, default=(math.nan, "-"))
            rows.append([day.isoformat(), f"{day:%a}", totals["offered"]["mean"],
                         totals["service_level"]["mean"], totals["service_level"]["ci95"],
                         totals["abandon_rate"]["mean"], totals["occupancy"]["mean"],
                         sum(v < sl_target for v, _ in levels), worst[1],
                         worst[0]])  # fmt: skip
            bar.advance(bar.task_ids[0])
    return rows


def _gap(gap: float) -> str:
    return "unknown: no time left to improve the first roster" if math.isnan(gap) else f"{gap:.1%}"


def _plans(when: str, path: str) -> list[tuple[str, Path]]:
    """``dated=PATTERN``: every plan the glob pattern finds, for the date its path names
    (as ``callsim forecast``'s day-YYYY-MM-DD files do); else the one plan for ``when``."""
    if when != "dated":
        return [(when, Path(path))]
    import glob
    import re

    found = sorted(glob.glob(path))
    if not found:
        raise InputError(f"--requirement: dated={path}: no file matches")
    out = []
    for name in found:
        dates = re.findall(r"\d{4}-\d{2}-\d{2}", name)
        if not dates:
            raise InputError(f"--requirement: {name}: no date YYYY-MM-DD in its path")
        out.append((dates[-1], Path(name)))
    return out


def _shifts(r: Roster) -> list[list[Any]]:
    return [
        [w.day.isoformat(), f"{w.day:%a}", w.agent, hhmm(w.shift.start_min),
         hhmm(w.shift.start_min + w.shift.length_min), w.paid_h,
         " ".join(f"{hhmm(b)}+{n}" for b, n in w.shift.breaks)]
        for w in r.work
    ]  # fmt: skip


def _coverage(r: Roster) -> list[list[Any]]:
    rows = []
    for d in range(r.days):
        for i in range(r.required.shape[1]):
            need, have = r.required[d, i], r.scheduled[d, i]
            if need > 0 or have > 0:
                rows.append([(r.first + timedelta(days=d)).isoformat(),
                             hhmm(i * r.interval_min), int(need), round(float(have), 2),
                             round(float(max(need - have, 0)), 2)])  # fmt: skip
    return rows


def _agents(r: Roster) -> list[list[Any]]:
    return [
        [a.agent, a.contract_h, *a.paid_h_by_week, a.days, a.weekend_days, a.preferences,
         a.preferences_met]
        for a in r.agents
    ]  # fmt: skip


def _summary(r: Roster, scenarios: list[str]) -> dict[str, Any]:
    short = np.maximum(r.required - r.scheduled, 0)
    return {
        "first_day": r.first.isoformat(),
        "days": r.days,
        "status": r.status,
        "objective": r.objective,
        "best_bound": r.bound,
        "gap": r.gap,
        "wall_s": r.wall_s,
        "required_agent_h": float(r.required.sum() * r.interval_min / 60),
        "scheduled_agent_h": float(r.scheduled.sum() * r.interval_min / 60),
        "short_agent_h": r.short_agent_h,
        "intervals_short": int((short > 0).sum()),
        "intervals_required": int((r.required > 0).sum()),
        "paid_h": sum(w.paid_h for w in r.work),
        "preferences": sum(a.preferences for a in r.agents),
        "preferences_met": sum(a.preferences_met for a in r.agents),
        "agents": [dataclasses.asdict(a) for a in r.agents],
        "scenarios": scenarios,
    }


def _tables(r: Roster) -> None:
    rows = []
    for d in range(r.days):
        day = r.first + timedelta(days=d)
        need, have = r.required[d], r.scheduled[d]
        short = np.maximum(need - have, 0)
        rows.append([day.isoformat(), f"{day:%a}", sum(w.day == day for w in r.work),
                     round(float(need.sum() * r.interval_min / 60), 1),
                     round(float(have.sum() * r.interval_min / 60), 1),
                     round(float(short.sum() * r.interval_min / 60), 1),
                     int((short > 0).sum())])  # fmt: skip
    print_table("Coverage per day (agent-hours on the phones)",
                ["date", "day", "agents", "required", "scheduled", "short", "short_ivs"],
                rows)  # fmt: skip
    print_table(
        "Agents (paid hours per week; preferences met of asked)",
        ["agent", "contract", "hours", "days", "weekend", "preferences"],
        [[a.agent, a.contract_h, " ".join(f"{h:g}" for h in a.paid_h_by_week), a.days,
          a.weekend_days, f"{a.preferences_met}/{a.preferences}"] for a in r.agents],
    )  # fmt: skip
