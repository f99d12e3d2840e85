"""The live service over HTTP: FastAPI routes that check who asks, translate JSON to the
service's calls and back, and map errors to status codes. No routing or policy rule lives
here (``callsim.live.service`` calls the core for every decision).

``create_app(scenario_path, db_url)`` builds the application; its lifespan opens the
database, starts the service inside uvicorn's event loop and stops it on shutdown
(SIGTERM): open calls end ``interrupted`` and are recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi import Path as FastPath
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callsim.api.models import (
    CallIn,
    CompleteIn,
    ContactIn,
    DialResultIn,
    DraftIn,
    KeyIn,
    LoginIn,
    NumberIn,
    PauseIn,
    SkillsIn,
    TicketIn,
    TicketStatusIn,
    TransferIn,
)
from callsim.errors import CallsimError, InputError
from callsim.live.service import Service, create_key, dumps, json_bytes
from callsim.scenario import load_scenario
from callsim.store import Store, hash_key, tables

STATIC = Path(__file__).parent / "static"  # the desk's and wallboard's files
MAX_BODY = 64 * 1024  # bytes: a request body beyond it is refused with 413
ADMIN_KEY_ENV = "CALLSIM_ADMIN_KEY"
MAX_SPEEDUP = 10_000.0
MAX_ID = 2**53  # ids are 64-bit integers in the database; larger ones exist nowhere


@dataclass(frozen=True, slots=True)
class Principal:
    """Who sends a request: a key's id, role and binding."""

    key_id: int
    role: str
    agent: str | None
    client: str | None


class RefusedError(CallsimError):
    """A request without a valid key (401) or with a key whose role may not do it (403)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.http_status = status


def error_body(exc: CallsimError) -> dict[str, Any]:
    """The one JSON shape of every error: the error's class, field and message."""
    return {"error": type(exc).__name__, "field": exc.field, "message": str(exc)}


class Json(JSONResponse):
    """Every JSON answer, encoded by orjson (the answers are plain values: ``jsonable``)."""

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


