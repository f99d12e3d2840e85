"""``callsim intraday``: the rest of today re-forecast from the calls so far, and who is
short where (callsim.plan.intraday)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import typer

from callsim.analytics.staffing import Target
from callsim.cli.command import SEED, flag
from callsim.cli.console import err, print_table
from callsim.cli.erlang import MAX_ABANDON, MAX_OCCUPANCY, MODEL, PATIENCE, forecast_day
from callsim.errors import InputError
from callsim.plan.intraday import (
    Row,
    check_now,
    day_service_level,
    default_now,
    ratio,
    read_actuals,
    read_planned,
    reforecast,
    rest_scenario,
)
from callsim.report.files import json_text, run_dir, write_csv, write_json
from callsim.scenario.model import Scenario

FILES = ("intraday.csv", "intraday.json", "intraday.png", "rest.yaml")
COLUMNS = ["interval_start", "forecast", "reforecast", "reforecast_lo", "reforecast_hi",
           "aht_s", "required", "planned", "short", "service_level",
           "service_level_simulated"]  # fmt: skip


def intraday_cmd(
    forecast: Path = typer.Argument(
        ...,
        help="The day's forecast CSV (interval_start, calls, aht_s[, patience_s]), "
        "e.g. day-YYYY-MM-DD.csv of `callsim forecast`.",
    ),
    plan: Path = typer.Option(
        ...,
        "--plan",
        help="Planned agents: plan.csv of `staff --forecast` (its agents "
        "column) or a roster's coverage.csv (its scheduled column).",
    ),
    actuals: Path = typer.Option(
        ...,
        "--actuals",
        help="Calls so far: CSV of interval_start, calls[, aht_s], or "
        "the JSON of the live service's GET /v1/stats/intervals.",
    ),
    now: str | None = typer.Option(
        None, "--now", help="Time of day HH:MM (default: the end of the last actual interval)."
    ),
    day: str | None = typer.Option(None, "--date", help="The coverage.csv date, YYYY-MM-DD."),
    interval_min: int = typer.Option(30, "--interval-min", help="Interval length, minutes."),
    level: float = typer.Option(80.0, "--level", help="Band level, percent."),
    sl_target: float = typer.Option(0.8, "--sl-target", help="Service-level target."),
    sl_threshold_s: float = typer.Option(
        20.0, "--sl-threshold-s", help="Service-level threshold, seconds."
    ),
    model: str = MODEL,
    patience_s: float | None = PATIENCE,
    max_abandon: float | None = MAX_ABANDON,
    max_occupancy: float | None = MAX_OCCUPANCY,
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Directory for intraday.csv, .json and .png "
        "(default results/intraday-<time>/; with --json none unless given).",
    ),
    replications: int = typer.Option(
        20,
        "--replications",
        "-n",
        help="Simulate the rest of the day on this many days with the planned agents, from "
        "the state the last hour's actual calls leave (0: Erlang only).",
    ),
    seed: int = SEED,
    no_plots: bool = flag("--no-plots", "Do not draw the PNG."),
    as_json: bool = flag("--json", "Print JSON on stdout instead of a table."),
) -> None:
    """Re-forecast the rest of a day from its calls so far: each remaining interval's
    reforecast (with its band), agents required and planned, short or over, and the
    service level the planned agents give."""
    if not 0 < level < 100:
        raise InputError(f"--level: {level!r} is not within (0, 100)")
    if interval_min <= 0 or 1440 % interval_min:
        raise InputError(f"--interval-min: {interval_min!r} does not divide a day")
    if model not in ("c", "a"):
        raise InputError(f"--model: {model!r} is not one of c, a")
    target = Target(sl_target, sl_threshold_s, max_abandon, max_occupancy)
    target.check()
    intervals = forecast_day(forecast, model, patience_s)
    got = read_actuals(actuals)
    planned = read_planned(plan, interval_min, day)
    at = check_now(now) if now is not None else default_now(got, interval_min)
    est = ratio(intervals, got, at, level)
    rows = reforecast(intervals, planned, est, at, interval_min, target, model=model,
                      patience_s=patience_s)  # fmt: skip
    if not 0 <= replications <= 1000:
        raise InputError(f"--replications: {replications} is not a number of days in 0..1000")
    sl = day_service_level(rows)
    rest = rest_scenario(rows, got, planned, interval_min, target,
                         patience_s=patience_s if model == "a" else None,
                         name=f"intraday-{forecast.stem}")  # fmt: skip
    simulated = _simulate(rest, replications, seed) if rest and replications else None
    by_start = simulated["intervals"] if simulated else {}
    table = [[*_values(r), by_start.get(r.start)] for r in rows]
    summary: dict[str, Any] = {
        "forecast": str(forecast),
        "plan": str(plan),
        "actuals": str(actuals),
        "now": f"{at // 60:02d}:{at % 60:02d}",
        "model": model,
        "target": dataclasses.asdict(target),
        "ratio": dataclasses.asdict(est),
        "short_agent_intervals": sum(max(r.short, 0) for r in rows),
        "over_agent_intervals": sum(max(-r.short, 0) for r in rows),
        "service_level_rest_of_day": sl,
        "simulated": simulated,
        "intervals": [dict(zip(COLUMNS, v, strict=True)) for v in table],
    }
    folder = run_dir(out, "intraday", FILES) if out is not None or not as_json else None
    if folder is not None:
        write_csv(folder / "intraday.csv", COLUMNS, table)
        write_json(folder / "intraday.json", summary)
        if rest is not None:
            from callsim.scenario.shifts import scenario_yaml

            (folder / "rest.yaml").write_text(
                scenario_yaml(rest, f"written by callsim intraday {forecast}"), encoding="utf-8"
            )
        if not no_plots:
            _plot(folder / "intraday.png", rows, summary)
    if as_json:
        typer.echo(json_text(summary), nl=False)
        return
    print_table(
        f"Intraday reforecast from {summary['now']} ({forecast.name})",
        ["start", "forecast", "reforecast", "band", "need", "plan", "short", "SL", "sim"],
        [[r.start, f"{r.forecast:.1f}", f"{r.reforecast:.1f}", f"{r.lo:.0f}-{r.hi:.0f}",
          r.required.agents, r.planned, f"{r.short:+d}", _two(r.service_level),
          _two(by_start.get(r.start))] for r in rows],
    )  # fmt: skip
    err.print(
        f"Calls so far {est.actual_calls:g} against {est.forecast_calls:.1f} forecast: ratio "
        f"{est.estimate:.3f} ({level:g} % band {est.lo:.3f}-{est.hi:.3f}); service level "
        f"for the rest of the day with the planned agents: Erlang "
        + ("-" if sl is None else f"{sl:.1%}")
        + (
            f", simulated {simulated['service_level']:.1%} ± {simulated['service_level_ci95']:.1%}"
            f" ({simulated['replications']} days from the last hour's state)"
            if simulated and simulated["service_level"] is not None
            else ""
        )
        + ("" if folder is None else f"; wrote {folder}/intraday.csv, intraday.json")
        + ("" if folder is None or no_plots else ", intraday.png")
    )


def _two(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _simulate(rest: Scenario, replications: int, seed: int) -> dict[str, Any]:
    """The rest of the day simulated: its service level (and abandon rate) with 95 % CI
    half-widths, and each interval's mean service level."""
    from callsim.sim import simulate

    result = simulate(rest, replications=replications, seed=seed)
    totals = result.summary["totals"]
    return {
        "replications": replications,
        "seed": seed,
        "warmup_min": rest.horizon.warmup_min,
        "counted": "the rest of the day's calls (not the warm-up's); service level: share "
        "answered within the threshold",
        "service_level": totals["service_level"]["mean"],
        "service_level_ci95": totals["service_level"]["ci95"],
        "abandon_rate": totals["abandon_rate"]["mean"],
        "abandon_rate_ci95": totals["abandon_rate"]["ci95"],
        "intervals": {r.interval_start: r.service_level for r in result.interval_rows},
    }


