"""A real ``callsim serve`` on loopback for tests: a free port, a temporary database, the
admin key from the environment; stopped with SIGTERM (or killed, to test crashes).

``clocked`` serves the same application in this process (a real uvicorn on loopback, a
real database) on a clock the test advances by hand: ring time-outs and wrap-ups come
when the test says, never after a wall-clock sleep."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ADMIN = "test-admin-key"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Client:
    """The HTTP side of a test server: requests with a key, answers checked."""

    url: str
    http: httpx.Client

    def call(self, method: str, path: str, key: str | None = ADMIN, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return self.http.request(method, path, headers=headers, **kw)

    def ok(self, method: str, path: str, key: str | None = ADMIN, **kw: Any) -> Any:
        r = self.call(method, path, key, **kw)
        assert r.status_code < 300, (method, path, r.status_code, r.text)
        return r.json()

    def key(self, role: str, **binding: str) -> str:
        return str(self.ok("POST", "/v1/keys", json={"role": role, **binding})["key"])

    def wait_healthy(self, alive: Any, deadline_s: float = 30) -> None:
        deadline = time.monotonic() + deadline_s
        while True:
            alive()
            try:
                if self.http.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start in {deadline_s:g} s")
            time.sleep(0.05)


class Server(Client):
    def __init__(
        self, scenario: Path, db: str, speedup: float, prefix: list[str] | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "CALLSIM_ADMIN_KEY": ADMIN}
        self.proc = subprocess.Popen(
            [*(prefix or []), sys.executable, "-m", "callsim", "serve", "--scenario", str(scenario), "--db", db,
             "--port", str(self.port), "--speedup", str(speedup)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.http = httpx.Client(base_url=self.url, timeout=30.0)

        def alive() -> None:
            if self.proc.poll() is not None:
                raise RuntimeError(f"callsim serve exited: {self.proc.stderr.read()}")  # type: ignore[union-attr]

        try:
            self.wait_healthy(alive)
        except RuntimeError:
            self.proc.kill()
            raise

    def stop(self) -> str:
        """SIGTERM: the graceful shutdown. Returns what the server wrote on stderr."""
        self.http.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return str(err)

    def kill(self) -> None:
        """kill -9: no shutdown at all."""
        self.http.close()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate()  # reaps it and closes the pipes


@contextmanager
def serving(scenario: Path, db: str, speedup: float = 1.0) -> Iterator[Server]:
    server = Server(scenario, db, speedup)
    try:
        yield server
    finally:
        if server.proc.poll() is None:
            server.stop()


class Clocked(Client):
    """``create_app`` under a real uvicorn in a thread of this process, its timers on a
    clock that moves only when ``advance`` says (scenario seconds; speedup 1)."""

    def __init__(self, scenario: Path, db: str) -> None:
        import uvicorn

        from callsim.api.app import create_app

        self.now_s = 0.0
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(scenario, db, clock=lambda: self.now_s)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.http = httpx.Client(base_url=self.url, timeout=30.0)

        def alive() -> None:
            if not self.thread.is_alive():
                raise RuntimeError("the in-process server stopped")

        before = os.environ.get("CALLSIM_ADMIN_KEY")
        os.environ["CALLSIM_ADMIN_KEY"] = ADMIN  # read as the server starts
        try:
            self.thread.start()
            self.wait_healthy(alive)
        finally:
            if before is None:
                del os.environ["CALLSIM_ADMIN_KEY"]
            else:
                os.environ["CALLSIM_ADMIN_KEY"] = before

    def advance(self, seconds: float) -> None:
        """Move the centre's clock on by ``seconds`` and feed it every timer now due, on
        its event loop; returns once that turn (and its commit) is done."""
        centre = self.app.state.callsim["service"].centre

        async def step() -> None:
            self.now_s += seconds
            centre.due()
            await asyncio.sleep(0)  # the turn's group commit runs before the next request

        asyncio.run_coroutine_threadsafe(step(), centre.loop).result(timeout=30)

    def stop(self) -> None:
        self.http.close()
        self.server.should_exit = True
        self.thread.join(timeout=30)


@contextmanager
def clocked(scenario: Path, db: str) -> Iterator[Clocked]:
    server = Clocked(scenario, db)
    try:
        yield server
    finally:
        server.stop()
