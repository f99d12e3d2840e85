"""``callsim sweep``: what-if grids of a scenario with common random numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from callsim.analytics.precision import MIN_REPLICATIONS, parse_precision
from callsim.cli.command import DASK, SEED, WORKERS, flag
from callsim.cli.console import err, print_table, progress
from callsim.cli.simulate import (
    ANTITHETIC,
    CONTROL_VARIATES,
    MAX_REPLICATIONS,
    PRECISION,
    look_line,
    report_problems,
    stopped,
)
from callsim.report.files import json_text, run_dir, write_csv, write_json
from callsim.scenario import load_scenario
from callsim.scenario.vary import parse_vary
from callsim.sim.execute import executor
from callsim.sim.sweep import SWEPT, sweep

SWEEP_FILES = ("sweep.json", "sweep.csv", "sweep.png")


def sweep_cmd(
    scenario: Path = typer.Argument(..., help="Scenario file (YAML)."),
    vary: list[str] = typer.Option(
        ...,
        "--vary",
        help="PATH=VALUES: a scenario field by its path (routing.strategy, "
        "agents[0].count, agents[support-en].count) and its values, a comma list "
        "(longest_idle,fewest_skills_first) or a range low..high[:step] (380..440:10). "
        "Repeat for a grid of every combination.",
    ),
    replications: int | None = typer.Option(
        None,
        "--replications",
        "-n",
        help="Simulated days per point, the same days at each (default 20); with "
        f"--precision, the first batch (default {MIN_REPLICATIONS}).",
        show_default=False,
    ),
    precision: str | None = PRECISION,
    max_replications: int = MAX_REPLICATIONS,
    control_variates: bool = CONTROL_VARIATES,
    antithetic: bool = ANTITHETIC,
    seed: int = SEED,
    baseline: int = typer.Option(
        1, "--baseline", help="The point (from 1, as numbered in the table) compared with."
    ),
    workers: int | None = WORKERS,
    dask: str | None = DASK,
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Result folder (default results/sweep-<name>-<time>/; with --json none unless given).",
    ),
    as_json: bool = flag("--json", "Print sweep.json on stdout instead of the table."),
    no_plots: bool = flag("--no-plots", "Do not draw sweep.png."),
    quiet: bool = flag("--quiet", "No progress bar and no table."),
) -> None:
    """Simulate a grid of variants of a scenario; compare each with a baseline point.

    Every point simulates the same days (common random numbers), so the difference to the
    baseline is measured day by day and its 95 % CI shows what the change does, not noise.
    """
    bound = None if precision is None else parse_precision(precision)
    n = replications or (20 if bound is None else MIN_REPLICATIONS)
    sc = load_scenario(scenario)
    report_problems(scenario, sc, strict=False)
    varies = [parse_vary(v) for v in vary]
    folder = run_dir(out, f"sweep-{sc.name}", SWEEP_FILES) if out or not as_json else None
    n_points = 1
    for v in varies:
        n_points *= len(v.values)
    with executor(workers, dask) as ex:
        label = f"sweeping {sc.name}: {n_points} points on {ex.name}"
        with progress(label, n_points * n, enabled=not quiet) as bar:
            task = bar.task_ids[0]
            label += f" to {precision}"
            doc = sweep(
                sc,
                varies,
                ex,
                replications=n,
                seed=seed,
                baseline=baseline,
                progress=lambda k: bar.advance(task, k),
                precision=bound,
                max_replications=max_replications,
                on_look=lambda seen, total: bar.update(
                    task,
                    description=look_line(label, seen),
                    total=n_points * (total or seen.replications),
                ),
                control_variates=control_variates,
                antithetic=antithetic,
            )
    written = []
    if folder is not None:
        written.append(write_json(folder / "sweep.json", doc))
        columns = list(doc["points"][-1] if len(doc["points"]) > 1 else doc["points"][0])
        rows = [[r.get(c) for c in columns] for r in doc["points"]]
        written.append(write_csv(folder / "sweep.csv", columns, rows))
        if not no_plots:
            from callsim.report.plot import plot_sweep

            written.append(plot_sweep(folder / "sweep.png", doc))
    if as_json:
        typer.echo(json_text(doc), nl=False)
        return
    if not quiet:
        show_sweep(doc)
        if bound is not None:
            err.print(stopped(doc["stopping_rule"], "every point's headline figure and difference"))
        if folder is not None:
            err.print(f"Wrote {', '.join(p.name for p in written)} to {folder}")


SHORT = {
    "service_level": "SL",
    "abandon_rate": "abandon",
    "asa_s": "ASA s",
    "occupancy": "occ",
    "total_cost": "cost/day",
}


def show_sweep(doc: dict[str, Any]) -> None:
    paths = [v["path"] for v in doc["vary"]]
    columns = ["#", *(_label(p) for p in paths)]
    costed = "total_cost" in doc["points"][0]
    shown = (*SWEPT, *(("total_cost",) if costed else ()))
    for m in shown:
        columns.append(SHORT[m])
        if m != "occupancy":
            columns.append(f"Δ {SHORT[m]}")
    rows = []
    for r in doc["points"]:
        row: list[Any] = [f"{r['point']}{'*' if r['baseline'] else ''}"]
        row += [r[p] for p in paths]
        for m in shown:
            row.append(_pm(r[m], r[f"{m}_ci95"], m))
            if m != "occupancy":
                row.append(
                    "base"
                    if r["baseline"]
                    else _pm(r[f"{m}_diff"], r[f"{m}_diff_ci95"], m, sign=True)
                )
        rows.append(row)
    print_table(
        f"{doc['scenario']}: {doc['replications']} days a point (common random numbers), "
        f"mean ± 95 % CI; Δ: paired difference to point {doc['baseline']}*",
        columns,
        rows,
    )
    for key, what in (("cheapest", "Cheapest"),
                      ("cheapest_meeting_target",
                       "Cheapest surely meeting the SL target (95 % CI above it)")):  # fmt: skip
        c = doc.get(key)
        if c is None:
            continue
        unsure = c.get("not_sure")
        note = (
            f"; not sure at cheaper point{'s' if len(unsure) > 1 else ''} "
            f"{', '.join(map(str, unsure))} (SL CI straddles the target)"
            if unsure
            else ""
        )
        if c["point"] is None:
            err.print(f"{what}: none ({c['why']}){note}")
        elif "next_point" not in c:
            err.print(f"{what}: point {c['point']}, {c['total_cost']:.0f} a day{note}")
        else:
            verdict = "sure" if c["sure"] else "within the noise"
            err.print(
                f"{what}: point {c['point']}, {c['total_cost']:.0f} a day, "
                f"{_pm(c['below_next'], c['below_next_ci95'], 'total_cost', sign=True)} "
                f"against point {c['next_point']} (paired; {verdict}){note}"
            )


def _label(path: str) -> str:
    """``agents[support-en].count`` as ``support-en.count``; short paths as they are."""
    if len(path) <= 16:
        return path
    tail = path.rsplit(".", 2)[-2:]
    return ".".join(t.split("[")[-1].rstrip("]") for t in tail)


def _pm(mean: float | None, half: float | None, metric: str, sign: bool = False) -> str:
    if mean is None:
        return "-"
    digits = 0 if metric == "total_cost" else 1 if metric == "asa_s" else 3
    s = f"{mean:+.{digits}f}" if sign else f"{mean:.{digits}f}"
    return s + ("" if half is None else f"±{half:.{digits}f}")
