"""``callsim calibrate LOG`` and ``callsim compare LOG SCENARIO``: a scenario from a real
centre's call log, and its predictions of logged days against what happened."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from callsim.analytics.precision import parse_precision
from callsim.calibrate.build import (
    CHOICES,
    FACTOR_STEPS,
    STANDBY_AFTER_S,
    WRAP_UP_MAX_S,
    Calibration,
    Model,
    calibrate,
    day_types,
    priority_shares,
    tune_factor,
    wrap_up_values,
)
from callsim.calibrate.compare import COMPARED, compare
from callsim.calibrate.fit import Frame, day_type, observe, select_days
from callsim.calibrate.log import FORMATS, CallLog, read_log
from callsim.cli.command import DASK, SEED, WORKERS, flag
from callsim.cli.console import err, print_table, progress
from callsim.cli.simulate import MAX_REPLICATIONS, PRECISION, look_line, stopped
from callsim.errors import InputError
from callsim.report.files import json_text, run_dir, write_csv, write_json
from callsim.scenario import load_scenario
from callsim.scenario.shifts import scenario_yaml
from callsim.sim.execute import executor

FORMAT = typer.Option(
    "anonymous-bank",
    "--format",
    help=f"Log format: {', '.join(FORMATS)} (Asterisk's queue log, as callsim run --queue-log "
    "writes it).",
)
TIME_ZONE = typer.Option(
    "UTC", "--time-zone", help="The centre's time zone, for a queue_log's Unix times."
)
DAYS = typer.Option(
    "weekdays",
    "--days",
    help="Days of the log: weekdays (Sunday-Thursday), friday, saturday, all, or dates and "
    "ranges (1999-10-03,1999-10-05..1999-10-07).",
)
REPLICATIONS = typer.Option(20, "--replications", "-n", help="Simulated days per logged day.")
WITHOUT = typer.Option(
    None,
    "--without",
    help="Modelling choices left out (the ablation), comma-separated: "
    f"{', '.join(CHOICES)}. Give calibrate and compare the same.",
)
CALIBRATE_FILES = (
    "calibration.json",
    "arrivals.png",
    "talk.png",
    "patience.png",
    "arrivals.csv",
    "talk.csv",
)
FIFO_SHOWN = 4  # first-come days named in the fit report (every one in calibration.json)
COMPARE_FILES = ("compare.json", "days.csv", "intervals.csv", "days.png", "intervals.png")


def _hours(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)", text.strip())
    if not m:
        raise InputError(f"--hours: {text!r} is not HH:MM-HH:MM (e.g. 07:00-24:00)")
    a = int(m.group(1)) * 60 + int(m.group(2))
    b = int(m.group(3)) * 60 + int(m.group(4))
    if b <= a or b > 1440:
        raise InputError(f"--hours: {text!r} must end after it starts, by 24:00")
    return a, b


def _summary_of_log(log: CallLog) -> None:
    dropped = (
        ", ".join(
            f"{n:,} {reason} (e.g. line {log.examples[reason][0]})"
            for reason, n in log.dropped.most_common()
        )
        or "none"
    )
    repaired = ", ".join(f"{n:,} {what}" for what, n in log.repaired.most_common()) or "none"
    missing = ", ".join(d.isoformat() for d in log.missing_days()) or "none"
    err.print(
        f"{log.source}: {log.rows:,} rows, {len(log.calls):,} calls kept; dropped: "
        f"{dropped}; repaired: {repaired}; days missing: {missing}",
        markup=False,
    )


def calibrate_cmd(
    log_path: Path = typer.Argument(..., help="Per-call log (.gz read directly)."),
    out: Path = typer.Option(..., "--out", help="The scenario file to write (YAML)."),
    fmt: str = FORMAT,
    time_zone: str = TIME_ZONE,
    days: str = DAYS,
    interval_min: int = typer.Option(30, "--interval-min", help="Interval length, minutes."),
    hours: str = typer.Option("07:00-24:00", "--hours", help="The modelled day, HH:MM-HH:MM."),
    sl_threshold_s: float = typer.Option(
        20.0, "--sl-threshold-s", help="Service-level threshold, seconds."
    ),
    talk: str = typer.Option(
        "lognormal", "--talk", help="Talk times: lognormal (fitted) or empirical (quantiles)."
    ),
    replications: int = REPLICATIONS,
    without: str | None = WITHOUT,
    standby: bool = flag(
        "--standby",
        "Split the agents at work into ready and standby agents, who take a call once it "
        f"has waited {STANDBY_AFTER_S:.0f} s, fitted to the log's service level; a "
        "replayed day's ready agents follow how much its agents sat out while calls waited "
        "(see docs/calibration.md).",
    ),
    seed: int = SEED,
    workers: int | None = WORKERS,
    dask: str | None = DASK,
    report: Path | None = typer.Option(
        None, "--report", help="Folder of the fit report (default results/calibrate-<time>/)."
    ),
    no_plots: bool = flag("--no-plots", "Do not draw the PNG plots."),
    quiet: bool = flag("--quiet", "No progress bar and no tables."),
) -> None:
    """Write a scenario calibrated from a call log: pools and skills (who served what),
    priorities, arrivals, talk, patience, after-call work, staffing and availability."""
    start, end = _hours(hours)
    if interval_min <= 0 or (end - start) % interval_min:
        raise InputError(
            f"--interval-min: {interval_min} does not divide {hours} into whole intervals"
        )
    if talk not in ("lognormal", "empirical"):
        raise InputError(f"--talk: {talk!r} is not one of lognormal, empirical")
    if not 2 <= replications <= 1000:
        raise InputError(f"--replications: {replications} is not from 2 to 1,000")
    if out.suffix not in (".yaml", ".yml"):
        raise InputError(f"--out: {str(out)!r} is not a .yaml file")
    model = replace(Model.without(without), standby=standby)
    log = read_log(log_path, fmt, time_zone)
    if not quiet:
        _summary_of_log(log)
    chosen = select_days(log, days)
    cal = calibrate(log, chosen, Frame(start, end, interval_min, sl_threshold_s), talk, model)
    with executor(workers, dask) as ex:
        total = len(chosen) * replications * (1 if cal.observed.from_states else FACTOR_STEPS)
        with progress(
            f"tuning the availability factor on {ex.name}", total, enabled=not quiet
        ) as bar:
            task = bar.task_ids[0]
            tune_factor(
                cal,
                ex,
                replications=replications,
                seed=seed,
                progress=lambda k: bar.advance(task, k),
            )
    scenario = cal.average_day(name=out.stem)
    header = (
        f"Calibrated by callsim calibrate from {log_path} ({len(chosen)} days: {days}) "
        f"on {datetime.now():%Y-%m-%d}"
    )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(scenario_yaml(scenario, header), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--out: cannot write {str(out)!r} ({exc.strerror or exc})") from None
    folder = run_dir(report, "calibrate", CALIBRATE_FILES)
    doc = _calibration_doc(cal, log)
    written = [write_json(folder / "calibration.json", doc)]
    written += _fit_tables(folder, cal)
    if not no_plots:
        from callsim.report.plot import calibration_plots

        chosen_days = set(cal.days)
        talk_s = {
            t: [
                c.talk_s
                for c in log.calls
                if c.type == t and c.day in chosen_days and c.answered and c.talk_s > 0
            ]
            for t in cal.talk
        }
        written += calibration_plots(folder, doc, talk_s)
    if not quiet:
        _show_calibration(doc)
        err.print(f"Wrote {out}; report {', '.join(p.name for p in written)} in {folder}")


def _calibration_doc(cal: Calibration, log: CallLog) -> dict[str, Any]:
    obs = cal.observed
    every = observe(log, log.days, cal.frame)  # all the log's days, by day type
    p = cal.patience
    by_type: dict[str, list[int]] = {}
    for k, d in enumerate(every.days):
        by_type.setdefault(day_type(d), []).append(k)
    return {
        "log": log.source,
        "rows": log.rows,
        "calls_kept": len(log.calls),
        "dropped": dict(log.dropped),
        "dropped_examples": log.examples,
        "repaired": dict(log.repaired),
        "missing_days": [d.isoformat() for d in log.missing_days()],
        "days": [d.isoformat() for d in cal.days],
        "day_types": day_types(cal.days),
        "outside_hours": obs.outside,
        "intervals": cal.frame.labels(),
        "arrivals_per_interval": {
            f"{t} ({len(ks)})": every.offered[ks].mean(axis=0).tolist() for t, ks in by_type.items()
        },
        "agents_seen_per_interval": obs.agents_seen.mean(axis=0).tolist(),
        "agents_at_work_per_interval": obs.agents_present.mean(axis=0).tolist(),
        "talk": {
            t: {
                "calls": f.calls,
                "mean_s": f.mean_s,
                "cv": f.cv,
                "lognormal_mu": f.mu,
                "lognormal_sigma": f.sigma,
                "ks_distance": f.ks,
            }
            for t, f in cal.talk.items()
        },
        "patience": {
            "queued": p.queued,
            "abandoned": p.abandoned,
            "km_median_s": p.median_s,
            "exponential_mean_s": p.exp_mean_s,
            "tail_from_s": p.tail_from_s,
            "tail_mean_s": p.tail_mean_s,
            "km": {"t": p.times.tolist(), "survival": p.survival.tolist()},
        },
        "retrials": {
            "identified_calls": cal.retrials.identified,
            "abandoned_identified": cal.retrials.abandoned_identified,
            "retried_within_1h": cal.retrials.retried,
            "probability": cal.retrials.probability,
            "mean_delay_s": cal.retrials.mean_delay_s,
            "share_of_calls": cal.retrials.share_of_calls,
        },
        "without": cal.model.off,
        "pools": {
            name: {"types": cal.pools.types[name], "agents": cal.pools.agents[name]}
            for name in cal.pools.names
        },
        "agent_groups": {
            g: {"skills": cal.pools.group_skills(g), "agents": agents}
            for g, agents in cal.pools.groups.items()
        },
        "served": cal.pools.served,
        "queue_discipline": {
            d.isoformat(): {
                "pairs": x.pairs,
                "overtaken": x.overtaken,
                "overtaken_by_equal": x.same,
                "by_priority": x.on,
            }
            for d, x in zip(cal.days, obs.disciplines, strict=True)
        },
        "day_skills": {
            d.isoformat(): r.pools.skills
            for d, r in zip(cal.days, cal.days_replayed or [], strict=True)
        },
        "day_wrap_up_mean_s": {
            d.isoformat(): None
            if r.wrap_up is None
            else math.fsum(v := wrap_up_values(r.wrap_up, cal.model)) / len(v)
            for d, r in zip(cal.days, cal.days_replayed or [], strict=True)
        },
        "calls_served_outside_their_pool": cal.pools.outside_calls(),
        "priority_shares": {
            t: {str(k): v for k, v in priority_shares(q, obs.levels).items()}
            for t, q in zip(obs.types, obs.queued_priority.sum(axis=0), strict=True)
        },
        "patience_by_group": {
            f"{who} priority {'all' if level < 0 else level}": {
                "queued": f.queued,
                "abandoned": f.abandoned,
                "km_median_s": f.median_s,
                "exponential_mean_s": f.exp_mean_s,
            }
            for (who, level), f in cal.patience_by_group.items()
        },
        "wrap_up": None
        if cal.wrap_up is None
        else {
            "gaps": cal.wrap_up.gaps,
            "seen_whole": cal.wrap_up.whole,
            "mean_s": cal.wrap_up.mean_s,
            "median_s": cal.wrap_up.median_s,
            "scenario_mean_s": math.fsum(v := cal.wrap_up_values()) / len(v),
        },
        "handover": None
        if cal.handover is None
        else {
            "mean_s": cal.handover.mean_s,
            "level_per_s": cal.handover.level,
            "answered_after_queueing_by_second": list(cal.handover.ramp),
        },
        "availability_blocks": [
            {
                "from": cal.frame.labels()[b.intervals[0]],
                "intervals": len(b.intervals),
                "factor": b.factor,
                "ready": b.ready,
                "standby_per_idle_share": b.slope,
                "observed_abandon_rate": b.abandon_rate,
                "observed_service_level": b.service_level,
            }
            for b in cal.blocks or []
        ],
        "availability_factors": cal.factors,
        "availability_factor": cal.factor,
        "observed_abandon_rate": cal.observed_abandon,
        "simulated_abandon_rate": cal.simulated_abandon,
        "standby": None
        if cal.standby is None
        else {
            "after_s": cal.standby_after_s,
            "factors": cal.standby,
            "share": math.fsum(cal.standby) / math.fsum([*cal.standby, *(cal.factors or [])]),
            "idle_share": cal.idle_share,
            "idle_share_by_day": {
                r.observed.days[0].isoformat(): r.observed.idle_share(0)
                for r in cal.days_replayed or []
            },
            "per_idle_share": cal.standby_slope,
            "observed_service_level": float(
                cal.observed.within.sum() / max(cal.observed.offered.sum(), 1)
            ),
            "simulated_service_level": (cal.tuning or [(0.0, 0.0, 0.0, math.nan)])[-1][3],
        },
        "tuning": [
            {"factor": f, "abandon_rate": a, "ready": r, "service_level": sl}
            for f, a, r, sl in cal.tuning or []
        ],
    }


def _fit_tables(folder: Path, cal: Calibration) -> list[Path]:
    obs = cal.observed
    labels = cal.frame.labels()
    rows = [
        [
            at,
            *(float(v) for v in obs.arrivals[:, i].mean(axis=0)),
            float(obs.agents_seen[:, i].mean()),
        ]
        for i, at in enumerate(labels)
    ]
    arrivals = write_csv(
        folder / "arrivals.csv", ["interval_start", *obs.types, "agents_seen"], rows
    )
    talk_rows = [[t, f.calls, f.mean_s, f.cv, f.mu, f.sigma, f.ks] for t, f in cal.talk.items()]
    talk = write_csv(
        folder / "talk.csv",
        ["type", "calls", "mean_s", "cv", "lognormal_mu", "lognormal_sigma", "ks_distance"],
        talk_rows,
    )
    return [arrivals, talk]


def _show_pools(doc: dict[str, Any]) -> None:
    served = doc["served"]
    types = sorted({t for row in served.values() for t in row})
    group_of = {a: g for g, v in doc["agent_groups"].items() for a in v["agents"]}
    pool_of = {a: p for p, v in doc["pools"].items() for a in v["agents"]}
    rows = [
        [
            a,
            *(str(served[a].get(t, 0) or "") for t in types),
            pool_of.get(a, "-"),
            ",".join(doc["agent_groups"][group_of[a]]["skills"]) if a in group_of else "-",
        ]
        for a in sorted(served, key=lambda a: (pool_of.get(a, ""), -sum(served[a].values())))
    ]
    print_table(
        "Who served what: answered calls per agent and type; the pool of the agent's own "
        "types (>= 10 % of their calls); skills: the types >= 2 % of their calls",
        ["agent", *types, "pool", "skills"],
        rows,
    )
    print_table(
        "Pools found (each type its queue; agents of one set of skills one group)",
        ["pool", "types", "agents"],
        [[p, ", ".join(v["types"]), f"{len(v['agents'])}"] for p, v in doc["pools"].items()],
    )
    blocks = doc["availability_blocks"]
    if blocks:
        print_table(
            "Availability of the agents at work, per block of the day (fitted so the "
            "calibration days abandon as the log says: agents logged in, ready and "
            "standby; the ready, so that they answer as many in time)",
            ["from", "intervals", "factor", "ready", "log abandonment", "log SL"],
            [
                [
                    b["from"],
                    b["intervals"],
                    f"{b['factor']:.3f}",
                    f"{b['ready']:.3f}",
                    f"{b['observed_abandon_rate']:.1%}",
                    f"{b['observed_service_level']:.3f}",
                ]
                for b in blocks
            ],
        )
    print_table(
        "Patience per group (Kaplan-Meier; groups with >= 150 calls that queued and >= 30 "
        "abandonments)",
        ["group", "queued", "abandoned", "KM median s", "exponential mean s"],
        [
            [
                k,
                f"{v['queued']:,}",
                f"{v['abandoned']:,}",
                "-" if v["km_median_s"] is None else f"{v['km_median_s']:.0f}",
                f"{v['exponential_mean_s']:.0f}",
            ]
            for k, v in doc["patience_by_group"].items()
        ],
    )


def _show_calibration(doc: dict[str, Any]) -> None:
    _show_pools(doc)
    arrivals = doc["arrivals_per_interval"]
    kinds = list(arrivals)
    rows = [
        [at, *(f"{arrivals[k][i]:.1f}" for k in kinds), f"{doc['agents_seen_per_interval'][i]:.1f}"]
        for i, at in enumerate(doc["intervals"])
    ]
    print_table(
        "Calls per interval by day type (mean), agents seen talking",
        ["interval", *kinds, "agents seen"],
        rows,
    )
    print_table(
        "Talk time per call type (lognormal fit; KS: Kolmogorov-Smirnov distance)",
        ["type", "calls", "mean s", "cv", "KS"],
        [
            [t, v["calls"], f"{v['mean_s']:.0f}", f"{v['cv']:.2f}", f"{v['ks_distance']:.3f}"]
            for t, v in doc["talk"].items()
        ],
    )
    p, r = doc["patience"], doc["retrials"]
    median = "-" if p["km_median_s"] is None else f"{p['km_median_s']:.0f}"
    print_table(
        "Patience (Kaplan-Meier, waits censored by answers) and retrials",
        ["figure", "value"],
        [
            ["calls that queued", f"{p['queued']:,}"],
            ["of them abandoned", f"{p['abandoned']:,}"],
            ["median patience, Kaplan-Meier", f"{median} s"],
            ["exponential fit (Erlang A), mean", f"{p['exponential_mean_s']:.0f} s"],
            ["tail beyond", f"{p['tail_from_s']:.0f} s: mean {p['tail_mean_s']:.0f} s"],
            [
                "abandoners calling again within 1 h",
                f"{r['probability']:.1%} (of {r['abandoned_identified']:,} with caller ids)",
            ],
            ["retrials, share of calls", f"{r['share_of_calls']:.1%}"],
            *_discipline_rows(doc["queue_discipline"]),
            ["availability factor, ready (interval mean)", f"{doc['availability_factor']:.3f}"],
            *_standby_rows(doc["standby"]),
            *_wrap_up_rows(doc["wrap_up"]),
            ["after-call work in the scenario", _wrap_up_given(doc)],
            [
                "hand-over of a call that waited",
                "-" if doc["handover"] is None else f"mean {doc['handover']['mean_s']:.1f} s",
            ],
            [
                "abandonment: log / calibrated",
                f"{doc['observed_abandon_rate']:.2%} / {doc['simulated_abandon_rate']:.2%}",
            ],
        ],
    )


def _standby_rows(sb: dict[str, Any] | None) -> list[list[str]]:
    """The standby split: its share of the agents logged in, the wait after which the
    standby answer, and the service level it was fitted to."""
    if sb is None:
        return [["standby agents", "-"]]
    return [
        ["standby agents", f"{sb['share']:.0%} of those logged in, after {sb['after_s']:.0f} s"],
        ["idle while calls waited", f"{sb['idle_share']:.1%} of the time at work"],
        [
            "service level: log / calibrated",
            f"{sb['observed_service_level']:.3f} / {sb['simulated_service_level']:.3f}",
        ],
    ]


def _wrap_up_given(doc: dict[str, Any]) -> str:
    """The after-call work the scenario was given: the log's, ended by WRAP_UP_MAX_S."""
    if doc["wrap_up"] is None:
        return "-"
    ended = "" if "wrap_up_max" in doc["without"] else f" (ended by {WRAP_UP_MAX_S:.0f} s)"
    return f"mean {doc['wrap_up']['scenario_mean_s']:.1f} s{ended}"


