"""The live service's speed, as the engineer load-testing it sees it (not a timed test):

- ``POST /v1/calls`` with routing, the key check and a committed SQLite transaction per
  call, against a bare FastAPI endpoint taking the same request model, both on uvicorn,
  each pinned to one core while wrk runs on the other, in the same run (goal: >= 0.5x,
  aim 0.8x);
- the event loop's timer lag (p99, sampled by the service every 50 ms) with 1,000
  logged-in agents and 5,000 waiting calls while wrk keeps posting calls (goal < 10 ms).

Run: ``pytest benchmarks/test_live_service.py --benchmark-only -s`` (needs wrk).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

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
    return ["taskset", "-c", str(core)] if shutil.which("taskset") and os.cpu_count() else []


def wrk(url: str, script: Path, seconds: int = 5) -> float:
    out = subprocess.run(
        [*pinned(0), "wrk", "-t1", "-c32", f"-d{seconds}s", "-s", str(script), f"{url}/v1/calls"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert non2xx is None, out
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


@pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)"
)
def test_post_calls_against_a_bare_endpoint(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenario = tmp_path / "bench.yaml"
    scenario.write_text(SCENARIO)
    script = tmp_path / "post.lua"
    script.write_text(LUA % ADMIN)
    result: dict[str, float] = {}

    def run() -> None:
        port = free_port()
        bare = subprocess.Popen(
            [*pinned(1), sys.executable, "-m", "uvicorn", "benchmarks.bare_app:app",
             "--port", str(port), "--log-level", "warning", "--no-access-log"], cwd=ROOT,
        )  # fmt: skip
        try:
            _wait(f"http://127.0.0.1:{port}/docs")
            wrk(f"http://127.0.0.1:{port}", script, 1)  # warm-up
            result["bare_rps"] = wrk(f"http://127.0.0.1:{port}", script)
        finally:
            bare.terminate()
            bare.wait()
        server = Server(scenario, str(tmp_path / "bench.db"), 1.0, prefix=pinned(1))
        try:
            wrk(server.url, script, 1)
            result["live_rps"] = wrk(server.url, script)
            # 1,000 agents logged in and busy, thousands of calls waiting, wrk posting more
            for i in range(1, 1001):
                server.ok("POST", f"/v1/agents/desk-{i}/login")
            wrk(server.url, script, 3)
            health = server.ok("GET", "/healthz")
            result["calls_open"] = health["calls_open"]
            result["lag_p99_ms"] = health["timer_lag_ms"]["p99"]
            result["lag_max_ms"] = health["timer_lag_ms"]["max"]
        finally:
            server.stop()

    benchmark.pedantic(run, rounds=1, iterations=1)
    ratio = result["live_rps"] / result["bare_rps"]
    benchmark.extra_info.update(result, ratio=ratio)
    print(
        f"\nPOST /v1/calls: live {result['live_rps']:.0f}/s, bare {result['bare_rps']:.0f}/s, "
        f"ratio {ratio:.2f}; timer lag p99 {result['lag_p99_ms']:.2f} ms "
        f"(max {result['lag_max_ms']:.1f}) with {result['calls_open']} calls open"
    )
    # the goals (>= 0.5x, p99 < 10 ms) are reported, not asserted: docs/live.md keeps
    # the measured numbers and what is left to reach them
    assert result["calls_open"] >= 5000


def _wait(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer in 30 s")
