"""A real ``callsim serve`` on loopback for tests: a free port, a temporary database, the
admin key from the environment; stopped with SIGTERM (or killed, to test crashes)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
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


class Server:
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
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"callsim serve exited: {self.proc.stderr.read()}")  # type: ignore[union-attr]
            try:
                if self.http.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError("callsim serve did not start in 30 s")
            time.sleep(0.05)

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