def _discipline_rows(days: dict[str, dict[str, Any]]) -> list[list[str]]:
    """How many days ranked callers by priority, which answered them first come (the
    first few: calibration.json has every day's), and how many the calls cannot tell;
    short values, so that the table fits 80 columns."""
    fifo = [d[5:] for d, x in days.items() if x["by_priority"] is False]
    ranked = sum(x["by_priority"] is True for x in days.values())
    unknown = sum(x["by_priority"] is None for x in days.values())
    rows = [["queue discipline, days", f"{ranked} by priority, {len(fifo)} first come"]]
    if fifo:
        more = f" +{len(fifo) - FIFO_SHOWN}" if len(fifo) > FIFO_SHOWN else ""
        rows.append(["first-come days", ", ".join(fifo[:FIFO_SHOWN]) + more])
    if unknown:
        rows.append(["days the calls cannot tell", str(unknown)])
    return rows


def _wrap_up_rows(wrap_up: dict[str, Any] | None) -> list[list[str]]:
    """The not-ready time after a call as the log shows it, in rows that fit 80 columns."""
    if wrap_up is None:
        return [["after-call work (not ready after a call)", "-"]]
    return [
        [
            "after-call work (not ready after a call)",
            f"mean {wrap_up['mean_s']:.1f} s, median {wrap_up['median_s']:.0f} s",
        ],
        ["after-call gaps seen whole", f"{wrap_up['seen_whole']:,} of {wrap_up['gaps']:,}"],
    ]


