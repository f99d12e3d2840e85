"""Another process holding SQLite's write lock (issue 29): the service's event loop keeps
serving. A real SQLite file, a real second process in ``BEGIN EXCLUSIVE`` and a real
uvicorn (``clocked``): while the lock is held ``/healthz`` and ``GET /v1/calls`` answer
fast, a write answers 503 with no effect or kept, and once the lock goes every write is
stored again, the kept ones once, and an event stream followed across the lock gets
their events."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.live_server import ADMIN, clocked
from tests.test_live_service import DENTAL, SCENARIO

pytestmark = [pytest.mark.slow, pytest.mark.live]

FAST_S = 0.5  # an answer during the lock (it took the busy time-out, 5 s, before)

HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


@contextmanager
def locked(path: str) -> Iterator[None]:
    """A second process holds the database's write lock until the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, path],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        yield
    finally:
        proc.communicate("\n", timeout=10)


def timed(s, method: str, path: str, **kw):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    r = s.call(method, path, **kw)
    return r, time.perf_counter() - start


def test_a_write_lock_held_elsewhere_stalls_no_client(tmp_path: Path) -> None:
    scenario = tmp_path / "live.yaml"
    scenario.write_text(SCENARIO.replace('    own_numbers_note: ""\n', ""))
    db = str(tmp_path / "live.db")
    with clocked(scenario, db) as s:
        before = s.ok("POST", "/v1/calls", json={"ani": "+4790000001", "dnis": DENTAL})
        streamed: list[str] = []  # an event stream followed across the lock

        def follow() -> None:
            with httpx.stream("GET", f"{s.url}/v1/events", timeout=60,
                              headers={"Authorization": f"Bearer {ADMIN}"}) as r:  # fmt: skip
                for line in r.iter_lines():
                    streamed.append(line)
                    if "+4790000010" in line:  # the kept call: the stream has done its part
                        return

        threading.Thread(target=follow, daemon=True).start()
        deadline = time.monotonic() + 10
        while s.ok("GET", "/healthz")["event_readers"] == 0:
            assert time.monotonic() < deadline
        with locked(db):
            took = []
            answers = []
            for i in range(3):
                r, t = timed(
                    s, "POST", "/v1/calls", json={"ani": f"+479000001{i}", "dnis": DENTAL},
                    headers={"Idempotency-Key": f"lock-{i}"},
                )  # fmt: skip
                took.append(t)
                answers.append(r)
                assert r.status_code == 503, r.text
                health, t = timed(s, "GET", "/healthz")
                took.append(t)
                assert health.status_code == 200
                assert health.json()["database"] == "out"
                calls, t = timed(s, "GET", "/v1/calls")
                took.append(t)
                assert calls.status_code in (200, 503), calls.text
            assert max(took) < FAST_S, took
        # the lock is gone: within a retry or two every write goes through again
        deadline = time.monotonic() + 10
        while (r := s.call("GET", "/healthz")).json()["database"] != "ok" or (
            s.call("GET", "/v1/calls").status_code != 200
        ):
            assert time.monotonic() < deadline, r.text
            time.sleep(0.1)
        after = s.ok("POST", "/v1/calls", json={"ani": "+4790000002", "dnis": DENTAL})
        for i in range(3):  # a retry with its key: the first answer, or the change once
            s.ok(
                "POST", "/v1/calls", json={"ani": f"+479000001{i}", "dnis": DENTAL},
                headers={"Idempotency-Key": f"lock-{i}"},
            )  # fmt: skip
        anis = [c["ani"] for c in s.ok("GET", "/v1/calls")]
        # the stream followed all along gets the kept call's events once it is stored
        deadline = time.monotonic() + 10
        while not any("+4790000010" in line for line in streamed):
            assert time.monotonic() < deadline, streamed[-5:]
            time.sleep(0.05)
        assert before["ani"] in anis
        assert after["ani"] in anis
        for i in range(3):
            assert anis.count(f"+479000001{i}") == 1, anis
