"""``callsim load``: run locust against the live service, then audit every call against
the service's own records and compare the live day with the simulator's prediction of
the same arrival trace.

The steps: start ``callsim serve`` on a free loopback port with a temporary database
(``--spawn-server``) or use ``--host``; register the plan's known callers; run locust
headless (one process, or a master and N workers on loopback) for the calling time plus
a drain; close what is still open as the callers and agents would (the drain); fetch the
records; audit; simulate the trace; write everything into the output folder.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import requests

from callsim.analytics.metrics import (
    facts_of_results,
    mean_ci,
    metric_samples,
    reduce_replication,
)
from callsim.core.inbound import carry_out, chosen_treatment
from callsim.errors import InputError
from callsim.live.service import record_of
from callsim.load.traffic import Traffic, instruction_of, plan_traffic
from callsim.report.files import write_json
from callsim.scenario.model import Scenario
from callsim.sim.engine import Replication

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
OPEN = ("arriving", "waiting", "ringing", "talking", "wrap_up")


@dataclass(frozen=True, slots=True)
class LoadOptions:
    scenario_path: Path
    host: str | None = None  # None: spawn a server
    speedup: float = 60.0
    run_s: float = 60.0  # callers call for this long
    drain_s: float = 10.0  # then agents keep working this long
    rate_scale: float = 1.0
    workers: int = 0  # 0: one locust process; N: a master and N workers
    seed: int = 1
    key: str = ""  # an admin key for --host
    replications: int = 10  # of the prediction (0: none)
    warmup_s: float = 5.0  # the time to offer counts calls placed after this (logins)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def spawned_server(scenario: Path, speedup: float, folder: Path) -> Iterator[tuple[str, str]]:
    """``callsim serve`` on a free loopback port with a database in ``folder``; yields
    (url, admin key) and stops it with SIGTERM (open calls end ``interrupted``)."""
    port, key = free_port(), secrets.token_urlsafe(24)
    log = open(folder / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "callsim", "serve", "--scenario", str(scenario),
         "--db", f"sqlite:///{folder / 'load.db'}", "--port", str(port),
         "--speedup", str(speedup)],
        env={**os.environ, "CALLSIM_ADMIN_KEY": key}, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise InputError(f"callsim serve exited; see {folder / 'server.log'}")
            try:
                if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise InputError("callsim serve did not answer in 60 s")
            time.sleep(0.1)
        yield url, key
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


class Api:
    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {key}"

    def __call__(self, method: str, path: str, **kw: Any) -> Any:
        r = self.http.request(method, self.url + path, timeout=30, **kw)
        if r.status_code >= 400:
            raise InputError(f"{method} {path}: {r.status_code} {r.text[:200]}", field="host")
        return r.json()


def run_load(
    opts: LoadOptions,
    scenario: Scenario,
    out: Path,
    progress: Callable[[float, float, int], None] | None = None,
) -> dict[str, Any]:
    """Run the load test, writing locust's files and the ledgers into ``out``; returns
    the report (``callsim load`` writes it as load.json, with the plots)."""
    traffic = plan_traffic(scenario, speedup=opts.speedup, run_s=opts.run_s,
                           rate_scale=opts.rate_scale, seed=opts.seed)  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="callsim-load-") as tmp:
        if opts.host is None:
            with spawned_server(opts.scenario_path, opts.speedup, Path(tmp)) as (url, key):
                report = _run(opts, traffic, out, Api(url, key), url, key, progress)
        else:
            if not opts.key:
                raise InputError("--host needs an admin key (--key or CALLSIM_ADMIN_KEY)",
                                 field="key")  # fmt: skip
            report = _run(opts, traffic, out, Api(opts.host, opts.key), opts.host, opts.key,
                          progress)  # fmt: skip
    return report


def _run(
    opts: LoadOptions,
    traffic: Traffic,
    out: Path,
    api: Api,
    url: str,
    key: str,
    progress: Callable[[float, float, int], None] | None,
) -> dict[str, Any]:
    for contacts in traffic.known.values():
        for c in contacts:
            if not api("GET", "/v1/contacts", params={"number": c["numbers"][0]}):
                api("POST", "/v1/contacts", json=c)
    for old in out.glob("ledger-*.jsonl"):
        old.unlink()
    started = time.time()
    _locust(opts, traffic, out, url, key, progress)
    locust_s = time.time() - started
    ledger = _ledger(out)
    drained = _drain(api, traffic)
    stuck = [a for a in api("GET", "/v1/agents") if a["state"] in ("ringing", "talking")]
    acked = {e["call_id"]: e for e in ledger["call"]}
    first = min(acked, default=1)
    records = _records(api, first - 1)
    audit = _audit(traffic, ledger, records, stuck, drained)
    timeline = _timeline(out, ledger, records, traffic.speedup)
    comparison = (
        _compare(traffic, acked, records, opts.replications, opts.seed)
        if opts.replications
        else None
    )
    return {
        "scenario": traffic.scenario.name,
        "speedup": opts.speedup,
        "run_s": opts.run_s,
        "drain_s": opts.drain_s,
        "rate_scale": opts.rate_scale,
        "workers": opts.workers,
        "wall_s": round(locust_s, 3),
        "planned_calls": len(traffic.calls),
        "placed_calls": len(acked),
        "calls_per_s": round(len(acked) / opts.run_s, 3) if opts.run_s else None,
        "agents": len(traffic.agents),
        "endpoints": _endpoints(out),
        "warmup_s": opts.warmup_s,
        "time_to_offer_ms": _time_to_offer(ledger, acked, opts.warmup_s),
        "time_to_offer_ms_with_warmup": _time_to_offer(ledger, acked, 0.0),
        "audit": audit,
        "live_vs_predicted": comparison,
        "timeline": timeline,
    }


def find_ceiling(
    opts: LoadOptions,
    scenario: Scenario,
    out: Path,
    *,
    offer_p99_ms: float,
    repeats: int = 2,
    max_runs: int = 16,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The highest call rate the service sustains with no lost call, no failed request
    and a p99 time to offer under ``offer_p99_ms`` (in the spirit of RFC 7502's no-drop
    rate): the rate scale grows by half until a step fails, then the gap is halved;
    each step runs ``repeats`` times (a fresh server each) and passes only if all do."""
    steps: list[dict[str, Any]] = []
    good, bad = 0.0, math.inf
    scale = opts.rate_scale
    runs = 0
    while runs + repeats <= max_runs:
        results = []
        for r in range(repeats):
            step = replace(opts, rate_scale=scale, replications=0, seed=opts.seed + r)
            folder = out / f"step-{len(steps) + 1}-{r + 1}"
            report = run_load(step, scenario, folder)
            write_json(folder / "load.json", report)
            runs += 1
            results.append(_step(report, offer_p99_ms))
            if progress:
                progress(f"rate x{scale:.3g}: {results[-1]['calls_per_s']:.1f} calls/s, "
                         f"{'passed' if results[-1]['passed'] else 'failed'}")  # fmt: skip
        passed = all(x["passed"] for x in results)
        steps.append({
            "rate_scale": round(scale, 4),
            "calls_per_s": round(min(x["calls_per_s"] for x in results), 3),
            "offer_p99_ms": max(x["offer_p99_ms"] for x in results),
            "offer_p99_9_ms": max(x["offer_p99_9_ms"] for x in results),
            "lost": sum(x["lost"] for x in results),
            "failed_requests": sum(x["failed_requests"] for x in results),
            "passed": passed,
            "why": "; ".join(dict.fromkeys(w for x in results for w in x["why"])),
        })  # fmt: skip
        if passed:
            good = max(good, scale)
        else:
            bad = min(bad, scale)
        if bad - good <= 0.05 * max(good, 1e-9):
            break
        scale = scale * 1.5 if math.isinf(bad) else (good + bad) / 2 if good else bad / 2
    best = max((x for x in steps if x["passed"]), key=lambda x: x["rate_scale"], default=None)
    return {"offer_p99_ms_bound": offer_p99_ms, "repeats": repeats, "steps": steps,
            "ceiling": best}  # fmt: skip