def compare_cmd(
    log_path: Path = typer.Argument(..., help="Per-call log (.gz read directly)."),
    scenario: Path = typer.Argument(..., help="A scenario written by callsim calibrate."),
    fmt: str = FORMAT,
    time_zone: str = TIME_ZONE,
    days: str = DAYS,
    replications: int = REPLICATIONS,
    without: str | None = WITHOUT,
    precision: str | None = PRECISION,
    max_replications: int = MAX_REPLICATIONS,
    seed: int = SEED,
    workers: int | None = WORKERS,
    dask: str | None = DASK,
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Result folder (default results/compare-<time>/; with --json none unless given).",
    ),
    forecast: bool = flag(
        "--forecast",
        "Predict each day without its own calls, talk or staffing: the calibrated average "
        "day, the scenario's agents as the plan, and the calibration days' day-to-day "
        "spread (read from --calibration-log).",
    ),
    calibration_log: Path | None = typer.Option(
        None,
        "--calibration-log",
        help="With --forecast: the log the scenario was calibrated on (default: the "
        "scenario's calibration.source), in the same --format.",
    ),
    as_json: bool = flag("--json", "Print compare.json on stdout instead of tables."),
    no_plots: bool = flag("--no-plots", "Do not draw the PNG plots."),
    quiet: bool = flag("--quiet", "No progress bar and no tables."),
) -> None:
    """Predict each logged day from a calibrated scenario and set it against the log:
    replayed with its own calls, talk and staffing, or with --forecast as planned."""
    if not 2 <= replications <= 1000:
        raise InputError(f"--replications: {replications} is not from 2 to 1,000")
    bound = None if precision is None else parse_precision(precision)
    if forecast and bound is not None:
        raise InputError("--precision: not with --forecast (its days are drawn one by one)")
    if calibration_log is not None and not forecast:
        raise InputError("--calibration-log: only with --forecast")
    model = Model.without(without)
    sc = load_scenario(scenario)
    history = None
    if forecast:
        source = calibration_log or (
            Path(sc.calibration.source) if sc.calibration is not None else None
        )
        if source is None:
            raise InputError(f"{scenario}: no calibration block (make it with callsim calibrate)")
        if not source.exists():
            raise InputError(
                f"--calibration-log: {str(source)!r} does not exist (the scenario's "
                "calibration.source); give the log the scenario was calibrated on"
            )
        history = read_log(source, fmt, time_zone)
    log = read_log(log_path, fmt, time_zone)
    if not quiet and not as_json:
        _summary_of_log(log)
    chosen = select_days(log, days)
    folder = run_dir(out, "compare", COMPARE_FILES) if out or not as_json else None
    with (
        executor(workers, dask) as ex,
        progress(
            f"simulating {len(chosen)} logged days on {ex.name}",
            replications if forecast else len(chosen) * replications,
            enabled=not quiet,
        ) as bar,
    ):
        task = bar.task_ids[0]
        label = f"simulating {len(chosen)} logged days to {precision} on {ex.name}"
        doc = compare(
            sc,
            log,
            chosen,
            ex,
            replications=replications,
            seed=seed,
            progress=lambda k: bar.advance(task, k),
            precision=bound,
            max_replications=max_replications,
            on_look=lambda seen, total: bar.update(
                task,
                description=look_line(label, seen),
                total=len(chosen) * (total or seen.replications),
            ),
            model=model,
            forecast=history,
        )
    written: list[Path] = []
    if folder is not None:
        written.append(write_json(folder / "compare.json", doc))
        written += _compare_tables(folder, doc)
        if not no_plots:
            from callsim.report.plot import compare_plots

            written += compare_plots(folder, doc)
    if as_json:
        typer.echo(json_text(doc), nl=False)
        return
    if not quiet:
        _show_compare(doc)
        if bound is not None:
            err.print(stopped(doc["stopping_rule"], "every logged day's headline figure"))
        if folder is not None:
            err.print(f"Wrote {', '.join(p.name for p in written)} to {folder}")


