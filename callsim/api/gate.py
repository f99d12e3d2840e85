"""The body gate: what every HTTP request passes (an ASGI middleware).

A body over ``MAX_BODY`` bytes, declared or streamed, is refused with 413; a response
waits until the changes staged so far have committed (the service commits each turn of
the event loop in one transaction), so a 2xx means durable; if that commit fails, the
answer is 503 instead.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callsim.api.models import unstorable
from callsim.errors import CallsimError
from callsim.live.service import Service

MAX_BODY = 64 * 1024  # bytes: a request body beyond it is refused with 413
log = logging.getLogger("callsim.api")


class Gate:
    """The body limit and the wait for durability, around the whole application."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
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
    body = json.dumps({"error": error, "field": field, "message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
