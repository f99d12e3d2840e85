"""The gate: what every connection and HTTP request passes.

``Gate`` (an ASGI middleware): a body over ``MAX_BODY`` bytes, declared or streamed, is
refused with 413; a response waits until the changes staged so far have committed (the
service commits each turn of the event loop in one transaction), so a 2xx means durable;
if that commit fails, the answer is 503 instead. ``/healthz`` changes nothing and waits
for no commit (in an outage it says so in a 200).

``Protocol`` (uvicorn's HTTP/1.1 protocol, what ``serve`` runs): a peer that does not keep
up is cut. A request, headers and body, must arrive whole within ``REQUEST_S`` of the
connection opening or of the previous answer (a connection that sends nothing, or a
request sent a byte at a time, is closed then); an idle keep-alive connection is closed
after ``KEEP_ALIVE_S``; an answer its client stops reading is cut after ``STALL_S``
with nothing taken. What comes after a whole request (an event stream, a long poll) has
no bound of its own.
"""

from __future__ import annotations

import asyncio
import json
import logging

import h11
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from callsim.api.models import unstorable
from callsim.errors import CallsimError
from callsim.live.service import Service

MAX_BODY = 64 * 1024  # bytes: a request body beyond it is refused with 413
REQUEST_S = 10.0  # a request (headers and body) arrives whole within it, or is cut
KEEP_ALIVE_S = 5  # an idle keep-alive connection is closed after it (uvicorn's timer)
STALL_S = 30.0  # an answer its client has stopped reading is cut after it
log = logging.getLogger("callsim.api")


class Gate:
    """The body limit and the wait for durability, around the whole application."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/healthz":
            # (health changes nothing: it waits for no commit, and an outage is in its
            # answer, not a 503 of it)
            await self.app(scope, receive, send)
            return
        if unstorable(scope["path"]) or b"%00" in scope["query_string"]:
            await _answer(send, 422, "InputError", "the path or query has a NUL character or "
                          "a lone surrogate, which cannot be stored", field="path")  # fmt: skip
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            await _too_large(send)
            return
        service: Service = scope["app"].state.callsim["service"]
        failed = False
        if declared is None:  # a streamed (chunked) body: read it whole first, at most
            # MAX_BODY bytes, so one too long is a 413 (the framework would say 400)
            body: list[Message] = []
            seen = 0
            while True:
                message = await receive()
                body.append(message)
                seen += len(message.get("body", b""))
                if seen > MAX_BODY:
                    await _too_large(send)
                    return
                if message["type"] != "http.request" or not message.get("more_body"):
                    break
            replay = iter(body)

            async def replayed() -> Message:
                return next(replay, None) or await receive()

        async def settled(message: Message) -> None:
            nonlocal failed
            if message["type"] == "http.response.start" and message["status"] < 400:
                # (a refusal changed nothing: it has nothing to wait for)
                try:
                    await service.settled()
                except Exception as exc:
                    failed = True
                    # the reason goes to the server's log; the client learns no SQL
                    log.error("a commit failed: %s", exc.__cause__ or exc)
                    if isinstance(exc, CallsimError):
                        await _answer(send, exc.http_status, type(exc).__name__, str(exc))
                    else:
                        await _answer(send, 503, "StoreError", "the change was not saved")
                    return
            if not failed:
                await send(message)

        await self.app(scope, receive if declared is not None else replayed, settled)


async def _too_large(send: Send) -> None:
    await _answer(send, 413, "BodyTooLarge", f"the body is over {MAX_BODY} bytes")


async def _answer(
    send: Send, status: int, error: str, message: str, field: str | None = None
) -> None:
    """An error answer in the one JSON shape, sent from an ASGI middleware."""
    body = _shape(error, message, field)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _shape(error: str, message: str, field: str | None = None) -> bytes:
    return json.dumps({"error": error, "field": field, "message": message}).encode()


class Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with one deadline per connection: ``REQUEST_S`` while
    the peer owes a request (from the connection's start or the last answer until the
    request is whole), ``STALL_S`` while the transport holds more unread answer than it
    takes (uvicorn's write pause); none otherwise. At the deadline the connection is
    cut (its handler gets a disconnect). A request that is no HTTP is a 400 in the one
    error shape."""

    deadline: asyncio.TimerHandle | None = None
    waiting_for: str = ""  # "request" or "reader": what the armed deadline waits for

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def pause_writing(self) -> None:
        super().pause_writing()
        self._watch()

    def resume_writing(self) -> None:
        super().resume_writing()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._arm("", 0.0)
        super().connection_lost(exc)

    def shutdown(self) -> None:
        """The server stops: an answer nobody reads would hold the exit (to uvicorn's
        graceful time-out, its task then cancelled with a traceback): cut it now."""
        if self.flow.write_paused:
            self._cut()
        else:
            super().shutdown()

    def send_400_response(self, msg: str) -> None:
        """A request HTTP/1.1 cannot parse (a NUL in a header, a line too long): the
        one error shape too (uvicorn answered in plain text), then the connection ends."""
        body = _shape("BadRequest", msg)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        answer = (h11.Response(status_code=400, headers=headers), h11.Data(data=body))
        for event in (*answer, h11.EndOfMessage()):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()

    def _watch(self) -> None:
        if self.transport.is_closing():
            self._arm("", 0.0)
        elif self.flow.write_paused:
            self._arm("reader", STALL_S)
        elif self.conn.their_state is h11.IDLE or self.conn.their_state is h11.SEND_BODY:
            self._arm("request", REQUEST_S)
        else:
            self._arm("", 0.0)

    def _arm(self, waiting_for: str, seconds: float) -> None:
        """A deadline for ``waiting_for`` (kept if already armed for it); "" for none."""
        if waiting_for == self.waiting_for:
            return
        if self.deadline is not None:
            self.deadline.cancel()
        self.waiting_for = waiting_for
        self.deadline = self.loop.call_later(seconds, self._cut) if waiting_for else None

    def _cut(self) -> None:
        """Close at once, dropping what is unsent (``close`` would wait for the peer to
        take it): the handler sees the disconnect now."""
        self.deadline, self.waiting_for = None, ""
        self.transport.abort()