def _compare_tables(folder: Path, doc: dict[str, Any]) -> list[Path]:
    cols = ["day", "calls", "agent_intervals"]
    for m in COMPARED:
        cols += [f"{m}_observed", f"{m}_predicted", f"{m}_p05", f"{m}_p95", f"{m}_erlang_a"]
    days = [
        [
            r["day"],
            r["calls"],
            r["agent_intervals"],
            *(
                x
                for m in COMPARED
                for x in (r[m]["observed"], r[m]["predicted"], *r[m]["band"], r[m]["erlang_a"])
            ),
        ]
        for r in doc["per_day"]
    ]
    cells = [
        [
            r["day"],
            r["interval_start"],
            r["calls"],
            r["agents"],
            *(
                x
                for m in COMPARED
                for x in (r[m]["observed"], r[m]["predicted"], *r[m]["band"], r[m]["erlang_a"])
            ),
        ]
        for r in doc["per_interval"]
    ]
    return [
        write_csv(folder / "days.csv", cols, days),
        write_csv(
            folder / "intervals.csv", ["day", "interval_start", "calls", "agents", *cols[3:]], cells
        ),
    ]


def _f(v: float | None, m: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.1f}" if m.endswith("_s") else f"{v:.3f}"


def _share(v: float | None) -> str:
    return "-" if v is None else f"{v:.0%}"


