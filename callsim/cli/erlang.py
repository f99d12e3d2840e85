"""``callsim erlang b|c|a`` and ``callsim staff``: closed-form analytics from the terminal."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import typer

from callsim.analytics.erlang import (
    erlang_a,
    erlang_b,
    erlang_b_retrials,
    erlang_c,
    with_forecast_error,
)
from callsim.analytics.forecast import load_forecast, plan_day
from callsim.analytics.staffing import Staffing, Target, required_agents
from callsim.cli.command import DASK, WORKERS, Command, Group, flag
from callsim.cli.console import err, print_table
from callsim.cli.staff import staff_scenario
from callsim.errors import InputError
from callsim.report.files import json_text, run_dir, write_csv, write_json

erlang_app = typer.Typer(
    cls=Group,
    help="Exact Erlang B (loss), C (infinite patience) and A (exponential patience) metrics.",
    no_args_is_help=True,
)

_CALLS = typer.Option(None, "--calls", help="Calls offered per interval (with --interval-min).")
_INTERVAL = typer.Option(30.0, "--interval-min", help="Interval length, minutes.")
_RATE = typer.Option(
    None, "--arrivals-per-hour", help="Arrival rate, calls per hour (instead of --calls)."
)
_AHT = typer.Option(..., "--aht-s", help="Average handling time, seconds.")
_AGENTS = typer.Option(..., "--agents", help="Agents on the phones.")
_THRESHOLD = typer.Option(20.0, "--sl-threshold-s", help="Service-level threshold, seconds.")
_PATIENCE = typer.Option(..., "--patience-s", help="Mean caller patience, seconds (exponential).")
_JSON = flag("--json", "Print JSON on stdout instead of a table.")
# the staffing rule's options, shared by `staff` and `intraday`
MODEL = typer.Option(
    "c", "--model", help="c: Erlang C (no abandonment); a: Erlang A (needs --patience-s)."
)
PATIENCE = typer.Option(None, "--patience-s", help="Mean caller patience, seconds (model a).")
MAX_ABANDON = typer.Option(
    None, "--max-abandon", help="Highest acceptable abandon rate, fraction (model a)."
)
MAX_OCCUPANCY = typer.Option(
    None, "--max-occupancy", help="Highest acceptable occupancy, fraction."
)
_FORECAST_CV = typer.Option(
    None,
    "--forecast-cv",
    help="Day-to-day volume uncertainty: the figures averaged over a volume multiplier of "
    "mean 1 with this coefficient of variation (as Erlang X's forecast variance).",
)
_FORECAST_DIST = typer.Option(
    "gamma", "--forecast-dist", help="The multiplier: gamma, or normal cut at 0."
)


def _positive(**flags: float | None) -> None:
    """Reject flags that must be > 0, naming the flag and the value."""
    for name, value in flags.items():
        if value is not None and not (math.isfinite(value) and value > 0):
            raise InputError(f"--{name.replace('_', '-')}: {value!r} is not a positive number")


def _not_negative(**flags: float | None) -> None:
    """Reject flags that must be >= 0, naming the flag and the value."""
    for name, value in flags.items():
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise InputError(f"--{name.replace('_', '-')}: {value!r} is not a number >= 0")


def _rate_per_s(calls: float | None, interval_min: float, arrivals_per_hour: float | None) -> float:
    if (calls is None) == (arrivals_per_hour is None):
        raise InputError(
            "--calls/--arrivals-per-hour: give exactly one of them "
            "(e.g. --calls 100 --interval-min 30)"
        )
    if arrivals_per_hour is not None:
        return arrivals_per_hour / 3600.0
    assert calls is not None
    return calls / (interval_min * 60.0)


def _show(title: str, result: Any, as_json: bool, hide: tuple[str, ...] = ()) -> None:
    data = {k: v for k, v in dataclasses.asdict(result).items() if k not in hide}
    if as_json:
        typer.echo(json_text(data), nl=False)
        return
    rows = [(k, "-" if v is None else v) for k, v in data.items() if k != "stable"]
    if data.get("stable") is False:
        rows.append(("stable", "no: agents <= traffic, the queue grows without bound"))
    print_table(title, ["metric", "value"], rows)


def _some_agents(agents: int) -> None:
    if agents < 1:
        raise InputError(f"--agents: {agents} is not a whole number >= 1")


@erlang_app.command("b", cls=Command)
def erlang_b_cmd(
    traffic_erl: float = typer.Option(..., "--traffic-erl", help="Offered traffic, Erlangs."),
    agents: int = typer.Option(..., "--agents", help="Lines or agents."),
    retrial_p: float | None = typer.Option(
        None, "--retrial-p", help="Chance a blocked caller tries again (retrials; below 1)."
    ),
    retrial_mean_s: float = typer.Option(
        60.0, "--retrial-mean-s", help="With --retrial-p: mean time to the next try, seconds."
    ),
    aht_s: float | None = typer.Option(
        None, "--aht-s", help="With --retrial-p: average handling time, seconds."
    ),
    as_json: bool = _JSON,
) -> None:
    """Erlang B: share of calls blocked when all lines are busy (no queue); with
    --retrial-p, blocked callers try again (the retrial chain, solved exactly)."""
    _not_negative(traffic_erl=traffic_erl)
    _some_agents(agents)
    if retrial_p is None:
        _show("Erlang B", erlang_b(traffic_erl, agents), as_json)
        return
    if aht_s is None:
        raise InputError("--aht-s: needed with --retrial-p (the retrial delay is in seconds)")
    _positive(aht_s=aht_s, retrial_mean_s=retrial_mean_s, traffic_erl=traffic_erl)
    if not 0 <= retrial_p < 1:
        raise InputError(f"--retrial-p: {retrial_p!r} is not within [0, 1)")
    result = erlang_b_retrials(traffic_erl / aht_s, aht_s, agents, retrial_p, retrial_mean_s)
    _show(f"Erlang B with retrials (p {retrial_p:g}, {retrial_mean_s:g} s)", result, as_json)


@erlang_app.command("c", cls=Command)
def erlang_c_cmd(
    aht_s: float = _AHT,
    agents: int = _AGENTS,
    calls: float | None = _CALLS,
    interval_min: float = _INTERVAL,
    arrivals_per_hour: float | None = _RATE,
    sl_threshold_s: float = _THRESHOLD,
    forecast_cv: float | None = _FORECAST_CV,
    forecast_dist: str = _FORECAST_DIST,
    as_json: bool = _JSON,
) -> None:
    """Erlang C (M/M/n): callers wait forever. P(wait), service level, ASA, occupancy."""
    _positive(aht_s=aht_s, interval_min=interval_min)
    _some_agents(agents)
    _not_negative(
        calls=calls,
        arrivals_per_hour=arrivals_per_hour,
        sl_threshold_s=sl_threshold_s,
    )
    rate = _rate_per_s(calls, interval_min, arrivals_per_hour)
    if forecast_cv is not None:
        result = with_forecast_error(lambda r: erlang_c(r, aht_s, agents, sl_threshold_s),
                                     rate, forecast_cv, forecast_dist)  # fmt: skip
        _show(f"Erlang C, volume cv {forecast_cv:g} ({forecast_dist})", result, as_json)
        return
    _show("Erlang C", erlang_c(rate, aht_s, agents, sl_threshold_s), as_json)


@erlang_app.command("a", cls=Command)
def erlang_a_cmd(
    aht_s: float = _AHT,
    agents: int = _AGENTS,
    patience_s: float = _PATIENCE,
    calls: float | None = _CALLS,
    interval_min: float = _INTERVAL,
    arrivals_per_hour: float | None = _RATE,
    sl_threshold_s: float = _THRESHOLD,
    forecast_cv: float | None = _FORECAST_CV,
    forecast_dist: str = _FORECAST_DIST,
    queue_limit: int | None = typer.Option(
        None, "--queue-limit", help="Places in the queue; a caller finding them full is blocked."
    ),
    as_json: bool = _JSON,
) -> None:
    """Erlang A (M/M/n+M): callers abandon after an exponential patience; with
    --queue-limit K, callers who find K waiting are blocked (p_block)."""
    _positive(aht_s=aht_s, interval_min=interval_min, patience_s=patience_s)
    _some_agents(agents)
    _not_negative(
        calls=calls,
        arrivals_per_hour=arrivals_per_hour,
        sl_threshold_s=sl_threshold_s,
    )
    rate = _rate_per_s(calls, interval_min, arrivals_per_hour)
    if queue_limit is not None and queue_limit < 0:
        raise InputError(f"--queue-limit: {queue_limit} is not a whole number >= 0")
    if forecast_cv is not None:
        result = with_forecast_error(
            lambda r: erlang_a(r, aht_s, patience_s, agents, sl_threshold_s, queue_limit), rate,
            forecast_cv, forecast_dist,
        )  # fmt: skip
        _show(f"Erlang A, volume cv {forecast_cv:g} ({forecast_dist})", result, as_json)
        return
    exact = erlang_a(rate, aht_s, patience_s, agents, sl_threshold_s, queue_limit)
    if queue_limit is None:
        _show("Erlang A", exact, as_json, hide=("p_block",))
    else:
        _show(f"Erlang A, {queue_limit} places in the queue", exact, as_json)


_PLAN_COLUMNS = [
    "interval_start", "calls", "aht_s", "traffic_erl", "agents", "agents_fractional",
    "agents_scheduled", "service_level", "p_wait", "asa_s", "occupancy", "p_abandon",
]  # fmt: skip


def _staffing_dict(s: Staffing) -> dict[str, Any]:
    data = dataclasses.asdict(s)
    if s.p_abandon is None:
        del data["p_abandon"]
    return data


def staff(
    scenario: Path | None = typer.Argument(
        None,
        help="Scenario file (YAML): plan its day per interval and agent profile (Erlang; "
        "with --simulate, corrected by simulating its routing).",
    ),
    sl_target: float | None = typer.Option(
        None,
        "--sl-target",
        "--target-sl",
        help="Service-level target, a fraction in (0, 1) (default: the scenario's, or 0.8).",
    ),
    sl_threshold_s: float | None = typer.Option(
        None,
        "--sl-threshold-s",
        help="Service-level threshold, seconds (default: the scenario's, or 20).",
    ),
    aht_s: float | None = typer.Option(
        None, "--aht-s", help="Average handling time, seconds (not with --forecast)."
    ),
    calls: float | None = _CALLS,
    interval_min: float = _INTERVAL,
    arrivals_per_hour: float | None = _RATE,
    model: str = MODEL,
    patience_s: float | None = PATIENCE,
    max_abandon: float | None = MAX_ABANDON,
    max_occupancy: float | None = MAX_OCCUPANCY,
    shrinkage: float = typer.Option(
        0.0, "--shrinkage", help="Share of paid time off the phones, fraction in [0, 1)."
    ),
    forecast: Path | None = typer.Option(
        None,
        "--forecast",
        help="CSV with interval_start, calls, aht_s[, patience_s]: plan a whole day; or "
        "the folder `callsim forecast` wrote: plan each of its days (day-YYYY-MM-DD.csv), "
        "one plan.csv each in --out/day-YYYY-MM-DD/, for `callsim roster`.",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Directory for plan.csv, plan.json and plan.png (default results/staff-<time>/; "
        "with --json none unless given).",
    ),
    no_plots: bool = flag("--no-plots", "Do not draw the PNG plot."),
    as_json: bool = _JSON,
    simulate: bool = flag(
        "--simulate",
        "With a scenario: correct the Erlang plan by simulating the scenario's routing "
        "until every interval and queue surely meets the targets (its 95 % CI above them) "
        "with the fewest agents; the plan is measured again on fresh days.",
    ),
    confidence: float | None = typer.Option(
        None,
        "--confidence",
        help="With --simulate: the targets must hold on this share of simulated days "
        "(e.g. 0.9; the share's 95 % interval above it), not only on average.",
    ),
    replications: int = typer.Option(
        20,
        "--replications",
        "-n",
        help="With --simulate: simulated days per round (more, up to 8x, where a cell is "
        "not sure).",
    ),
    seed: int = typer.Option(1, "--seed", help="With --simulate: seed of every random stream."),
    workers: int | None = WORKERS,
    dask: str | None = DASK,
    shifts: Path | None = typer.Option(
        None,
        "--shifts",
        help="Shift rules (YAML: start times, lengths, breaks): also turn the plan into "
        "shifts with the fewest paid hours, written as a scenario.",
    ),
    cheapest: bool = flag(
        "--cheapest",
        "With --simulate and the scenario's costs: also simulate the plan scaled from 0.8 "
        "to 1.2 on the same days and name the staffing of least total cost a day.",
    ),
    quiet: bool = flag("--quiet", "No progress bar and no tables."),
) -> None:
    """Fewest agents meeting a service-level target (and optional abandon/occupancy caps).

    One interval: --calls (or --arrivals-per-hour) and --aht-s.
    A whole day: --forecast CSV; every day `callsim forecast` wrote: --forecast FOLDER.
    A scenario's day per interval and agent profile: SCENARIO (--simulate: its routing).
    """
    if scenario is not None:
        staff_scenario(
            scenario, sl_target=sl_target, sl_threshold_s=sl_threshold_s,
            max_abandon=max_abandon, max_occupancy=max_occupancy, shrinkage=shrinkage,
            simulate=simulate, confidence=confidence, replications=replications, seed=seed,
            workers=workers, dask=dask, shifts=shifts, out=out, plots=not no_plots,
            as_json=as_json, quiet=quiet, cheapest=cheapest,
        )  # fmt: skip
        return
    needs_scenario = {"--simulate": simulate, "--confidence": confidence is not None,
                      "--shifts": shifts is not None, "--dask": dask is not None,
                      "--cheapest": cheapest}  # fmt: skip
    for name, given in needs_scenario.items():
        if given:
            raise InputError(f"{name}: needs a SCENARIO")
    sl_target = 0.8 if sl_target is None else sl_target
    sl_threshold_s = 20.0 if sl_threshold_s is None else sl_threshold_s
    _positive(aht_s=aht_s, interval_min=interval_min, patience_s=patience_s)
    _not_negative(calls=calls, arrivals_per_hour=arrivals_per_hour, sl_threshold_s=sl_threshold_s)
    target = Target(sl_target, sl_threshold_s, max_abandon, max_occupancy, shrinkage)
    target.check()
    if model not in ("c", "a"):
        raise InputError(f"--model: {model!r} is not one of c, a")
    if forecast is not None and forecast.is_dir():
        _staff_days(forecast, interval_min, target, model, patience_s, out, as_json)
        return
    if forecast is not None:
        _staff_day(forecast, interval_min, target, model, patience_s, out, no_plots, as_json)
        return
    if aht_s is None:
        raise InputError("--aht-s: missing (or give --forecast FILE)")
    if model == "a" and patience_s is None:
        raise InputError("--patience-s: model a (Erlang A) needs the mean patience")
    rate = _rate_per_s(calls, interval_min, arrivals_per_hour)
    result = required_agents(rate, aht_s, target, model=model, patience_s=patience_s)
    data = _staffing_dict(result)
    if as_json:
        typer.echo(json_text(data), nl=False)
    else:
        print_table(
            "Staffing", ["metric", "value"], [(k, "-" if v is None else v) for k, v in data.items()]
        )


STAFF_FILES = ("plan.csv", "plan.json", "plan.png")


def forecast_day(forecast: Path, model: str, patience_s: float | None) -> list[Any]:
    """A forecast CSV's intervals, refused for Erlang A when neither the file nor
    --patience-s gives the patience."""
    intervals = load_forecast(forecast)
    if model == "a" and patience_s is None and any(iv.patience_s is None for iv in intervals):
        raise InputError(f"{forecast}: model a needs a patience_s column or --patience-s")
    return intervals


def _day_plan(
    forecast: Path, interval_min: float, target: Target, model: str, patience_s: float | None
) -> tuple[list[Any], list[list[Any]], dict[str, Any]]:
    """A forecast day's plan: its intervals' staffing, plan.csv's rows and plan.json."""
    intervals = forecast_day(forecast, model, patience_s)
    plan = plan_day(intervals, interval_min, target, model=model, patience_s=patience_s)
    rows = [
        [
            p.interval.start, p.interval.calls, p.interval.aht_s, p.staffing.traffic_erl,
            p.staffing.agents, p.staffing.agents_fractional, p.staffing.agents_scheduled,
            p.staffing.service_level, p.staffing.p_wait, p.staffing.asa_s, p.staffing.occupancy,
            p.staffing.p_abandon,
        ]
        for p in plan
    ]  # fmt: skip
    return (
        plan,
        rows,
        {
            "forecast": str(forecast),
            "model": model,
            "interval_min": interval_min,
            "target": dataclasses.asdict(target),
            "total_agent_hours": sum(p.staffing.agents for p in plan) * interval_min / 60.0,
            "total_scheduled_hours": sum(p.staffing.agents_scheduled for p in plan)
            * interval_min
            / 60.0,
            "intervals": [dict(zip(_PLAN_COLUMNS, r, strict=True)) for r in rows],
        },
    )


