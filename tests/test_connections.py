"""Peers that do not keep up, against a real ``callsim serve`` over real sockets: a
connection that sends nothing, a request sent a byte at a time (headers or body), an idle
keep-alive connection and an answer nobody reads are cut after their bounds
(``callsim.api.gate``); an event stream and a long poll, longer than any bound, are not;
and the other clients are served all along."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from callsim.api.gate import KEEP_ALIVE_S, REQUEST_S, STALL_S
from tests.live_server import ADMIN, serving
from tests.test_live_service import DENTAL, answer, scenario

pytestmark = [pytest.mark.slow, pytest.mark.live]
__all__ = ["scenario"]  # the fixture, shared

SLACK_S = 2.0  # how late a cut may come on a busy 2-core machine


def _closed_at(sock: socket.socket, closed: dict[str, float], name: str) -> None:
    """Read (and drop) what the server sends until it closes; note when."""
    sock.settimeout(120)
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass
    closed[name] = time.monotonic()
    sock.close()


def _trickle(sock: socket.socket, data: bytes, every_s: float) -> None:
    """Send ``data`` a byte at a time until it is all sent or the server hangs up."""
    try:
        for i in range(len(data)):
            sock.sendall(data[i : i + 1])
            time.sleep(every_s)
    except OSError:
        pass


def test_peers_that_do_not_keep_up_are_cut_and_the_rest_are_served(
    scenario: Path, tmp_path: Path
) -> None:
    with serving(scenario, str(tmp_path / "live.db")) as s:
        k1, k2 = s.key("agent", agent="desk-1"), s.key("agent", agent="desk-2")
        s.ok("POST", "/v1/agents/desk-1/login", k1)
        call = s.ok("POST", "/v1/calls", json={"ani": "+4790000701", "dnis": DENTAL})
        answer(s, "desk-1", k1)
        s.ok("POST", "/v1/agents/desk-2/login", k2, json={"paused_reason": "lunch"})
        auth = f"Authorization: Bearer {ADMIN}\r\n".encode()
        closed: dict[str, float] = {}
        watchers: list[threading.Thread] = []

        def watch(name: str, sock: socket.socket) -> None:
            t = threading.Thread(target=_closed_at, args=(sock, closed, name), daemon=True)
            t.start()
            watchers.append(t)

        opened = time.monotonic()
        silent = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(50)]
        for i, sock in enumerate(silent):
            watch(f"silent-{i}", sock)
        slow_head = socket.create_connection(("127.0.0.1", s.port))
        watch("slow-head", slow_head)
        body = b'{"ani": "+4790000702", "dnis": "+47 21 50 11 27"}'
        head = b"POST /v1/calls HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + auth
        slow_body = socket.create_connection(("127.0.0.1", s.port))
        slow_body.sendall(head + f"Content-Length: {len(body)}\r\n\r\n".encode())
        watch("slow-body", slow_body)
        trickles = [
            threading.Thread(target=_trickle, args=(slow_head, head, 0.2), daemon=True),
            threading.Thread(target=_trickle, args=(slow_body, body, 0.5), daemon=True),
        ]
        for t in trickles:
            t.start()
        idle = socket.create_connection(("127.0.0.1", s.port))
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert idle.recv(65536).startswith(b"HTTP/1.1 200")
        answered = time.monotonic()
        watch("keep-alive", idle)
        # a reader that stops reading: a small window and 6 MB of events it never takes
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", s.port))
        stalled.sendall(b"GET /v1/events HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n")
        # a reader that keeps reading, and a long poll: both longer than any bound
        drafts: list[str] = []
        poll: dict[str, object] = {}

        def follow() -> None:
            with httpx.stream("GET", f"{s.url}/v1/events", timeout=120,
                              headers={"Authorization": f"Bearer {ADMIN}"}) as r:  # fmt: skip
                for line in r.iter_lines():
                    if line == "event: note_draft":
                        drafts.append(line)

        def long_poll() -> None:
            start = time.monotonic()
            r = httpx.get(f"{s.url}/v1/agents/desk-2/offers", params={"wait_s": REQUEST_S + 4},
                          headers={"Authorization": f"Bearer {k2}"}, timeout=120)  # fmt: skip
            poll.update(status=r.status_code, body=r.json(), took=time.monotonic() - start)

        readers = [threading.Thread(target=f, daemon=True) for f in (follow, long_poll)]
        for t in readers:
            t.start()
        deadline = time.monotonic() + 10
        while s.ok("GET", "/healthz")["event_readers"] < 2:
            assert time.monotonic() < deadline
        pumped = time.monotonic()
        n = 600
        for _ in range(n):
            s.ok("PUT", f"/v1/calls/{call['call_id']}/draft", k1, json={"text": "x" * 10_000})
        pumped_until = time.monotonic()
        # the others are served all along
        slowest = 0.0
        while time.monotonic() < opened + REQUEST_S + SLACK_S + 1:
            start = time.monotonic()
            assert s.ok("GET", "/healthz")["status"] == "ok"
            slowest = max(slowest, time.monotonic() - start)
            time.sleep(0.1)
        assert slowest < 1.0, slowest
        for t in readers[1:]:
            t.join(timeout=30)
        assert (poll["status"], poll["body"]) == (200, [])  # it waited its wait_s out
        assert REQUEST_S + 4 <= poll["took"] < REQUEST_S + 4 + SLACK_S, poll  # type: ignore[operator]
        # the stalled reader is cut STALL_S after its answer stopped draining (it is not
        # read here before: reading would let it drain)
        while s.ok("GET", "/healthz")["event_readers"] == 2:
            assert time.monotonic() < pumped_until + STALL_S + 10, "the stalled reader stays"
            time.sleep(0.1)
        closed["stalled"] = time.monotonic()
        stalled.settimeout(10)
        while stalled.recv(65536):  # what was sent before the cut, then the end
            pass
        stalled.close()
        for t in watchers:
            t.join(timeout=5)
        s.ok("PUT", f"/v1/calls/{call['call_id']}/draft", k1, json={"text": "last"})
        deadline = time.monotonic() + 10
        while len(drafts) < n + 1:  # the reader that kept reading got every draft
            assert time.monotonic() < deadline, len(drafts)
            time.sleep(0.05)
        health = s.ok("GET", "/healthz")
        assert health["event_readers"] == 1  # the stalled one is gone, the other stays
        calls = s.ok("GET", "/v1/calls")
        assert [c["call_id"] for c in calls] == [call["call_id"]]  # the trickled POST: none
    for i in range(len(silent)):
        assert REQUEST_S <= closed[f"silent-{i}"] - opened < REQUEST_S + SLACK_S, closed
    for name in ("slow-head", "slow-body"):
        assert REQUEST_S <= closed[name] - opened < REQUEST_S + SLACK_S, (name, closed)
    assert KEEP_ALIVE_S <= closed["keep-alive"] - answered < KEEP_ALIVE_S + SLACK_S, closed
    assert pumped + STALL_S <= closed["stalled"] < pumped_until + STALL_S + SLACK_S, (
        closed["stalled"] - pumped, pumped_until - pumped,
    )  # fmt: skip


def test_sigterm_with_a_reader_that_stopped_reading_exits_at_once(
    scenario: Path, tmp_path: Path
) -> None:
    """The stalled reader's last write never drained: uvicorn waited its graceful
    time-out (SHUTDOWN_S, 10 s) for it, then cancelled the task with a traceback."""
    with serving(scenario, str(tmp_path / "live.db")) as s:
        key = s.key("agent", agent="desk-1")
        s.ok("POST", "/v1/agents/desk-1/login", key)
        call = s.ok("POST", "/v1/calls", json={"ani": "+4790000711", "dnis": DENTAL})
        answer(s, "desk-1", key)
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", s.port))
        stalled.sendall(
            f"GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\n\r\n".encode()
        )
        deadline = time.monotonic() + 10
        while s.ok("GET", "/healthz")["event_readers"] == 0:
            assert time.monotonic() < deadline
        for _ in range(600):  # 6 MB unread: more than the kernel holds for it
            s.ok("PUT", f"/v1/calls/{call['call_id']}/draft", key, json={"text": "x" * 10_000})
        start = time.monotonic()
        err = s.stop()
        took = time.monotonic() - start
        stalled.close()
    assert s.proc.returncode == 0, err
    assert "Traceback" not in err, err
    assert took < 3, took


def test_a_request_that_is_no_http_gets_the_one_error_shape(scenario: Path, tmp_path: Path) -> None:
    """A NUL in a header, or headers over h11's 16 KiB before their end: 400 in the documented error
    shape (uvicorn answered in plain text), the connection closed."""
    with serving(scenario, str(tmp_path / "live.db")) as s:
        for request in (
            b"GET /v1/calls HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n",
            b"GET /v1/calls HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 20_000,  # never ends
        ):
            with socket.create_connection(("127.0.0.1", s.port), timeout=15) as raw:
                raw.sendall(request)
                got = b""
                while chunk := raw.recv(65536):
                    got += chunk
            head, _, body = got.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 400 "), head
            assert b"content-type: application/json" in head.lower(), head
            assert json.loads(body) == {
                "error": "BadRequest", "field": None, "message": "Invalid HTTP request received.",
            }  # fmt: skip
        assert s.ok("GET", "/healthz")["status"] == "ok"