class Gate:
    """What every HTTP request passes: a body over ``MAX_BODY`` bytes, declared or
    streamed, is refused with 413; a response waits until the changes staged so far have
    committed (the service commits each turn of the event loop in one transaction), so
    a 2xx means durable; if that commit fails, the answer is 503 instead."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            await _too_large(send)
            return
        service: Service = scope["app"].state.callsim["service"]
        seen = 0
        failed = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise _BodyTooLargeError
            return message

        async def settled(message: Message) -> None:
            nonlocal failed
            if message["type"] == "http.response.start":
                try:
                    await service.settled()
                except Exception as exc:
                    failed = True
                    await _answer(send, 503, "StoreError", f"the change was not saved: {exc}")
                    return
            if not failed:
                await send(message)

        try:
            await self.app(scope, limited, settled)
        except _BodyTooLargeError:
            await _too_large(send)


class _BodyTooLargeError(Exception):
    pass


async def _too_large(send: Send) -> None:
    await _answer(send, 413, "BodyTooLarge", f"the body is over {MAX_BODY} bytes")


async def _answer(send: Send, status: int, error: str, message: str) -> None:
    """An error answer in the one JSON shape, sent from an ASGI middleware."""
    body = json.dumps({"error": error, "field": None, "message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def principal(request: Request) -> Principal:
    """Who sends the request, by its ``Authorization: Bearer KEY`` (401 without one).
    The header is read here, not declared as a parameter: FastAPI's per-request handling
    of declared headers cost more than the routing; the OpenAPI schema declares it as
    the bearer scheme (``_openapi``)."""
    authorization = request.headers.get("authorization")
    if not authorization or not authorization.startswith("Bearer "):
        raise RefusedError("an API key is needed: Authorization: Bearer KEY", 401)
    key = authorization[len("Bearer ") :].strip()
    state = request.app.state.callsim
    cache: dict[str, Principal] = state["keys"]
    found = cache.get(key)
    if found is None:
        row = state["store"].find_key(key)
        if row is None:
            raise RefusedError("this API key is not valid", 401)
        found = Principal(row.id, row.role, row.agent, row.client)
        cache[key] = found
    return found


Who = Annotated[Principal, Depends(principal)]
Id = Annotated[int, FastPath(ge=1, le=MAX_ID, description="An id the service gave out.")]
ClientName = Annotated[str, FastPath(max_length=200, description="A client's name.")]
IDEMPOTENT: dict[str, Any] = {  # the header idempotent() reads, declared for the schema
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": 200},
            "description": "A retry with the same key returns the first answer, once.",
        }
    ]
}


def create_app(scenario_path: str | Path, db: str | Store, *, speedup: float = 1.0) -> FastAPI:
    """The application for one scenario and database (a URL, opened when the server
    starts, or an open ``Store``)."""
    scenario = load_scenario(scenario_path)
    if not 0 < speedup <= MAX_SPEEDUP:
        raise InputError(f"{speedup!r} is not in (0, {MAX_SPEEDUP}]", field="speedup")
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = db if isinstance(db, Store) else Store(db)
        admin = os.environ.get(ADMIN_KEY_ENV)
        if admin:
            ensure_key(store, admin, "admin", ADMIN_KEY_ENV)
        service = Service(scenario, store, speedup=speedup, scenario_name=str(scenario_path))
        state.update(store=store, service=service, keys={})
        # what start-up built (modules, the app, the scenario) lives as long as the process:
        # moved out of the collector's reach, its full passes no longer stall the loop
        # for it (100+ ms with a few thousand calls open, 20 ms after)
        gc.collect()
        gc.freeze()
        app.state.callsim = state
        try:
            yield
        finally:
            service.stop()
            store.close()

    app = FastAPI(
        title="callsim live service",
        version="1",
        description="The callsim routing core in wall-clock time: calls, agents, offers, "
        "contacts, notes, tickets, statistics. See docs/live.md.",
        lifespan=lifespan,
        default_response_class=Json,
    )
    app.add_middleware(Gate)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    @app.exception_handler(CallsimError)
    async def callsim_error(_request: Request, exc: CallsimError) -> JSONResponse:
        return Json(error_body(exc), status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"][1:]) or e["loc"][0], "message": e["msg"]}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": None, "message": "invalid request"}
        return Json(
            {
                "error": "InputError",
                "field": first["field"],
                "message": first["message"],
                "errors": errors,
            },
            status_code=422,
        )

    def service() -> Service:
        return state["service"]  # type: ignore[no-any-return]

    def allow(who: Principal, *roles: str, agent: str | None = None) -> None:
        """Refuse unless ``who`` has one of ``roles``; an agent key acts only as itself."""
        if who.role == "admin" or (who.role in roles and who.role != "agent"):
            return
        if who.role == "agent" and "agent" in roles and (agent is None or agent == who.agent):
            return
        article = "an" if who.role[0] in "aeiou" else "a"
        raise RefusedError(f"{article} {who.role} key may not do this", 403)

    def own_call(who: Principal, call: dict[str, Any]) -> None:
        """An agent sees the calls it handles, a client its own calls."""
        if who.role == "agent" and call.get("agent") != who.agent:
            raise RefusedError("an agent key sees only its own calls", 403)
        if who.role == "client" and call.get("client") != who.client:
            raise RefusedError("a client key sees only its own calls", 403)

    async def idempotent(
        request: Request,
        who: Principal,
        status: int,
        action: Callable[[], dict[str, Any] | list[Any]],
    ) -> JSONResponse:
        """Run ``action`` once per ``Idempotency-Key``: a retry gets the first answer."""
        key = request.headers.get("idempotency-key")
        if key is None:
            return Json(action(), status_code=status)
        if len(key) > 200:
            raise InputError("at most 200 characters", field="Idempotency-Key")
        what = f"{request.method} {request.url.path}"[:300]
        svc = service()
        i = tables.idempotency.c
        rows = svc.read(
            select(i.request, i.status, i.body).where(i.principal == who.key_id, i.key == key)
        )
        if rows:
            if rows[0].request != what:
                raise InputError(
                    f"{key!r} was used for {rows[0].request}, not {what}", field="Idempotency-Key"
                )
            return Json(json.loads(rows[0].body), status_code=rows[0].status)
        batch = svc.unit()
        body = action()
        batch.extra.append(
            (
                tables.idempotency,
                [
                    {
                        "principal": who.key_id,
                        "key": key,
                        "request": what,
                        "status": status,
                        "body": dumps(body),
                    }
                ],
                False,
            )
        )
        return Json(body, status_code=status)

    # -- the pages: the agent desk and the supervisor wallboard ------------------------------

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/desk", include_in_schema=False)
    async def desk() -> FileResponse:
        """The agent desk (the page asks for the agent's key; the API checks it)."""
        return FileResponse(STATIC / "desk.html")

    @app.get("/wallboard", include_in_schema=False)
    async def wallboard() -> FileResponse:
        """The supervisor wallboard (a supervisor's or a client's key)."""
        return FileResponse(STATIC / "wallboard.html")

    # -- health and keys --------------------------------------------------------------------

    @app.get("/healthz", tags=["service"])
    async def healthz() -> dict[str, Any]:
        """Liveness, the run, the scenario clock and the event loop's timer lag."""
        svc = service()
        return {
            "status": "stopping" if svc.stopped else "ok",
            "run": svc.run,
            "at_s": round(svc.now(), 3),
            "calls_open": len(svc.calls),
            "timer_lag_ms": svc.timer_lag_ms(),
        }

    @app.post("/v1/keys", status_code=201, tags=["keys"])
    async def new_key(body: KeyIn, who: Who) -> dict[str, Any]:
        allow(who)
        return service().create_key(
            body.role, agent=body.agent, client=body.client, label=body.label
        )

    # -- calls ------------------------------------------------------------------------------

    @app.post("/v1/calls", status_code=201, tags=["calls"], openapi_extra=IDEMPOTENT)
    async def new_call(body: CallIn, request: Request, who: Who) -> JSONResponse:
        allow(who, "trainer")
        svc = service()
        return await idempotent(
            request,
            who,
            201,
            lambda: svc.arrive(
                body.ani,
                body.dnis,
                ivr_digits=body.ivr_digits,
                language=body.language,
                advertising=body.advertising,
                queue=body.queue,
                practice=body.practice.model_dump() if body.practice else None,
            ),
        )

    @app.get("/v1/queues", tags=["service"])
    async def queues(who: Who) -> list[dict[str, Any]]:
        """The queues and the skills each needs (any key)."""
        return service().queue_list()

    @app.get("/v1/calls", tags=["calls"])
    async def open_calls(who: Who) -> list[dict[str, Any]]:
        """The calls open now, oldest first (a client key: its own)."""
        allow(who, "supervisor", "trainer", "client")
        return service().open_calls(client=who.client if who.role == "client" else None)

    @app.get("/v1/records", tags=["calls"])
    async def records(
        who: Who,
        after: Annotated[int, Query(ge=0, le=2**53)] = 0,
        limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    ) -> list[dict[str, Any]]:
        """The stored records of ended calls with ids above ``after``, oldest first, as
        stored (page with the last id seen); a client key gets its own."""
        allow(who, "supervisor", "trainer", "client")
        return service().records(after, limit, client=who.client if who.role == "client" else None)

    @app.put("/v1/calls/{call_id}/draft", tags=["calls"])
    async def draft(call_id: Id, body: DraftIn, who: Who) -> dict[str, Any]:
        """The note as the agent is writing it, for a supervisor monitoring the call."""
        allow(who, "supervisor", "agent")
        svc = service()
        own_call(who, svc.call_view(call_id))
        return svc.draft(call_id, body.text, by=who.agent if who.role == "agent" else None)

    @app.get("/v1/calls/{call_id}", tags=["calls"])
    async def get_call(call_id: Id, who: Who) -> dict[str, Any]:
        allow(who, "supervisor", "trainer", "agent", "client")
        call = service().call_view(call_id, current_position=True)
        own_call(who, call)
        return call

    @app.post("/v1/calls/{call_id}/hangup", tags=["calls"], openapi_extra=IDEMPOTENT)
    async def hang_up(call_id: Id, request: Request, who: Who) -> JSONResponse:
        allow(who, "trainer")
        return await idempotent(request, who, 200, lambda: service().hang_up(call_id))

    @app.post("/v1/calls/{call_id}/callback", tags=["calls"], openapi_extra=IDEMPOTENT)
    async def request_callback(call_id: Id, request: Request, who: Who) -> JSONResponse:
        """The waiting caller accepts a callback (virtual hold) and hangs up: the call keeps
        its place, status ``callback`` (409 if it is not waiting)."""
        allow(who, "trainer")
        return await idempotent(request, who, 200, lambda: service().request_callback(call_id))

    @app.post("/v1/calls/{call_id}/callback-unanswered", tags=["calls"], openapi_extra=IDEMPOTENT)
    async def callback_unanswered(call_id: Id, request: Request, who: Who) -> JSONResponse:
        """The agent dialled the callback and nobody answered: it ends ``callback_failed``
        (409 if it is not a connected callback)."""
        allow(who, "supervisor", "agent")
        svc = service()
        own_call(who, svc.call_view(call_id))
        by = who.agent if who.role == "agent" else None
        return await idempotent(
            request, who, 200, lambda: svc.callback_unanswered(call_id, agent=by)
        )

    @app.post("/v1/calls/{call_id}/transfer", tags=["calls"], openapi_extra=IDEMPOTENT)
    async def transfer(call_id: Id, body: TransferIn, request: Request, who: Who) -> JSONResponse:
        """The agent on the call sends it into a queue or to a ready agent (409 if the call
        is not connected or the agent not ready); the agent starts wrap-up."""
        allow(who, "supervisor", "agent")
        svc = service()
        own_call(who, svc.call_view(call_id))
        by = who.agent if who.role == "agent" else None
        action = lambda: svc.transfer(call_id, queue=body.queue, agent=body.agent, by=by)  # noqa: E731
        return await idempotent(request, who, 200, action)

    @app.post("/v1/calls/{call_id}/complete", tags=["calls"], openapi_extra=IDEMPOTENT)
    async def complete(call_id: Id, body: CompleteIn, request: Request, who: Who) -> JSONResponse:
        allow(who, "supervisor", "agent")
        svc = service()
        own_call(who, svc.call_view(call_id))
        ticket = body.ticket.model_dump() if body.ticket else None
        if ticket and ticket["follow_up_due"] is not None:
            ticket["follow_up_due"] = _aware(ticket["follow_up_due"], svc)
        return await idempotent(
            request,
            who,
            200,
            lambda: svc.complete(
                call_id,
                agent=who.agent if who.role == "agent" else None,
                note=body.note,
                callback_number=body.callback_number,
                ticket=ticket,
                employee=body.employee,
                faq=body.faq,
                forward_answered=body.forward_answered,
            ),
        )

    @app.get("/v1/calls/{call_id}/decisions", tags=["calls"])
    async def decisions(call_id: Id, who: Who) -> list[dict[str, Any]]:
        allow(who, "supervisor", "trainer")
        return service().decisions(call_id)

    @app.get("/v1/calls/{call_id}/notes", tags=["notes"])
    async def call_notes(call_id: Id, who: Who) -> list[dict[str, Any]]:
        allow(who, "supervisor", "trainer", "agent", "client")
        own_call(who, service().call_view(call_id))
        return service().notes(call=call_id)

    @app.get("/v1/notes", tags=["notes"])
    async def notes(who: Who, client: str | None = None) -> list[dict[str, Any]]:
        allow(who, "supervisor", "client")
        if who.role == "client":
            client = who.client
        return service().notes(client=client)

    # -- agents and offers ------------------------------------------------------------------

    @app.get("/v1/agents", tags=["agents"])
    async def agents(who: Who) -> list[dict[str, Any]]:
        allow(who, "supervisor")
        return service().agents_view()

    @app.get("/v1/agents/{agent}", tags=["agents"])
    async def agent(agent: str, who: Who) -> dict[str, Any]:
        allow(who, "supervisor", "agent", agent=agent)
        return service().agent_view(agent)

    async def agent_action(
        agent: str,
        who: Who,
        request: Request,
        action: Callable[[], dict[str, Any]],
    ) -> JSONResponse:
        allow(who, "supervisor", "agent", agent=agent)
        return await idempotent(request, who, 200, action)

    @app.post("/v1/agents/{agent}/login", tags=["agents"], openapi_extra=IDEMPOTENT)
    async def login(
        agent: str,
        who: Who,
        request: Request,
        body: LoginIn | None = None,
    ) -> JSONResponse:
        reason = body.paused_reason if body else None
        return await agent_action(agent, who, request, lambda: service().login(agent, reason))

    @app.post("/v1/agents/{agent}/ready", tags=["agents"], openapi_extra=IDEMPOTENT)
    async def ready(agent: str, who: Who, request: Request) -> JSONResponse:
        return await agent_action(agent, who, request, lambda: service().ready(agent))

    @app.post("/v1/agents/{agent}/pause", tags=["agents"], openapi_extra=IDEMPOTENT)
    async def pause(
        agent: str,
        who: Who,
        request: Request,
        body: PauseIn | None = None,
    ) -> JSONResponse:
        reason = body.reason if body else "break"
        return await agent_action(agent, who, request, lambda: service().pause(agent, reason))

    @app.post("/v1/agents/{agent}/logout", tags=["agents"], openapi_extra=IDEMPOTENT)
    async def logout(agent: str, who: Who, request: Request) -> JSONResponse:
        return await agent_action(agent, who, request, lambda: service().logout(agent))

    @app.post("/v1/agents/{agent}/dial-result", tags=["agents"], openapi_extra=IDEMPOTENT)
    async def dial_result(
        agent: str, body: DialResultIn, who: Who, request: Request
    ) -> JSONResponse:
        """What the dialer got for a dialling agent (blended outbound): the right party
        (an outbound call of the campaign, connected to the agent) or not (409 if the
        agent is not dialling)."""
        svc = service()
        action = lambda: svc.dial_result(agent, reached=body.reached, number=body.number)  # noqa: E731
        return await agent_action(agent, who, request, action)

    @app.put("/v1/agents/{agent}/skills", tags=["agents"])
    async def skills(agent: str, body: SkillsIn, who: Who) -> dict[str, Any]:
        allow(who, "supervisor")
        if len(agent) > 200:
            raise InputError("at most 200 characters", field="agent")
        return service().set_skills(agent, body.skills)

    @app.get("/v1/agents/{agent}/offers", tags=["offers"])
    async def offers(
        agent: str, who: Who, wait_s: Annotated[float, Query(ge=0, le=60)] = 0.0
    ) -> list[dict[str, Any]]:
        allow(who, "agent", agent=agent)
        return await service().wait_offers(agent, wait_s)

    @app.post("/v1/offers/{offer_id}/accept", tags=["offers"], openapi_extra=IDEMPOTENT)
    async def accept(offer_id: str, who: Who, request: Request) -> JSONResponse:
        svc = service()
        allow(who, "agent")  # the role first: nothing about offers leaks to other roles
        allow(who, "agent", agent=svc.offer(offer_id).agent)
        return await idempotent(request, who, 200, lambda: svc.accept(offer_id))

    @app.post("/v1/offers/{offer_id}/reject", tags=["offers"], openapi_extra=IDEMPOTENT)
    async def reject(offer_id: str, who: Who, request: Request) -> JSONResponse:
        svc = service()
        allow(who, "agent")  # the role first: nothing about offers leaks to other roles
        allow(who, "agent", agent=svc.offer(offer_id).agent)
        return await idempotent(request, who, 200, lambda: svc.reject(offer_id))

    # -- contacts and tickets ---------------------------------------------------------------

    @app.post("/v1/contacts", status_code=201, tags=["contacts"], openapi_extra=IDEMPOTENT)
    async def new_contact(body: ContactIn, request: Request, who: Who) -> JSONResponse:
        allow(who, "supervisor", "agent", "trainer")  # a trainer sets up practice callers
        fields = body.model_dump(exclude={"numbers"})
        return await idempotent(
            request, who, 201, lambda: service().add_contact(body.numbers, fields)
        )

    @app.get("/v1/contacts", tags=["contacts"])
    async def lookup(
        who: Who,
        number: Annotated[str | None, Query(max_length=64)] = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> list[dict[str, Any]]:
        """The contact holding ``number``, or contacts by name or company (``q``: each
        word a word's start, accents and case ignored)."""
        allow(who, "supervisor", "agent", "trainer")
        if (number is None) == (q is None):
            raise InputError("give either number or q", field="number")
        if number is not None:
            return service().lookup(number)
        return service().search_contacts(q or "", limit)

    @app.get("/v1/contacts/{contact_id}", tags=["contacts"])
    async def contact(contact_id: Id, who: Who) -> dict[str, Any]:
        allow(who, "supervisor", "agent")
        return service().contact(contact_id)

    @app.patch("/v1/contacts/{contact_id}", tags=["contacts"])
    async def update_contact(contact_id: Id, body: ContactIn, who: Who) -> dict[str, Any]:
        allow(who, "supervisor", "agent")
        svc = service()
        out = svc.update_contact(contact_id, body.model_dump(exclude={"numbers"}))
        for number in body.numbers:
            out = svc.attach_number(contact_id, number)
        return out

    @app.post("/v1/contacts/{contact_id}/numbers", tags=["contacts"])
    async def attach(contact_id: Id, body: NumberIn, who: Who) -> dict[str, Any]:
        allow(who, "supervisor", "agent")
        return service().attach_number(contact_id, body.number)

    @app.post("/v1/tickets", status_code=201, tags=["tickets"], openapi_extra=IDEMPOTENT)
    async def new_ticket(body: TicketIn, request: Request, who: Who) -> JSONResponse:
        allow(who, "supervisor", "agent")
        by = who.agent or who.role
        return await idempotent(
            request, who, 201, lambda: service().open_ticket(body.contact, body.subject, by)
        )

    @app.get("/v1/tickets/{ticket_id}", tags=["tickets"])
    async def ticket(ticket_id: Id, who: Who) -> dict[str, Any]:
        allow(who, "supervisor", "agent", "client")
        out = service().ticket(ticket_id)
        if who.role == "client" and out["client"] != who.client:
            raise RefusedError("a client key sees only its own tickets", 403)
        return out

    @app.post("/v1/tickets/{ticket_id}/status", tags=["tickets"])
    async def ticket_status(ticket_id: Id, body: TicketStatusIn, who: Who) -> dict[str, Any]:
        allow(who, "supervisor", "agent")
        svc = service()
        due = _aware(body.follow_up_due, svc) if body.follow_up_due else None
        return svc.change_ticket(ticket_id, body.status, who.agent or who.role, body.note, due)

    # -- clients ----------------------------------------------------------------------------

    def own_client(who: Principal, name: str) -> None:
        allow(who, "supervisor", "agent", "client", "trainer")
        if who.role == "client" and who.client != name:
            raise RefusedError("a client key sees only its own client", 403)

    @app.get("/v1/clients/{name}", tags=["clients"])
    async def client_card(
        name: Annotated[str, FastPath(max_length=200)], who: Who
    ) -> dict[str, Any]:
        """Greeting, tone, the treatment now, hours, the FAQ tree, the directory's size."""
        own_client(who, name)
        return service().client_card(name)

    @app.get("/v1/clients/{name}/employees", tags=["clients"])
    async def employees(
        name: ClientName,
        who: Who,
        q: Annotated[str, Query(max_length=200)] = "",
        limit: Annotated[int, Query(ge=1, le=200)] = 20,
    ) -> list[dict[str, Any]]:
        """The client's employees matching every word of ``q`` (word prefixes, accents and
        case ignored), exact words first."""
        own_client(who, name)
        return service().employees(name, q, limit)

    # -- statistics and events --------------------------------------------------------------

    @app.get("/v1/stats/realtime", tags=["stats"])
    async def realtime(who: Who) -> dict[str, Any]:
        allow(who, "supervisor", "client")
        return service().realtime(client=who.client if who.role == "client" else None)

    @app.get("/v1/stats/intervals", tags=["stats"])
    async def intervals(
        who: Who, date: Annotated[str | None, Query(max_length=10)] = None
    ) -> dict[str, Any]:
        allow(who, "supervisor", "client")
        return service().intervals(date, client=who.client if who.role == "client" else None)

    @app.get("/v1/stats/fcr", tags=["stats"])
    async def fcr(
        who: Who,
        date: Annotated[str | None, Query(max_length=10)] = None,
        window_h: Annotated[float, Query(gt=0, le=24 * 31)] = 72.0,
    ) -> dict[str, Any]:
        """First-contact resolution of a day's answered calls from identified callers."""
        allow(who, "supervisor", "client")
        client = who.client if who.role == "client" else None
        return service().first_contact_resolution(date, window_h, client=client)

    @app.get("/v1/events", tags=["events"], response_class=StreamingResponse)
    async def events(
        who: Who,
        request: Request,
        agent: Annotated[str | None, Query(max_length=200)] = None,
        queue: Annotated[str | None, Query(max_length=200)] = None,
        client: Annotated[str | None, Query(max_length=200)] = None,
        last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0)] = None,
        after: Annotated[
            int | None, Query(ge=0, description="Replay events after this id.")
        ] = None,
        follow: bool = Query(True, description="Keep the stream open for new events."),
    ) -> Response:
        allow(who, "supervisor", "trainer", "agent", "client")
        if who.role == "agent":
            agent = who.agent
        if who.role == "client":
            client = who.client
        svc = service()

        def wanted(e: dict[str, Any]) -> bool:
            return (
                (agent is None or e.get("agent") == agent)
                and (queue is None or e.get("queue") == queue)
                and (client is None or e.get("client") == client)
            )

        async def stream() -> AsyncIterator[bytes]:
            inbox = svc.subscribe()
            try:
                # resume after Last-Event-ID (or ?after=), else start with new events
                start = last_event_id if last_event_id is not None else after
                newest = svc.recent[-1]["id"] if svc.recent else svc.last_event_id()
                last = start if start is not None else newest
                for e in svc.events_after(last):
                    last = e["id"]
                    if wanted(e):
                        yield _sse(e)
                if not follow:
                    return
                while not svc.stopped:
                    try:
                        e = await asyncio.wait_for(inbox.get(), 15.0)
                    except TimeoutError:
                        yield b": keep-alive\n\n"
                        continue
                    if e["id"] > last and wanted(e):
                        last = e["id"]
                        yield _sse(e)
            finally:
                svc.unsubscribe(inbox)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    return app


