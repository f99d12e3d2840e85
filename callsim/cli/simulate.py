"""``callsim run``, ``callsim validate`` and ``callsim schema``: scenarios from the terminal."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import fields as dataclass_fields
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import Any

import typer

from callsim.analytics.channels import (
    CHANNEL_COLUMNS,
    ChannelResults,
    channel_document,
    channel_rows,
)
from callsim.analytics.kpi import INTERVAL_COLUMNS, IntervalRow
from callsim.analytics.precision import CAP, FLOOR, MIN_REPLICATIONS, Look, parse_precision
from callsim.analytics.summary import (
    AGENT_COLUMNS,
    Estimate,
    WaitPercentile,
    WaitPercentiles,
    document,
)
from callsim.cli.command import DASK, SEED, WORKERS, flag
from callsim.cli.console import err, print_table, progress
from callsim.core import Channel
from callsim.report.files import (
    json_text,
    run_dir,
    write_csv,
    write_json,
    write_json_lines,
    write_lines,
)
from callsim.scenario import Scenario, load_scenario
from callsim.sim import DEFAULT_REPLICATIONS, METRICS, SimulationResult, simulate
from callsim.sim.check import Level, Problem, check_scenario, refuse_errors
from callsim.sim.execute import executor
from callsim.sim.run import trace_replication

# --precision and its cap, for every command that simulates to a precision
PRECISION = typer.Option(
    None,
    "--precision",
    help="Add simulated days in batches until every headline figure's 95 % CI half-width "
    f"is within this bound: '5%' (of each figure's mean; never below {FLOOR['service_level']:g} "
    f"of a share or {FLOOR['asa_s']:g} s of ASA) or '0.01' (absolute, on the shares). "
    "Headline figures: service level, abandonment, ASA, occupancy of all queues.",
)
MAX_REPLICATIONS = typer.Option(
    CAP, "--max-replications", help="With --precision: the most simulated days (the cap)."
)
CONTROL_VARIATES = flag(
    "--control-variates",
    "Estimate the headline figures with control variates: each day's drawn calls and "
    "offered work, whose means the scenario gives exactly (a busier day than average "
    "corrects its figures; a sweep's paired differences too); the results say how much "
    "each CI narrowed. --precision then stops on those CIs.",
)
ANTITHETIC = flag(
    "--antithetic",
    "Run the days in antithetic pairs: the second day of a pair draws its calls, talk, "
    "patience and wrap-up times with 1-U where the first drew U, and the pair's mean is "
    "the unit of the CIs (an even number of days); the results say how much each CI "
    "narrowed. With --control-variates, both.",
)


def run(
    scenario: Path = typer.Argument(..., help="Scenario file (YAML)."),
    replications: int | None = typer.Option(
        None,
        "--replications",
        "-n",
        help=f"Independent simulated days (default {DEFAULT_REPLICATIONS}); with "
        f"--precision, the first batch (the least days; default {MIN_REPLICATIONS}).",
        show_default=False,
    ),
    precision: str | None = PRECISION,
    max_replications: int = MAX_REPLICATIONS,
    control_variates: bool = CONTROL_VARIATES,
    antithetic: bool = ANTITHETIC,
    seed: int = SEED,
    workers: int | None = WORKERS,
    dask: str | None = DASK,
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Result folder (default results/<name>-<time>/; with --json none unless "
        "given); a previous run's files in it are replaced.",
    ),
    as_json: bool = flag("--json", "Print summary.json on stdout instead of tables."),
    no_plots: bool = flag("--no-plots", "Do not draw PNG plots."),
    quiet: bool = flag("--quiet", "No progress bar and no tables."),
    strict: bool = flag("--strict", "Treat warnings as errors."),
    trace: bool = flag(
        "--trace", "Write trace.jsonl: why each offer of replication 0 went to its agent."
    ),
    queue_log: bool = flag(
        "--queue-log", "Write queue_log: replication 0 as Asterisk queue_log lines."
    ),
) -> None:
    """Simulate a scenario: service level, waits, abandonment and occupancy with 95 % CIs
    (and per channel when it has chat or email queues: docs/channels.md)."""
    bound = None if precision is None else parse_precision(precision)
    n = replications or (DEFAULT_REPLICATIONS if bound is None else MIN_REPLICATIONS)
    sc = load_scenario(scenario)
    report_problems(scenario, sc, strict=strict)
    # --json alone prints and writes nothing; a folder is made before the work starts
    folder = run_dir(out, sc.name, RUN_FILES) if out is not None or not as_json else None
    with (
        executor(
            min(workers or os.cpu_count() or 1, max(1, n if bound is None else max_replications)),
            dask,
        ) as ex,
        progress(f"simulating {sc.name} on {ex.name}", n, enabled=not quiet) as bar,
    ):
        task = bar.task_ids[0]
        label = f"simulating {sc.name} to {precision}{' in pairs' * antithetic} on {ex.name}"
        result = simulate(
            sc,
            replications=n,
            seed=seed,
            progress=lambda k: bar.advance(task, k),
            run_on=ex,
            precision=bound,
            max_replications=max_replications,
            on_look=lambda seen, total: bar.update(
                task, description=look_line(label, seen), total=total or seen.replications
            ),
            control_variates=control_variates,
            antithetic=antithetic,
        )
    written = write_results(folder, sc, result, plots=not no_plots) if folder else []
    channels = result.channels
    if folder and channels is not None:
        written.append(write_json(folder / "channels.json", channel_document(channels)))
        if not no_plots and any(c.channel is Channel.EMAIL for c in channels.channels):
            from callsim.report.plot import plot_email_backlog  # matplotlib: when drawn

            png = folder / "email_backlog.png"
            written.append(plot_email_backlog(png, result.labels, channels, title=sc.name))
    if folder and (trace or queue_log):
        core = trace_replication(sc, seed)
        if trace:
            written.append(write_json_lines(folder / "trace.jsonl", core.decisions))
        if queue_log:
            written.append(write_lines(folder / "queue_log", core.queue_log))
    if as_json:
        extra = {"channels": channel_document(channels)} if channels is not None else {}
        typer.echo(json_text(result.summary | extra), nl=False)
        return
    if not quiet:
        show(result)
        if channels is not None:
            show_channels(channels, result.labels)
        if bound is not None:
            assert result.stats.stopping_rule is not None
            err.print(stopped(result.stats.stopping_rule))
        err.print(f"Wrote {', '.join(p.name for p in written)} to {folder}")


def look_line(label: str, seen: Look) -> str:
    """The progress bar's words after a look: the widest figure's half-width against its
    bound (the bar's total: the days the next batch brings the run to)."""
    return f"{label}: widest {seen.widest} ±{seen.ci95:.4g} (bound ±{seen.allowed:.4g})"


def stopped(rule: Mapping[str, Any], what: str = "every headline figure") -> str:
    """One line: how a run to a precision ended."""
    w = rule["widest"]
    how = (
        f"{what} within ±{rule['precision']}"
        if rule["within_bound"]
        else f"CAP HIT at {rule['max_replications']:,} replications, not within "
        f"±{rule['precision']}"
    )
    how += f" by {rule['estimator']}" if rule.get("estimator") else ""
    return (
        f"Stopped after {rule['replications']:,} replications in {len(rule['batches'])} "
        f"batches ({', '.join(map(str, rule['batches']))}): {how} "
        f"({', '.join(rule['figures'])}, all queues; widest {w['figure']} "
        f"±{w['ci95']:.4g}, bound ±{w['allowed']:.4g})"
    )


RUN_FILES = (
    "summary.json", "intervals.csv", "agents.csv", "clients.csv",
    "service_level.png", "occupancy.png", "waits.png", "trace.jsonl", "queue_log",
    "channels.json", "email_backlog.png",
)  # fmt: skip


def show_channels(channels: ChannelResults, labels: list[str]) -> None:
    """The per-channel table and the email backlog at the end of each interval."""
    print_table(
        f"Per channel, {channels.replications} days (SL/due: of offered, answered within "
        "sl_threshold_s; email: due_h)",
        CHANNEL_COLUMNS,
        channel_rows(channels),
    )
    if any(c.channel is Channel.EMAIL for c in channels.channels):
        rows = [
            [label, "-" if e.mean is None else f"{e.mean:.1f}"]
            for label, e in zip(labels, channels.backlog, strict=False)
        ]
        print_table("Email backlog: unanswered at the interval's end", ["from", "emails"], rows)


def write_results(
    folder: Path, sc: Scenario, result: SimulationResult, *, plots: bool
) -> list[Path]:
    summary = result.summary | {"written": datetime.now().isoformat(timespec="seconds")}
    files = [write_json(folder / "summary.json", summary)]
    files.append(
        write_csv(
            folder / "intervals.csv", INTERVAL_COLUMNS, [r.values() for r in result.interval_rows]
        )
    )
    files.append(
        write_csv(folder / "agents.csv", AGENT_COLUMNS, [r.values() for r in result.agent_rows])
    )
    clients = document(result.stats.clients)  # rows of the JSON's names
    if clients:
        fields = list(next(iter(clients.values())))
        per_client = [[name, *(v[f] for f in fields)] for name, v in clients.items()]
        files.append(write_csv(folder / "clients.csv", ["client", *fields], per_client))
    if plots:
        from callsim.report.plot import plot_day, plot_waits

        sl = {
            "service level": _by_interval(result, "service_level"),
            "abandon rate": _by_interval(result, "abandon_rate"),
        }
        threshold = sc.service_level.sl_threshold_s
        files.append(
            plot_day(folder / "service_level.png", result.labels, sl,
                     title=f"{sc.name}: service level ({threshold:g} s) and abandonment",
                     ylabel="share of offered calls", target=sc.service_level.sl_target)
        )  # fmt: skip
        files.append(
            plot_day(folder / "occupancy.png", result.labels,
                     {"occupancy": _by_interval(result, "occupancy")},
                     title=f"{sc.name}: agent occupancy", ylabel="occupancy")
        )  # fmt: skip
        files.append(
            plot_waits(folder / "waits.png", result.wait_bins.tolist(), result.wait_hist.tolist(),
                       sc.service_level.sl_threshold_s, f"{sc.name}: waits of answered calls")
        )  # fmt: skip
    return files


# each plotted ratio: its mean and CI half-width in a row, and what weighs the queues
_SERIES: dict[str, tuple[Callable[[IntervalRow], float | None], ...]] = {
    "service_level": (
        attrgetter("service_level"), attrgetter("service_level_ci95"), attrgetter("offered")
    ),
    "abandon_rate": (
        attrgetter("abandon_rate"), attrgetter("abandon_rate_ci95"), attrgetter("offered")
    ),
    "occupancy": (
        attrgetter("occupancy"), attrgetter("occupancy_ci95"), attrgetter("agents_staffed")
    ),
}  # fmt: skip


def _by_interval(result: SimulationResult, metric: str) -> tuple[list[Any], list[Any]]:
    """A per-interval series of ``metric`` (means and CI half-widths): of the first queue
    when there is one, else weighted by offered calls (occupancy: by agents staffed)."""
    value, ci95, weigh = _SERIES[metric]
    per_interval = len(result.interval_rows) // max(1, len(result.labels))  # one row a queue
    means: list[Any] = []
    halves: list[Any] = []
    for i in range(len(result.labels)):
        rows = result.interval_rows[i * per_interval : (i + 1) * per_interval]
        weight = [weigh(r) or 0.0 for r in rows]
        total = sum(weight)
        if not total:  # no calls (or nobody staffed): a gap, not a zero
            means.append(math.nan)
            halves.append(math.nan)
            continue
        means.append(sum((value(r) or 0.0) * w for r, w in zip(rows, weight, strict=True)) / total)
        halves.append(sum((ci95(r) or 0.0) * w for r, w in zip(rows, weight, strict=True)) / total)
    return means, halves


def show(result: SimulationResult) -> None:
    s = result.stats
    names = list(s.queues) if len(s.queues) > 1 else []
    queues = [s.queues[q] for q in names]
    rows = [
        [m, _pm(getattr(s.totals, m)), *(_pm(getattr(q.kpis, m)) for q in queues)] for m in METRICS
    ]
    blank = [""] * len(queues)  # all queues only
    defs = s.service_level_definitions
    rows += [
        ["SL of answered calls", _pm(defs.of_answered), *blank],
        ["SL of all offered (short abandons too)", _pm(defs.of_all_offered), *blank],
    ]
    if s.callbacks is not None:  # beside the service level, which counts no callback
        shares = [s.callbacks.each, *(q.callbacks for q in queues)]
        at = METRICS.index("service_level") + 1
        rows[at:at] = [
            [label, *("-" if c is None else _pm(getattr(c.of_callers, key)) for c in shares)]
            for label, key in (
                ("took a callback (not in SL), of callers", "accepted"),
                ("  callback answered, of callers", "connected"),
                ("  callback failed, of callers", "failed"),
            )
        ]
    waits = [s.wait_percentiles_s, *(q.wait_percentiles_s for q in queues)]
    percentiles = [f.name for f in dataclass_fields(WaitPercentiles)]
    rows += [[f"wait {p}, answered, s: mean of reps", *(_pm(getattr(w, p)) for w in waits)]
             for p in percentiles]  # fmt: skip
    rows.append(
        ["wait p50/80/90/95, all reps pooled, s",
         *(" / ".join("-" if v is None else f"{v:.4g}"
                      for v in (getattr(w, p).pooled for p in percentiles))
           for w in waits)]
    )  # fmt: skip
    if bb := s.busy_and_balking:
        rows += [
            ["heard busy (lines or queue full)", _pm(bb.busy_share), *blank],
            ["balked, calls a day", f"{bb.balked:.1f}", *blank],
        ]
    print_table(
        f"{s.scenario}: {s.replications} replications, seed {s.seed}; mean ± 95 % CI half-width",
        ["metric", "all queues", *names],
        rows,
    )
    if vr := s.variance_reduction:
        print_table(
            f"{vr.method.capitalize()}: plain and improved (the totals); variance ratio",
            ["metric", "plain", "controlled", "variance ratio"],
            [[m, _pm(f.plain), _pm(getattr(s.totals, m)),
              "-" if f.variance_ratio is None else f"{f.variance_ratio:.2f}"]
             for m, f in vr.figures.items()],
        )  # fmt: skip
    if s.days:
        print_table(
            "Day by day (connected days), means a day; carried: from the day before",
            ["day", "offered", "abandoned", "SL", "abandon", "carried"],
            [[d.day, f"{d.offered:.0f}", f"{d.abandoned:.0f}",
              _pm(d.service_level, 3), _pm(d.abandon_rate, 3),
              f"{d.from_day_before:.1f}"]
             for d in s.days],
        )  # fmt: skip
    if s.costs:
        c = s.costs
        labels = {
            "wages": "wages", "abandon_cost": "abandoned calls", "waiting_cost": "waiting",
            "total_cost": "total cost", "revenue": "revenue", "margin": "margin",
            "cost_per_answered_call": "cost per answered call",
            "wages_per_handled_minute": "wages per handled minute",
        }  # fmt: skip
        print_table(f"Costs per simulated day ({c['currency']}), mean ± 95 % CI",
                    ["figure", "value"], [[label, _pm(c["per_day"][k])]
                                          for k, label in labels.items()])  # fmt: skip
    if s.clients:
        short = {
            "calls": "calls", "answered": "answered", "abandoned": "abandoned",
            "service_level": "SL", "asa_s": "ASA s", "note": "notes",
            "forwarded_target_1": "fwd 1", "forwarded_target_2": "fwd 2",
            "forward_failed": "fwd failed", "blocked": "blocked", "deflected": "deflected",
            "off_hours": "off hours",
        }  # fmt: skip
        per_client = [
            [name, *("-" if v[f] is None else round(v[f], 3 if f == "service_level" else 1)
                     for f in short)]
            for name, v in document(s.clients).items()  # the JSON's columns, by name
        ]  # fmt: skip
        print_table("Clients: mean per simulated day", ["client", *short.values()], per_client)
    err.print(
        f"{s.calls_simulated:,} calls simulated in {s.wall_time_s:.1f} s "
        f"({s.calls_per_s or 0:,} calls/s, "
        f"{'compiled' if s.core_compiled else 'pure-Python'} core); "
        f"scenario hash {s.scenario_hash}"
    )


def _pm(v: Estimate | WaitPercentile | Mapping[str, Any], digits: int = 4) -> str:
    mean, half = (v["mean"], v["ci95"]) if isinstance(v, Mapping) else (v.mean, v.ci95)
    if mean is None:
        return "-"
    fmt = ".0f" if abs(mean) >= 100 else f".{digits}f" if abs(mean) < 1 else ".2f"
    return f"{mean:{fmt}}" + ("" if half is None else f" ± {half:{fmt}}")


def report_problems(path: Path, sc: Scenario, *, strict: bool) -> None:
    """The semantic check: warnings on stderr (errors with ``strict``), errors raised."""
    found = check_scenario(sc)
    if strict:
        found = [Problem(Level.ERROR, p.field, p.message) for p in found]
    for p in found:
        if p.level is Level.WARNING:
            err.print(f"Warning: {path}: {p}", markup=False, highlight=False)
    refuse_errors(found, f"{path}: ")


def validate(
    scenario: Path = typer.Argument(..., help="Scenario file (YAML)."),
    strict: bool = flag("--strict", "Treat warnings as errors."),
) -> None:
    """Check a scenario file: every problem one line on stderr (warnings too), or 'ok'."""
    sc = load_scenario(scenario)
    report_problems(scenario, sc, strict=strict)
    agents = sum(g.count for g in sc.agents)
    written = sc.written()  # with sites: as written, not one queue per site
    queues, calls = len(written["queues"]), len(written.get("calls", ()))
    typer.echo(f"{scenario}: ok ({queues} queues, {calls} call streams, {agents} agents)")


def schema() -> None:
    """Print the JSON Schema of scenario files (every field with description and unit)."""
    typer.echo(json.dumps(scenario_schema(), indent=2))


def scenario_schema() -> dict[str, Any]:
    return Scenario.model_json_schema()