def _step(report: dict[str, Any], offer_p99_ms: float) -> dict[str, Any]:
    audit = report["audit"]
    failed = sum(e["failures"] for e in report["endpoints"] if e["name"] != "Aggregated")
    p99 = report["time_to_offer_ms"]["p99"]
    behind = report["planned_calls"] - audit["sent"]
    why = [
        *(["audit failed"] if not audit["ok"] else []),
        *([f"{failed} failed requests"] if failed else []),
        *([f"{behind} calls not placed"] if behind > 0 else []),
        *(["no call rang an agent at once"] if p99 is None else []),
        *([f"p99 {p99:.0f} ms"] if p99 is not None and p99 > offer_p99_ms else []),
    ]
    return {
        "why": why,
        "calls_per_s": report["calls_per_s"] or 0.0,
        "offer_p99_ms": p99,
        "offer_p99_9_ms": report["time_to_offer_ms"]["p99_9"],
        "lost": audit["causes"]["lost"] + audit["causes"]["duplicated"],
        "failed_requests": failed,
        "passed": (
            audit["ok"]
            and not failed
            and audit["sent"] >= report["planned_calls"]
            and p99 is not None
            and p99 <= offer_p99_ms
        ),
    }


def _locust(
    opts: LoadOptions,
    traffic: Traffic,
    out: Path,
    url: str,
    key: str,
    progress: Callable[[float, float, int], None] | None,
) -> None:
    users = len(traffic.agents) + max(1, opts.workers) + 1
    run_time = math.ceil(opts.run_s + opts.drain_s)
    backstop = run_time + 60  # locust's own limit; the driver stops it (see below)
    env = {
        **os.environ,
        "CALLSIM_LOAD_SCENARIO": str(opts.scenario_path),
        "CALLSIM_LOAD_SPEEDUP": str(opts.speedup),
        "CALLSIM_LOAD_RATE_SCALE": str(opts.rate_scale),
        "CALLSIM_LOAD_CALLS_FOR_S": str(opts.run_s),
        "CALLSIM_LOAD_SEED": str(opts.seed),
        "CALLSIM_LOAD_KEY": key,
        "CALLSIM_LOAD_OUT": str(out),
        "CALLSIM_LOAD_WORKERS": str(max(1, opts.workers)),
    }
    base = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", url]
    master = [*base, "--headless", "-u", str(users), "-r", str(users),
              "--run-time", f"{backstop}s", "--stop-timeout", "0",
              "--csv", str(out / "locust"), "--csv-full-history",
              "--json-file", str(out / "locust"), "--loglevel", "WARNING",
              "--exit-code-on-error", "0"]  # fmt: skip
    procs = []
    log = open(out / "locust.log", "w")  # noqa: SIM115
    try:
        if opts.workers:
            port = free_port()
            master += ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port",
                       str(port), "--expect-workers", str(opts.workers)]  # fmt: skip
        procs.append(subprocess.Popen(master, env=env, stdout=log, stderr=subprocess.STDOUT))
        for _ in range(opts.workers):
            procs.append(subprocess.Popen(
                [*base, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port),
                 "--loglevel", "WARNING"],
                env=env, stdout=log, stderr=subprocess.STDOUT))  # fmt: skip
        started = time.time()
        total = run_time + 5.0
        stopping = False
        while procs[0].poll() is None:
            if time.time() - started > backstop + 60:
                raise InputError("locust did not stop in time; see locust.log", field="run_time")
            calls, done = _ledger_progress(out)
            # every process placed its last call: a drain later, stop locust (SIGTERM
            # makes it write its statistics and stop its workers)
            ended = len(done) >= max(1, opts.workers)
            if not stopping and ended and time.time() >= max(done) + opts.drain_s:
                procs[0].terminate()
                stopping = True
            if progress:
                progress(min(time.time() - started, total), total, calls)
            time.sleep(0.25)
        if procs[0].returncode not in (0, None):
            tail = (out / "locust.log").read_text()[-500:]
            raise InputError(f"locust exited with {procs[0].returncode}: {tail}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        log.close()
    if progress:
        progress(total, total, _ledger_progress(out)[0])


def _ledger_progress(out: Path) -> tuple[int, list[float]]:
    """Calls acknowledged so far, and when each locust process placed its last call."""
    n, done = 0, []
    for f in out.glob("ledger-*.jsonl"):
        with f.open("rb") as fh:
            for line in fh:
                if line.startswith(b'{"k":"call"'):
                    n += 1
                elif line.startswith(b'{"k":"calls_done"') and line.endswith(b"\n"):
                    done.append(float(json.loads(line)["unix"]))
    return n, done


def _ledger(out: Path) -> dict[str, list[dict[str, Any]]]:
    """Every line the locust processes wrote, by kind."""
    found: dict[str, list[dict[str, Any]]] = {}
    for f in sorted(out.glob("ledger-*.jsonl")):
        for line in f.read_text().splitlines():
            if line.strip():
                entry = json.loads(line)
                found.setdefault(entry["k"], []).append(entry)
    return found


def _drain(api: Api, traffic: Traffic) -> dict[str, int]:
    """The end of the day: callers still waiting hang up, calls still talking are
    completed, and wrap-ups run out; what is still open afterwards is reported."""
    done = Counter[str]()
    deadline = time.time() + 30 + traffic.plan.ring_timeout_s / traffic.speedup
    while time.time() < deadline:
        calls = api("GET", "/v1/calls")
        if not calls:
            break
        for c in calls:
            path = f"/v1/calls/{c['call_id']}"
            try:
                if c["status"] in ("waiting", "ringing"):
                    api("POST", f"{path}/hangup")
                    done["hung_up"] += 1
                elif c["status"] == "talking":
                    api("POST", f"{path}/complete", json={"note": "the load run ended"})
                    done["completed"] += 1
            except InputError:
                pass  # it moved on meanwhile: seen again next round
        time.sleep(0.5)
    done["still_open"] = len(api("GET", "/v1/calls"))
    return dict(done)


def _records(api: Api, after: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        page = api("GET", "/v1/records", params={"after": after, "limit": 5000})
        rows += page
        if len(page) < 5000:
            return rows
        after = page[-1]["id"]


def _audit(
    traffic: Traffic,
    ledger: dict[str, list[dict[str, Any]]],
    records: list[dict[str, Any]],
    stuck: list[dict[str, Any]],
    drained: dict[str, int],
) -> dict[str, Any]:
    """Every acknowledged call stored once with one outcome; nothing extra; no agent
    stuck; every completed answering-service call handled as its client's policy says
    (recomputed here from the stored instruction and what the agent sent); failures by
    cause, with call ids."""
    acked: dict[int, dict[str, Any]] = {}
    duplicated: list[int] = []
    for e in ledger.get("call", []):
        if e["call_id"] in acked:
            duplicated.append(e["call_id"])  # two placements acknowledged as one call
        acked[e["call_id"]] = e
    stored = Counter(r["id"] for r in records)
    duplicated += [i for i, n in stored.items() if n > 1]
    by_id = {r["id"]: r for r in records}
    lost = sorted(i for i in acked if i not in by_id)
    unexpected = sorted(i for i in by_id if i not in acked)
    sent = len(ledger.get("send", []))
    # placed when locust stopped, the answer never read: stored calls nobody acknowledged
    # up to this many are those, not strangers
    in_flight = max(0, sent - len(ledger.get("call", [])) - len(ledger.get("fail", [])))
    no_outcome = sorted(i for i, r in by_id.items() if not r["outcome"])
    wrong = _wrong_handling(traffic, ledger.get("complete", []), by_id)
    fails = Counter(e["cause"] for e in ledger.get("fail", []))
    causes = {
        "rejected_4xx": fails.get("4xx", 0),
        "server_5xx": fails.get("5xx", 0),
        "timeout": fails.get("timeout", 0),
        "lost": len(lost),
        "duplicated": len(set(duplicated)),
        "unexpected": max(0, len(unexpected) - in_flight),
        "stuck_agent": len(stuck),
        "wrong_handling": len(wrong),
        "no_outcome": len(no_outcome) + drained.get("still_open", 0),
    }
    planned = sum(e["n"] for e in ledger.get("planned", []))
    return {
        "ok": not any(causes.values()),
        "planned": planned,
        "sent": sent,  # < planned: the load generator fell behind (not the service's fault)
        "in_flight_at_end": in_flight,
        "acknowledged": len(acked),
        "stored": len(by_id),
        "outcomes": dict(Counter(r["outcome"] for r in records)),
        "causes": causes,
        "drain": drained,
        "call_ids": {
            "lost": lost[:100],
            "duplicated": sorted(set(duplicated))[:100],
            "unexpected": unexpected[:100],
            "wrong_handling": wrong[:100],
            "no_outcome": no_outcome[:100],
            "failed_uids": [e["uid"] for e in ledger.get("fail", [])][:100],
        },
        "stuck_agents": [a["agent"] for a in stuck][:100],
    }


def _wrong_handling(
    traffic: Traffic, completes: list[dict[str, Any]], by_id: dict[int, dict[str, Any]]
) -> list[int]:
    """Completed client calls whose stored policy result is not what the core makes of
    the stored instruction and what the agent sent (``chosen_treatment`` and
    ``carry_out``, the rules ``InboundFlow.treat`` applies)."""
    clients = {pc.client.name: pc.client for pc in traffic.plan.clients}
    wrong = []
    for e in completes:
        row = by_id.get(e["call_id"])
        if e["status"] != 200 or row is None or not row["client"] or not row["instruction"]:
            continue
        instruction = instruction_of(row["client"], json.loads(row["instruction"]))
        sent = e["sent"]
        client = clients[row["client"]]
        treatment = chosen_treatment(client, instruction, sent.get("employee"),
                                     sent.get("faq") or ())  # fmt: skip
        expected, _ = carry_out(treatment, sent.get("forward_answered") or {})
        if row["policy_result"] != expected.value:
            wrong.append(e["call_id"])
    return wrong


def _compare(
    traffic: Traffic,
    acked: dict[int, dict[str, Any]],
    records: list[dict[str, Any]],
    replications: int,
    seed: int,
) -> dict[str, Any]:
    """The live day and the simulator's days of the same arrival trace, per interval
    and in total: service level, ASA and abandonment, the prediction's 95 % CI, and
    whether live falls inside it."""
    plan = traffic.plan
    frame = plan.frame()
    ours = [r for r in records if r["id"] in acked]
    trace = sorted((acked[r["id"]]["scenario_s"], acked[r["id"]]["stream"]) for r in ours)
    live_records, clients, results = [], [], []
    for i, r in enumerate(ours):
        midnight = r["arrived_unix"] - acked[r["id"]]["scenario_s"]
        live_records.append(record_of(SimpleNamespace(**r), midnight)._replace(call=i))
        clients.append(plan.streams[acked[r["id"]]["stream"]].client)
        results.append(r["policy_result"])
    live = reduce_replication(frame, live_records, [], 0, facts_of_results(clients, results))
    sims = []
    for rep in range(replications):
        sim = Replication(plan, seed, rep, arrivals=trace)
        recs = sim.run()
        sims.append(reduce_replication(frame, recs, sim.spans(), sim.retrials, sim.facts()))
    metrics = ("service_level", "asa_s", "abandon_rate", "offered")
    live_total = metric_samples([live], (0, 1))
    sim_total = metric_samples(sims, (0, 1))
    live_int = metric_samples([live], (1,))
    sim_int = metric_samples(sims, (1,))
    labels = [f"{hhmm}" for _, hhmm in plan.interval_labels()]
    covered = math.ceil(traffic.run_s * traffic.speedup / plan.interval_s)
    rows = []
    for k in range(min(covered, frame.n_intervals)):
        row: dict[str, Any] = {"interval": labels[k]}
        for m in metrics:
            row[m] = _cell(live_int[m][0, k], sim_int[m][:, k])
        rows.append(row)
    total = {m: _cell(live_total[m][0], sim_total[m]) for m in metrics}
    inside = [row[m]["inside"] for row in rows for m in metrics[:3] if row[m]["inside"] is not None]
    return {
        "replications": replications,
        "total": total,
        "intervals": rows,
        "share_inside": round(sum(inside) / len(inside), 3) if inside else None,
    }


def _cell(live: float, sims: np.ndarray) -> dict[str, Any]:
    """Live beside the prediction's mean and 95 % half-width over the simulated days."""
    mean, half = (float(np.ravel(x)[0]) for x in mean_ci(sims[:, None]))
    live_v = None if math.isnan(live) else float(live)
    m = None if math.isnan(mean) else mean
    h = None if math.isnan(half) else half
    inside = None if live_v is None or m is None or h is None else abs(live_v - m) <= h + 1e-9
    return {"live": live_v, "predicted": m, "ci95": h, "inside": inside}


def _endpoints(out: Path) -> list[dict[str, Any]]:
    """locust's per-endpoint latency table (ms), from its CSV."""
    import csv

    path = out / "locust_stats.csv"
    if not path.exists():
        return []
    rows = []
    with path.open() as f:
        for r in csv.DictReader(f):
            rows.append({
                "type": r["Type"], "name": r["Name"], "requests": int(r["Request Count"]),
                "failures": int(r["Failure Count"]), "p50_ms": _float(r["50%"]),
                "p95_ms": _float(r["95%"]), "p99_ms": _float(r["99%"]),
                "rps": _float(r["Requests/s"]),
            })  # fmt: skip
    return rows


def _time_to_offer(
    ledger: dict[str, list[dict[str, Any]]], acked: dict[int, Any], warmup_s: float
) -> dict[str, Any]:
    """Wall milliseconds from a call's planned time to its first offer reaching an agent,
    for calls that rang an agent as they arrived (no queueing): the routing path end to
    end, through the agent's long poll."""
    starts = [e["unix"] for e in ledger.get("start", [])]
    since = (min(starts) if starts else 0.0) + warmup_s  # after the agents' first logins
    first: dict[int, dict[str, Any]] = {}
    for o in ledger.get("offer", []):
        if o["call_id"] not in first or o["unix"] < first[o["call_id"]]["unix"]:
            first[o["call_id"]] = o
    ms = [
        (o["unix"] - acked[i]["due"]) * 1e3
        for i, o in first.items()
        if i in acked and acked[i]["status"] == "ringing"  # rang as it arrived
        and acked[i]["due"] >= since
    ]  # fmt: skip
    if not ms:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "p99_9": None}
    p50, p95, p99, p99_9 = np.percentile(ms, [50, 95, 99, 99.9])
    return {"n": len(ms), "p50": round(p50, 2), "p95": round(p95, 2), "p99": round(p99, 2),
            "p99_9": round(p99_9, 2)}  # fmt: skip


def _timeline(
    out: Path,
    ledger: dict[str, list[dict[str, Any]]],
    records: list[dict[str, Any]],
    speedup: float,
) -> dict[str, list[float | None]]:
    """The run over wall time, in bins of a second or more: calls placed per second,
    calls open, p50 and p95 of placing a call (locust's history of POST /v1/calls) and
    the time to offer's p95."""
    starts = [e["unix"] for e in ledger.get("start", [])]
    if not starts:
        return {}
    t0 = min(starts)
    calls = ledger.get("call", [])
    end = max([e["acked"] for e in calls] + [t0 + 1.0]) - t0
    step = max(1.0, math.ceil(end / 300))
    n = math.ceil(end / step) + 1
    placed = np.zeros(n)
    open_ = np.zeros(n + 1)
    by_id = {r["id"]: r for r in records}
    for e in calls:
        k = int((e["acked"] - t0) / step)
        placed[min(k, n - 1)] += 1 / step
        r = by_id.get(e["call_id"])
        if r is not None and r["end_s"] is not None:
            a = min(k, n)
            b = min(int((e["acked"] + (r["end_s"] - r["arrival_s"]) / speedup - t0) / step), n)
            open_[a] += 1
            open_[b] -= 1
    offers: list[list[float]] = [[] for _ in range(n)]
    due = {e["call_id"]: e for e in calls}
    for o in ledger.get("offer", []):
        c = due.get(o["call_id"])
        if c is not None and c["status"] == "ringing":
            offers[min(int((o["unix"] - t0) / step), n - 1)].append((o["unix"] - c["due"]) * 1e3)
    p50: list[float | None] = [None] * n
    p95: list[float | None] = [None] * n
    import csv

    history = out / "locust_stats_history.csv"
    if history.exists():
        with history.open() as f:
            for r in csv.DictReader(f):
                if (r["Type"], r["Name"]) != ("POST", "/v1/calls"):  # not the long polls
                    continue
                k = int((float(r["Timestamp"]) - t0) / step)
                if 0 <= k < n:
                    p50[k], p95[k] = _float(r["50%"]), _float(r["95%"])
    return {
        "step_s": [step],
        "calls_per_s": placed.round(3).tolist(),
        "open_calls": np.cumsum(open_[:n]).tolist(),
        "p50_ms": p50,
        "p95_ms": p95,
        "time_to_offer_p95_ms": [float(np.percentile(x, 95)) if x else None for x in offers],
    }


def _float(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None