def _staff_day(
    forecast: Path,
    interval_min: float,
    target: Target,
    model: str,
    patience_s: float | None,
    out: Path | None,
    no_plots: bool,
    as_json: bool,
) -> None:
    plan, rows, summary = _day_plan(forecast, interval_min, target, model, patience_s)
    # --json alone prints and writes nothing, as `callsim run` does
    folder = run_dir(out, "staff", STAFF_FILES) if out is not None or not as_json else None
    if folder is not None:
        write_csv(folder / "plan.csv", _PLAN_COLUMNS, rows)
        write_json(folder / "plan.json", summary)
    if folder is not None and not no_plots:
        from callsim.report.plot import plot_staffing_day

        plot_staffing_day(
            folder / "plan.png",
            [p.interval.start for p in plan],
            [p.staffing.agents for p in plan],
            [p.staffing.agents_scheduled for p in plan],
            [p.staffing.service_level for p in plan],
            target.sl_target,
            f"Staffing plan: {forecast.name} (Erlang {model.upper()}, "
            f"{target.sl_target:.0%} in {target.sl_threshold_s:g} s)",
        )
    if as_json:
        typer.echo(json_text(summary), nl=False)
    else:
        shown = [r[:1] + r[1:2] + r[4:5] + r[6:8] + r[9:11] + r[11:12] for r in rows]
        cols = [
            "interval",
            "calls",
            "agents",
            "scheduled",
            "service_level",
            "asa_s",
            "occupancy",
            "p_abandon",
        ]
        print_table(
            f"Staffing plan ({forecast.name})",
            cols,
            [["-" if v is None else v for v in r] for r in shown],
        )
        err.print(
            f"Agent-hours on phones: {summary['total_agent_hours']:.1f}; "
            f"wrote {folder}/plan.csv, plan.json" + ("" if no_plots else ", plan.png")
        )


