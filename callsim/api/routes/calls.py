"""Calls: placed by a trainer (practice calls) or an admin (the load tool), handled by
agents (or taken over by a supervisor), read by the roles ``callsim.api.roles`` names."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from callsim.api.access import (
    Svc,
    Who,
    allow,
    asker,
    checks_calls,
    own_call,
    practice_only,
    seen_by,
)
from callsim.api.http import MAX_ID, Id, aware
from callsim.api.idempotency import IDEMPOTENT, Idempotent, Once
from callsim.api.models import CallIn, CompleteIn, DraftIn, TransferIn

router = APIRouter(tags=["calls"])


@router.post("/v1/calls", status_code=201, openapi_extra=IDEMPOTENT)
async def new_call(body: CallIn, request: Request) -> JSONResponse:
    who, svc = await asker(request)
    once = Idempotent(request, who, svc)
    allow(who, "trainer")
    practice_only(who, body.practice is not None)
    return once(
        201,
        lambda: seen_by(
            who,
            svc.arrive(
                body.ani,
                body.dnis,
                ivr_digits=body.ivr_digits,
                language=body.language,
                advertising=body.advertising,
                queue=body.queue,
                practice=body.practice.model_dump() if body.practice else None,
            ),
            None,
        ),
    )


@router.get("/v1/calls")
async def open_calls(who: Who, svc: Svc) -> list[dict[str, Any]]:
    """The calls open now, oldest first (a client key: its own)."""
    allow(who, "supervisor", "client")
    return svc.open_calls(client=who.as_client)


@router.get("/v1/records")
async def records(
    who: Who,
    svc: Svc,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[dict[str, Any]]:
    """The stored records of ended calls with ids above ``after``, oldest first, as
    stored (page with the last id seen); a client key gets its own."""
    allow(who, "supervisor", "client")
    return svc.records(after, limit, client=who.as_client)


@router.put("/v1/calls/{call_id}/draft")
async def draft(call_id: Id, body: DraftIn, who: Who, svc: Svc) -> dict[str, Any]:
    """The note as the agent is writing it, for a supervisor monitoring the call (a
    supervisor who took the call over writes it too)."""
    allow(who, "supervisor", "agent")
    own_call(who, svc.call_view(call_id))
    return svc.draft(call_id, body.text)


@router.get("/v1/calls/{call_id}")
async def get_call(call_id: Id, who: Who, svc: Svc) -> dict[str, Any]:
    allow(who, "supervisor", "trainer", "agent", "client")
    call = svc.call_view(call_id, current_position=True)
    own_call(who, call)
    return seen_by(who, call, lambda ticket_id: svc.ticket(ticket_id)["client"])


@router.post("/v1/calls/{call_id}/hangup", openapi_extra=IDEMPOTENT)
async def hang_up(call_id: Id, who: Who, svc: Svc, once: Once) -> JSONResponse:
    """The caller hangs up (a trainer: on a practice call)."""
    allow(who, "trainer")
    if checks_calls(who):
        own_call(who, svc.call_view(call_id))
    return once(200, lambda: seen_by(who, svc.hang_up(call_id), None))


@router.post("/v1/calls/{call_id}/callback", openapi_extra=IDEMPOTENT)
async def request_callback(call_id: Id, who: Who, svc: Svc, once: Once) -> JSONResponse:
    """The waiting caller accepts a callback (virtual hold) and hangs up: the call keeps
    its place, status ``callback`` (409 if it is not waiting; a trainer: a practice call)."""
    allow(who, "trainer")
    if checks_calls(who):
        own_call(who, svc.call_view(call_id))
    return once(200, lambda: seen_by(who, svc.request_callback(call_id), None))


@router.post("/v1/calls/{call_id}/callback-unanswered", openapi_extra=IDEMPOTENT)
async def callback_unanswered(call_id: Id, who: Who, svc: Svc, once: Once) -> JSONResponse:
    """The agent dialled the callback and nobody answered: it ends ``callback_failed``
    (409 if it is not a connected callback)."""
    allow(who, "supervisor", "agent")
    own_call(who, svc.call_view(call_id))
    return once(200, lambda: svc.callback_unanswered(call_id))


@router.post("/v1/calls/{call_id}/transfer", openapi_extra=IDEMPOTENT)
async def transfer(call_id: Id, body: TransferIn, who: Who, svc: Svc, once: Once) -> JSONResponse:
    """The agent on the call (or a supervisor taking it over) sends it into a queue or to
    a ready agent (409 if the call is not connected or the agent not ready); the agent
    starts wrap-up."""
    allow(who, "supervisor", "agent")
    own_call(who, svc.call_view(call_id))
    return once(200, lambda: svc.transfer(call_id, queue=body.queue, agent=body.agent))


@router.post("/v1/calls/{call_id}/complete", openapi_extra=IDEMPOTENT)
async def complete(call_id: Id, body: CompleteIn, request: Request) -> JSONResponse:
    """The agent on the call (or a supervisor taking it over) ends it."""
    who, svc = await asker(request)
    once = Idempotent(request, who, svc)
    allow(who, "supervisor", "agent")
    own_call(who, svc.call_view(call_id))
    ticket = body.ticket.model_dump() if body.ticket else None
    if ticket and ticket["follow_up_due"] is not None:
        ticket["follow_up_due"] = aware(ticket["follow_up_due"], svc)
    return once(
        200,
        lambda: svc.complete(
            call_id,
            note=body.note,
            callback_number=body.callback_number,
            ticket=ticket,
            employee=body.employee,
            faq=body.faq,
            forward_answered=body.forward_answered,
        ),
    )


@router.get("/v1/calls/{call_id}/decisions")
async def decisions(call_id: Id, who: Who, svc: Svc) -> list[dict[str, Any]]:
    """Why the core rang whom (a trainer: on a practice call)."""
    allow(who, "supervisor", "trainer")
    if checks_calls(who):
        own_call(who, svc.call_view(call_id))
    return svc.decisions(call_id)
