"""The live service's speed, as the engineer load-testing it sees it (not a timed test):

- ``POST /v1/calls`` with routing, the key check and durable SQLite storage (a 201 leaves
  only after its transaction committed), against a bare FastAPI endpoint taking the same
  request model, both on uvicorn pinned to one core while wrk (32 connections) runs on
  the other; five alternating rounds in the same run, medians compared (goal: 0.8x,
  issue 29; 0.5x met);
- the event loop's timer lag (p99 and maximum, sampled by the service every 50 ms) with
  1,000 logged-in agents ringing and more than 5,000 calls waiting, under a steady load
  of 150 new calls a second (goal: p99 < 10 ms);
- the time to offer with a large centre's roster: 20,000 agents logged in, 20 calls a
  second, each answered and completed, a supervisor's wallboard refreshed every 2 s and
  the event stream followed (goal: p99 < 50 ms; p99.9 reported). Untimed (the suite's
  check): 2,000 agents for 5 s.

Run: ``pytest benchmarks/test_live_service.py --benchmark-only --benchmark-enable -s`` (needs wrk).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy
import pytest

from benchmarks.conftest import timed
from tests.live_server import ADMIN, ROOT, Server, free_port

DENTAL = "+47 21 50 11 27"
SCENARIO = """
name: live-bench
horizon: {start: "00:00", end: "24:00", interval_min: 30}
routing: {strategy: longest_idle, ring_timeout_s: 15}
queues:
  - {name: reception, skills: [norwegian]}
agents:
  - {name: desk, count: 1000, skills: [norwegian]}
clients:
  - name: Fjord Dental
    numbers: ["+47 21 50 11 27"]
    queue: reception
    arrivals: {per_hour: 10}
"""
LUA = """
wrk.method = "POST"
wrk.body = '{"ani": "+4790000001", "dnis": "+47 21 50 11 27"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""