def _values(r: Row) -> list[Any]:
    return [r.start, r.forecast, r.reforecast, r.lo, r.hi, r.aht_s, r.required.agents,
            r.planned, r.short, r.service_level]  # fmt: skip


def _plot(path: Path, rows: list[Row], summary: dict[str, Any]) -> None:
    from callsim.report.plot import _interval_axis, _pyplot

    plt = _pyplot()
    fig, (top, bottom, sl) = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    x = list(range(len(rows)))
    top.plot(x, [r.forecast for r in rows], "--", color="grey", label="forecast")
    top.plot(x, [r.reforecast for r in rows], color="C0", label="reforecast")
    top.fill_between(x, [r.lo for r in rows], [r.hi for r in rows], color="C0", alpha=0.2,
                     label=f"{summary['ratio']['level']:g} % band")  # fmt: skip
    top.set_ylabel("calls per interval")
    top.legend()
    top.set_title(f"Intraday reforecast from {summary['now']}: ratio "
                  f"{summary['ratio']['estimate']:.3f}")  # fmt: skip
    bottom.step(x, [r.required.agents for r in rows], where="mid", label="required")
    bottom.step(x, [r.planned for r in rows], where="mid", label="planned")
    short = [max(r.short, 0) for r in rows]
    bottom.bar(x, short, color="C3", alpha=0.5, label="short")
    bottom.set_ylabel("agents on the phones")
    bottom.legend()
    nan = float("nan")
    sl.plot(x, [nan if r.service_level is None else r.service_level for r in rows], "o-",
            label="Erlang, planned agents")  # fmt: skip
    simulated = summary.get("simulated")
    if simulated:
        sim = [simulated["intervals"].get(r.start) for r in rows]
        day = f"{simulated['service_level']:.3f} ± {simulated['service_level_ci95']:.3f}"
        sl.plot(x, [nan if v is None else v for v in sim], "s-",
                label=f"simulated from the last hour's state ({simulated['replications']} "
                f"days): day {day}")  # fmt: skip
    sl.axhline(summary["target"]["sl_target"], color="grey", linestyle=":", label="target")
    sl.set_ylabel("service level")
    sl.set_ylim(0, 1.02)
    sl.legend(loc="lower left")
    _interval_axis(sl, [r.start for r in rows])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
