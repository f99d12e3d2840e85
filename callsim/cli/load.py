"""``callsim load``: stress the live service with locust, audit every call, and compare
the live day with the simulator's prediction of the same arrivals."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from callsim.cli.command import flag
from callsim.cli.console import err, print_json, print_table, progress
from callsim.errors import InputError
from callsim.report.files import run_dir, write_json
from callsim.scenario import load_scenario
from callsim.scenario.model import LoadGate

EXIT_THRESHOLD = 1  # a threshold failed
EXIT_AUDIT = 3  # the audit found lost or duplicated calls
DASH = "\N{EN DASH}"  # no value


def _duration(text: str, field: str = "run_time") -> float:
    """'90', '90s', '2m' or '1h' as seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    t = text.strip().lower()
    try:
        value = float(t[:-1]) * units[t[-1]] if t and t[-1] in units else float(t)
        if not 0 <= value <= 86_400:
            raise ValueError
        return value
    except ValueError:
        raise InputError(
            f"{text!r} is not a duration from 0 to 24h like 60s, 2m or 1h", field=field
        ) from None


def load(
    scenario: Path = typer.Option(..., "--scenario", help="Scenario file (YAML)."),
    host: str | None = typer.Option(
        None, "--host", help="A running service's URL (loopback); default: --spawn-server."
    ),
    spawn_server: bool = flag(
        "--spawn-server", "Start callsim serve on a free loopback port with a temporary database."
    ),
    key: str | None = typer.Option(
        None, "--key", help="Admin API key for --host (default: $CALLSIM_ADMIN_KEY)."
    ),
    speedup: float = typer.Option(60.0, "--speedup", help="Scenario seconds per wall second."),
    run_time: str = typer.Option("60s", "--run-time", help="How long callers call: 60s, 2m."),
    drain: str = typer.Option("10s", "--drain", help="Agents keep working this long after."),
    rate_scale: float = typer.Option(1.0, "--rate-scale", help="Multiply every arrival rate."),
    workers: int = typer.Option(
        0, "--workers", min=0, max=64, help="locust worker processes (0: one process)."
    ),
    seed: int = typer.Option(1, "--seed", help="Seed of the callers' and agents' draws."),
    warmup: str = typer.Option(
        "5s", "--warmup", help="The time to offer counts calls placed after this (logins)."
    ),
    replications: int = typer.Option(
        10, "--replications", min=2, max=1000, help="Simulated days of the same arrivals."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Result folder (default results/load-<time>/)."
    ),
    as_json: bool = flag("--json", "Print load.json on stdout instead of tables."),
    max_p95_ms: float | None = typer.Option(
        None,
        "--max-p95-ms",
        min=0,
        help="Fail (exit 1) if an endpoint's p95 (not the long poll) exceeds this "
        "(default: the scenario's load.max_p95_ms).",
    ),
    max_error_rate: float | None = typer.Option(
        None,
        "--max-error-rate",
        min=0,
        max=1,
        help="Fail (exit 1) above this share of failed requests (or load.max_error_rate).",
    ),
    find_ceiling: bool = flag(
        "--find-ceiling",
        "Search the highest rate with no lost call and the time to offer's p99 under "
        "--offer-p99-ms (each step a fresh server, --repeats times).",
    ),
    offer_p99_ms: float = typer.Option(
        50.0, "--offer-p99-ms", min=1, help="--find-ceiling: the time to offer's p99 bound."
    ),
    repeats: int = typer.Option(2, "--repeats", min=1, max=10, help="--find-ceiling: runs a step."),
    max_runs: int = typer.Option(
        16, "--max-runs", min=1, max=200, help="--find-ceiling: at most this many runs."
    ),
    min_service_level: float | None = typer.Option(
        None,
        "--min-service-level",
        min=0,
        max=1,
        help="Fail (exit 1) if the live service level is below (or load.min_service_level).",
    ),
) -> None:
    """Load-test the live service with locust; audit every call; live vs predicted.

    Exit codes: 0 every threshold held, 1 a threshold failed, 2 usage or input error,
    3 the audit found lost or duplicated calls (or another audit failure)."""
    from callsim.load.run import LoadOptions, run_load  # here: locust loads only to load

    if host is not None and spawn_server:
        raise InputError("give --host or --spawn-server, not both", field="host")
    if host is not None and not host.startswith(("http://127.", "http://localhost")):
        raise InputError(f"{host!r} is not a loopback URL (http://127.0.0.1:PORT)", field="host")
    sc = load_scenario(scenario)
    opts = LoadOptions(
        scenario_path=scenario,
        host=host,
        speedup=speedup,
        run_s=_duration(run_time),
        drain_s=_duration(drain, "drain"),
        rate_scale=rate_scale,
        workers=workers,
        seed=seed,
        key=key or os.environ.get("CALLSIM_ADMIN_KEY", ""),
        replications=replications,
        warmup_s=_duration(warmup, "warmup"),
    )
    if opts.warmup_s and opts.warmup_s >= opts.run_s:
        raise InputError(f"{opts.warmup_s:g} s is not shorter than --run-time "
                         f"({opts.run_s:g} s)", field="warmup")  # fmt: skip
    folder = run_dir(out, "load")
    if find_ceiling:
        _ceiling(opts, sc, folder, offer_p99_ms, repeats, max_runs, as_json)
        return
    with progress("load test", 100, enabled=not as_json) as bar:
        task = bar.task_ids[0]

        def tick(done: float, total: float, calls: int) -> None:
            bar.update(task, completed=int(100 * done / total),
                       description=f"load test: {calls:,} calls")  # fmt: skip

        report = run_load(opts, sc, folder, tick)
    from callsim.report.plot import load_plots

    report["files"] = [str(p) for p in load_plots(folder, report)]
    gate = sc.load or LoadGate.model_validate({})
    verdict = _verdict(
        report,
        max_p95_ms if max_p95_ms is not None else gate.max_p95_ms,
        max_error_rate if max_error_rate is not None else gate.max_error_rate,
        min_service_level if min_service_level is not None else gate.min_service_level,
    )
    report["thresholds"] = verdict
    write_json(folder / "load.json", report)
    if as_json:
        print_json(report)
    else:
        _show(report)
        err.print(f"results in {folder}")
    if not report["audit"]["ok"]:
        raise typer.Exit(EXIT_AUDIT)
    if not all(v["held"] for v in verdict.values()):
        raise typer.Exit(EXIT_THRESHOLD)