def pinned(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") else []


def wrk(url: str, script: Path, seconds: int = 3) -> float:
    out = subprocess.run(
        [*pinned(0), "wrk", "-t1", "-c32", f"-d{seconds}s", "-s", str(script), f"{url}/v1/calls"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert non2xx is None, out
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


pytestmark = [pytest.mark.slow, pytest.mark.live]  # real servers, as the tests' live suites

NEEDS_WRK = pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)"
)


@NEEDS_WRK
def test_post_calls_against_a_bare_endpoint(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenario = tmp_path / "bench.yaml"
    scenario.write_text(SCENARIO)
    script = tmp_path / "post.lua"
    script.write_text(LUA % ADMIN)
    result: dict[str, float] = {}

    def run() -> None:
        port = free_port()
        bare_url = f"http://127.0.0.1:{port}"
        bare = subprocess.Popen(
            [*pinned(1), sys.executable, "-m", "uvicorn", "benchmarks.bare_app:app",
             "--port", str(port), "--log-level", "warning", "--no-access-log"], cwd=ROOT,
        )  # fmt: skip
        server = Server(scenario, str(tmp_path / "bench.db"), 1.0, prefix=pinned(1))
        try:
            _wait(f"{bare_url}/docs")
            wrk(bare_url, script, 1)  # warm-up
            wrk(server.url, script, 1)
            rps: dict[str, list[float]] = {"bare": [], "live": []}
            cpu_us: dict[str, list[float]] = {"bare": [], "live": []}  # the server's, a request
            rounds, seconds = (5, 3) if timed(benchmark) else (1, 1)  # untimed: a check
            for _ in range(rounds):  # alternating: the machine's drift hits both alike
                for name, url, pid in (("bare", bare_url, bare.pid),
                                       ("live", server.url, server.proc.pid)):  # fmt: skip
                    cpu_start = _cpu_s(pid)
                    rps[name].append(wrk(url, script, seconds))
                    spent = _cpu_s(pid) - cpu_start
                    cpu_us[name].append(1e6 * spent / (rps[name][-1] * seconds))
            for name, measured in rps.items():
                result[f"{name}_rps"] = statistics.median(measured)
                result[f"{name}_cpu_us"] = statistics.median(cpu_us[name])
        finally:
            bare.terminate()
            bare.wait()
            server.stop()

    benchmark.pedantic(run, rounds=1, iterations=1)
    ratio = result["live_rps"] / result["bare_rps"]
    cpu_ratio = result["bare_cpu_us"] / result["live_cpu_us"]  # steadier on a busy machine
    benchmark.extra_info.update(result, ratio=ratio, cpu_ratio=cpu_ratio)
    print(
        f"\nPOST /v1/calls: live {result['live_rps']:.0f}/s, bare {result['bare_rps']:.0f}/s, "
        f"ratio {ratio:.2f} (goal >= 0.8); server CPU a request: live "
        f"{result['live_cpu_us']:.0f} us, bare {result['bare_cpu_us']:.0f} us ({cpu_ratio:.2f}x)"
    )
    if timed(benchmark):
        assert ratio > 0.2  # a guard against a collapse; the goal is reported, as measured


def test_timer_lag_with_1000_agents_and_5000_waiting(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenario = tmp_path / "bench.yaml"
    scenario.write_text(SCENARIO)
    result: dict[str, float] = {}

    def run() -> None:
        server = Server(scenario, str(tmp_path / "lag.db"), 1.0, prefix=pinned(1))
        try:
            for i in range(1, 1001):
                server.ok("POST", f"/v1/agents/desk-{i}/login")
            # a steady load for a minute (the window the service's lag percentiles cover):
            # every agent rings, the queue grows past 5,000
            asyncio.run(_paced(server.url, per_s=150, seconds=60 if timed(benchmark) else 10))
            health = server.ok("GET", "/healthz")
            result["calls_open"] = health["calls_open"]
            result["lag_p99_ms"] = health["timer_lag_ms"]["p99"]
            result["lag_max_ms"] = health["timer_lag_ms"]["max"]
        finally:
            server.stop()

    benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    print(
        f"\ntimer lag at 150 calls/s with 1,000 agents and {result['calls_open']} calls open: "
        f"p99 {result['lag_p99_ms']:.2f} ms, max {result['lag_max_ms']:.1f} ms (goal p99 < 10)"
    )
    assert result["calls_open"] >= (5000 if timed(benchmark) else 1000)


def test_time_to_offer_with_20000_agents(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rosters = (1_000, 20_000) if timed(benchmark) else (200, 2_000)
    seconds = 60 if timed(benchmark) else 5
    result: dict[str, Any] = {}

    def run() -> None:
        for agents in rosters:
            scenario = tmp_path / f"roster-{agents}.yaml"
            scenario.write_text(SCENARIO.replace("count: 1000", f"count: {agents}"))
            server = Server(scenario, str(tmp_path / f"roster-{agents}.db"), 1.0,
                            prefix=pinned(1))  # fmt: skip
            try:
                pid = server.proc.pid
                work = _centre(server.url, agents, 20.0, seconds, lambda: _cpu_s(pid))  # noqa: B023
                ms, events, cpu_s = asyncio.run(_on_core0(work))
                health = server.ok("GET", "/healthz")
            finally:
                server.stop()
            p50, p99, p99_9 = (float(x) for x in numpy.percentile(ms, [50, 99, 99.9]))
            result[str(agents)] = {
                "calls": len(ms), "events": events, "p50_ms": p50, "p99_ms": p99,
                "p99_9_ms": p99_9, "cpu_ms_per_call": 1e3 * cpu_s / (20.0 * seconds),
                "lag_p99_ms": health["timer_lag_ms"]["p99"],
                "lag_max_ms": health["timer_lag_ms"]["max"],
            }  # fmt: skip

    benchmark.pedantic(run, rounds=1, iterations=1)
    small, large = (result[str(n)] for n in rosters)
    growth = large["cpu_ms_per_call"] / small["cpu_ms_per_call"]
    benchmark.extra_info.update(result, cpu_growth=growth)
    for n in rosters:
        r = result[str(n)]
        print(
            f"\ntime to offer, {n:,} agents at 20 calls/s, wallboard and event stream: p50 "
            f"{r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, p99.9 {r['p99_9_ms']:.1f} ms "
            f"({r['calls']} calls; goal p99 < 50); server CPU {r['cpu_ms_per_call']:.2f} ms a "
            f"call; timer lag p99 {r['lag_p99_ms']:.1f} ms, max {r['lag_max_ms']:.1f} ms"
        )
    print(f"server CPU a call, {rosters[1]:,} vs {rosters[0]:,} agents: {growth:.2f}x")
    assert small["events"] > 0
    assert large["calls"] > 0
    if timed(benchmark):  # the goal (p99 < 50 ms) is reported as measured: the time to
        # offer is the machine's as much as the service's; the work a call costs is not
        assert growth < 2.0  # per-call work must not grow with the roster (20x here)


def _cpu_s(pid: int) -> float:
    """The CPU seconds (user and system) process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _on_core0(work: Any) -> Any:
    """Run ``work`` with this process on core 0 (the server has core 1), then unpin."""
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_setaffinity") else None
    if cores is not None:
        os.sched_setaffinity(0, {0})
    try:
        return await work
    finally:
        if cores is not None:
            os.sched_setaffinity(0, cores)


async def _centre(
    url: str, agents: int, per_s: float, seconds: float, cpu: Any
) -> tuple[list[float], int, float]:
    """Every agent logs in; then calls come at ``per_s``, each accepted after 0.2 s and
    completed after 2 s, while a supervisor reads the wallboard every 2 s and follows
    the event stream. Returns the time to offer of each call that rang an agent as it
    arrived (sending ``POST /v1/calls`` to its 201, which leaves once the ring is
    committed and the agent's long poll woken), milliseconds; the events read; and the
    server's CPU seconds (``cpu()``) while the calls came."""
    headers = {"Authorization": f"Bearer {ADMIN}"}
    limits = httpx.Limits(max_connections=64, keepalive_expiry=3.0)  # uvicorn closes at 5 s
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30, limits=limits) as c:
        names = [f"desk-{i}" for i in range(1, agents + 1)]
        for k in range(0, agents, 64):
            done = await asyncio.gather(
                *(c.post(f"/v1/agents/{a}/login") for a in names[k : k + 64])
            )
            assert all(r.status_code == 200 for r in done)
        seen = [0]
        stop = asyncio.Event()

        async def follow() -> None:
            async with c.stream("GET", "/v1/events") as r:
                async for line in r.aiter_lines():
                    seen[0] += line.startswith("id: ")
                    if stop.is_set():
                        return

        async def wallboard() -> None:
            while not stop.is_set():
                assert (await c.get("/v1/stats/realtime")).status_code == 200
                await asyncio.sleep(2.0)

        ms: list[float] = []

        async def call(k: int) -> None:
            start = time.perf_counter()
            ani = f"+47{90_000_000 + k}"  # each call another caller (a caller's contact
            # row, written again at each of their calls, holds every call they made)
            r = await c.post("/v1/calls", json={"ani": ani, "dnis": DENTAL})
            assert r.status_code == 201, r.text
            view = r.json()
            if view["status"] != "ringing":
                return
            ms.append((time.perf_counter() - start) * 1e3)
            await asyncio.sleep(0.2)
            offer = view["offers"][-1]["offer_id"]
            if (await c.post(f"/v1/offers/{offer}/accept")).status_code == 200:
                await asyncio.sleep(2.0)
                done = await c.post(f"/v1/calls/{view['call_id']}/complete", json={"note": "ok"})
                assert done.status_code == 200, done.text

        watchers = [asyncio.ensure_future(follow()), asyncio.ensure_future(wallboard())]
        loop = asyncio.get_running_loop()
        begin = loop.time()
        cpu_start = cpu()
        calls = []
        for k in range(int(per_s * seconds)):
            await asyncio.sleep(max(begin + k / per_s - loop.time(), 0))
            calls.append(asyncio.ensure_future(call(k)))
        await asyncio.gather(*calls)
        cpu_s = cpu() - cpu_start
        stop.set()
        await c.get("/v1/queues")  # an event after the stop, so the follower sees it
        for w in watchers:
            w.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
    return ms, seen[0], cpu_s


async def _paced(url: str, per_s: float, seconds: float) -> None:
    """POST calls at a steady rate from this process, pinned to the other core (for
    this benchmark only: later ones in the session need every core)."""
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_setaffinity") else None
    if cores is not None:
        os.sched_setaffinity(0, {0})
    try:
        await _post_paced(url, per_s, seconds)
    finally:
        if cores is not None:
            os.sched_setaffinity(0, cores)


async def _post_paced(url: str, per_s: float, seconds: float) -> None:
    body = {"ani": "+4790000001", "dnis": DENTAL}
    headers = {"Authorization": f"Bearer {ADMIN}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        loop = asyncio.get_running_loop()
        start = loop.time()
        pending = set()
        for k in range(int(per_s * seconds)):
            await asyncio.sleep(max(start + k / per_s - loop.time(), 0))
            pending.add(asyncio.ensure_future(client.post("/v1/calls", json=body)))
            pending = {p for p in pending if not p.done()}
        for r in await asyncio.gather(*pending):
            assert r.status_code == 201, r.text


def _wait(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer in 30 s")