def serve(
    scenario_path: str | Path,
    db_url: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    speedup: float = 1.0,
) -> None:
    """Run the service on uvicorn until SIGINT or SIGTERM (then it stops gracefully)."""
    import socket

    import uvicorn

    app_store = Store(db_url)  # a bad URL or an unreachable server: one line, before serving
    try:
        app = create_app(scenario_path, app_store, speedup=speedup)
        with socket.socket() as probe:
            # as uvicorn binds: a restart must not fail on the last run's closed connections
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise InputError(
                    f"{host}:{port} cannot be served ({exc.strerror})", field="port"
                ) from None
    except BaseException:
        app_store.close()
        raise
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The schema, with the API key as the bearer scheme every path but /healthz needs."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema.setdefault("components", {})["securitySchemes"] = {
            "apiKey": {"type": "http", "scheme": "bearer", "description": "a callsim API key"}
        }
        for path, operations in schema["paths"].items():
            if path != "/healthz":
                for operation in operations.values():
                    operation["security"] = [{"apiKey": []}]
        app.openapi_schema = schema
    return app.openapi_schema


def ensure_key(store: Store, key: str, role: str, label: str) -> None:
    """Keep ``key`` valid with ``role`` (the admin key from the environment)."""
    if store.find_key(key) is None:
        store.add_key(key, role, agent=None, client=None, label=label, at=0.0)


def _sse(event: dict[str, Any]) -> bytes:
    return f"id: {event['id']}\nevent: {event['type']}\ndata: {dumps(event)}\n\n".encode()


def _aware(at: Any, svc: Service) -> Any:
    return at if at.tzinfo is not None else at.replace(tzinfo=svc.zone)


__all__ = ["create_app", "create_key", "hash_key", "serve"]