def _staff_days(
    folder: Path,
    interval_min: float,
    target: Target,
    model: str,
    patience_s: float | None,
    out: Path | None,
    as_json: bool,
) -> None:
    """Each day file of `callsim forecast`'s folder planned as ``_staff_day`` plans one,
    into ``out/day-YYYY-MM-DD/plan.csv`` (the dated plans `callsim roster` reads)."""
    days = sorted(folder.glob("day-????-??-??.csv"))
    if not days:
        raise InputError(
            f"--forecast: {folder} holds no day-YYYY-MM-DD.csv (expected a forecast CSV, or "
            "the folder `callsim forecast` wrote)"
        )
    target_dir = run_dir(out, "staff", ())
    table, docs = [], []
    for path in days:
        plan, rows, summary = _day_plan(path, interval_min, target, model, patience_s)
        where = target_dir / path.stem
        where.mkdir(exist_ok=True)
        write_csv(where / "plan.csv", _PLAN_COLUMNS, rows)
        write_json(where / "plan.json", summary)
        docs.append({"day": path.stem[4:], "plan": str(where / "plan.csv"),
                     "total_agent_hours": summary["total_agent_hours"],
                     "total_scheduled_hours": summary["total_scheduled_hours"]})  # fmt: skip
        levels = [p.staffing.service_level for p in plan]
        table.append([path.stem[4:], round(sum(p.interval.calls for p in plan)), len(plan),
                      max((p.staffing.agents for p in plan), default=0),
                      round(summary["total_agent_hours"], 1),
                      round(summary["total_scheduled_hours"], 1),
                      round(min(levels), 3) if levels else "-"])  # fmt: skip
    doc = {"forecast": str(folder), "model": model, "target": dataclasses.asdict(target),
           "days": docs}  # fmt: skip
    write_json(target_dir / "plans.json", doc)
    if as_json:
        typer.echo(json_text(doc), nl=False)
        return
    print_table(
        f"Staffing plans ({folder}, Erlang {model.upper()}, {target.sl_target:.0%} in "
        f"{target.sl_threshold_s:g} s)",
        ["date", "calls", "intervals", "peak", "agent_h", "scheduled_h", "min_sl"],
        table,
    )
    err.print(
        f"wrote {len(days)} plans ({target_dir}/day-*/plan.csv, for `callsim roster "
        f"--requirement {target_dir}`) and plans.json"
    )