def _show_compare(doc: dict[str, Any]) -> None:
    short = {"abandon_rate": "aband", "asa_s": "ASA s", "service_level": "SL"}
    cols = ["day", "calls"]
    for name in short.values():
        cols += [f"{name} log", "sim", "Erl A"]
    rows = [
        [
            f"{r['day']} {r['weekday']}",
            r["calls"],
            *(
                x
                for m in short
                for x in (
                    _f(r[m]["observed"], m),
                    _f(r[m]["predicted"], m),
                    _f(r[m]["erlang_a"], m),
                )
            ),
        ]
        for r in doc["per_day"]
    ]
    print_table(
        f"Observed and predicted per day ({doc['replications']} simulated days each)", cols, rows
    )
    s = doc["summary"]

    def worst(w: dict[str, Any] | None, m: str) -> str:
        return "-" if w is None else f"{_f(w['error'], m)} ({w['day'][5:]})"

    rows = [
        [
            m,
            _f(s[m]["mae"], m),
            _f(s[m]["erlang_a_mae"], m),
            _f(s[m]["bias"], m),
            _f(s[m]["erlang_a_bias"], m),
            worst(s[m].get("worst_day"), m),
            worst(s[m].get("erlang_a_worst_day"), m),
            _f(s[m].get("interval_mae"), m),
            _f(s[m].get("erlang_a_interval_mae"), m),
            f"{_share(s[m]['intervals_in_band'])} / {_share(s[m].get('days_in_band'))}",
        ]
        for m in COMPARED
    ]
    given = (
        "forecast from the calibrated day and the planned agents (no day's own calls, "
        "talk or staffing)"
        if doc.get("forecast")
        else "given the same calls, agents and talk"
    )
    print_table(
        f"Errors over {len(doc['per_day'])} days, simulation (sim) and Erlang A (ErlA) "
        f"{given}: per-day mean absolute error, bias and worst day (predicted - "
        "observed); per-interval mean absolute error; share of "
        f"{s['abandon_rate']['intervals']} intervals / of the days inside the "
        "simulation's 5-95 % band",
        [
            "metric",
            "MAE sim",
            "MAE ErlA",
            "bias sim",
            "bias ErlA",
            "worst day sim",
            "worst day ErlA",
            "interval MAE sim",
            "interval MAE ErlA",
            "in band: intervals / days",
        ],
        rows,
    )
    fc = doc.get("forecast")
    if fc:
        cv = fc["cv"]
        err.print(
            f"Forecast: the day-to-day spread of {len(fc['calibration_days'])} calibration "
            f"days ({fc['calibration_log']}): calls cv {cv['volume']:.3f}, mean talk cv "
            f"{cv['talk']:.3f}, agent-time cv {cv['staffing']:.3f}",
            markup=False,
        )
        if fc.get("readiness"):
            err.print(
                "Forecast: ready and standby agents as calibrated (the average day's); a "
                "replay splits by its day's idle share, which a future day does not have",
                markup=False,
            )
    pools = doc.get("pools") or {}
    if pools:
        err.print(
            "Pools of the compared days (who served what): "
            + "; ".join(
                f"{p}: {', '.join(v['types'])} ({len(v['agents'])} agents)"
                for p, v in pools.items()
            )
            + f"; {doc['calls_served_outside_their_pool']:,} calls answered outside their pool",
            markup=False,
        )