def _ceiling(
    opts: Any,
    sc: Any,
    folder: Path,
    offer_p99_ms: float,
    repeats: int,
    max_runs: int,
    as_json: bool,
) -> None:
    from callsim.load.run import find_ceiling
    from callsim.report.plot import ceiling_plot

    found = find_ceiling(opts, sc, folder, offer_p99_ms=offer_p99_ms, repeats=repeats,
                         max_runs=max_runs, progress=None if as_json else err.print)  # fmt: skip
    found["files"] = [str(ceiling_plot(folder / "ceiling.png", found))]
    write_json(folder / "ceiling.json", found)
    if as_json:
        print_json(found)
    else:
        print_table(
            f"Ceiling search: no lost call, time to offer p99 <= {offer_p99_ms:g} ms",
            ["rate x", "calls/s", "p99 ms", "p99.9 ms", "passed", "why not"],
            [[x["rate_scale"], x["calls_per_s"], _ms(x["offer_p99_ms"]),
              _ms(x["offer_p99_9_ms"]), "yes" if x["passed"] else "no", x["why"]]
             for x in found["steps"]],
        )  # fmt: skip
        best = found["ceiling"]
        err.print(
            f"ceiling: {best['calls_per_s']} calls/s (rate x{best['rate_scale']})"
            if best
            else "no step passed"
        )
        err.print(f"results in {folder}")
    if found["ceiling"] is None:
        raise typer.Exit(EXIT_THRESHOLD)


def _verdict(
    report: dict[str, Any],
    max_p95_ms: float | None,
    max_error_rate: float | None,
    min_service_level: float | None,
) -> dict[str, dict[str, Any]]:
    audit = report["audit"]
    out: dict[str, dict[str, Any]] = {  # every planned call placed: the load was delivered
        "load_delivered": {"limit": report["planned_calls"], "value": audit["sent"],
                           "held": audit["sent"] >= report["planned_calls"]},
    }  # fmt: skip
    rows = [r for r in report["endpoints"] if r["name"] != "Aggregated"]
    if max_p95_ms is not None:  # long polls wait by design: not latency
        worst = max(
            (r["p95_ms"] or 0.0 for r in rows if r["type"] != "CALL" and "offers" not in r["name"]),
            default=0.0,
        )
        out["max_p95_ms"] = {"limit": max_p95_ms, "value": worst, "held": worst <= max_p95_ms}
    if max_error_rate is not None:
        total = sum(r["requests"] for r in rows)
        failed = sum(r["failures"] for r in rows)
        rate = failed / total if total else 0.0
        out["max_error_rate"] = {"limit": max_error_rate, "value": rate,
                                 "held": rate <= max_error_rate}  # fmt: skip
    if min_service_level is not None:
        sl = report["live_vs_predicted"]["total"]["service_level"]["live"]
        out["min_service_level"] = {"limit": min_service_level, "value": sl,
                                    "held": sl is not None and sl >= min_service_level}  # fmt: skip
    return out


def _ms(v: float | None) -> str:
    return DASH if v is None else f"{v:,.0f}"


def _pct(v: float | None) -> str:
    return DASH if v is None else f"{100 * v:.1f}%"


def _show(report: dict[str, Any]) -> None:
    rows = [
        [r["name"][:34], r["requests"], r["failures"], _ms(r["p50_ms"]), _ms(r["p95_ms"]),
         _ms(r["p99_ms"])]
        for r in report["endpoints"]
    ]  # fmt: skip
    print_table("Latency per endpoint (ms)", ["endpoint", "requests", "failed", "p50", "p95",
                                               "p99"], rows)  # fmt: skip
    t = report["time_to_offer_ms"]
    a = report["audit"]
    print_table(
        f"{report['placed_calls']:,} calls in {report['run_s']:g} s "
        f"({report['calls_per_s']} calls/s), {report['agents']} agents",
        ["", "value"],
        [
            ["time to offer p50 / p95 / p99 / p99.9 (ms)",
             f"{_ms(t['p50'])} / {_ms(t['p95'])} / {_ms(t['p99'])} / {_ms(t['p99_9'])} "
             f"(n={t['n']})"],
            ["audit", "passed" if a["ok"] else "FAILED"],
            *[[f"  {cause.replace('_', ' ')}", n] for cause, n in a["causes"].items()],
            *[[f"outcome {k}", v] for k, v in sorted(a["outcomes"].items())],
        ],
    )  # fmt: skip
    c = report["live_vs_predicted"]
    tot = c["total"]

    def pair(m: str, fmt: Any) -> list[str]:
        x = tot[m]
        ci = "" if x["ci95"] is None else f" ± {fmt(x['ci95'])}"
        inside = {True: "yes", False: "no", None: DASH}[x["inside"]]
        return [m, fmt(x["live"]), fmt(x["predicted"]) + ci, inside]

    print_table(
        f"Live vs predicted ({c['replications']} simulated days of the same arrivals)",
        ["metric", "live", "predicted", "inside CI"],
        [pair("service_level", _pct), pair("asa_s", lambda v: DASH if v is None else f"{v:.1f}"),
         pair("abandon_rate", _pct)],
    )  # fmt: skip
    print_table(
        "Per interval: service level live / predicted",
        ["interval", "offered", "live", "predicted", "inside"],
        [
            [r["interval"], _ms(r["offered"]["live"]), _pct(r["service_level"]["live"]),
             _pct(r["service_level"]["predicted"]),
             {True: "yes", False: "no", None: DASH}[r["service_level"]["inside"]]]
            for r in c["intervals"]
        ],
    )  # fmt: skip
    for name, v in report["thresholds"].items():
        err.print(f"{name}: {v['value']} vs {v['limit']}: {'held' if v['held'] else 'FAILED'}")
