"""The desk's records: contacts, notes, tickets, and the clients' cards and directories."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi import Path as FastPath
from fastapi.responses import JSONResponse

from callsim.api.access import Svc, Who, allow, own_call, own_client, own_ticket
from callsim.api.http import MAX_ID, ClientName, Id, aware
from callsim.api.idempotency import IDEMPOTENT, Once
from callsim.api.models import ContactIn, NumberIn, TicketIn, TicketStatusIn

router = APIRouter()

# -- notes ------------------------------------------------------------------------------


@router.get("/v1/calls/{call_id}/notes", tags=["notes"])
async def call_notes(call_id: Id, who: Who, svc: Svc) -> list[dict[str, Any]]:
    allow(who, "supervisor", "trainer", "agent", "client")
    own_call(who, svc.call_view(call_id))
    return svc.notes(call=call_id)


@router.get("/v1/notes", tags=["notes"])
async def notes(
    who: Who,
    svc: Svc,
    client: Annotated[str | None, Query(max_length=200)] = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[dict[str, Any]]:
    """Notes with ids above ``after``, oldest first (page with the last id seen, as
    ``/v1/records``); a client key gets its own."""
    allow(who, "supervisor", "client")
    if who.role == "client":
        client = who.client
    return svc.notes(client=client, after=after, limit=limit)


# -- contacts ---------------------------------------------------------------------------


@router.post("/v1/contacts", status_code=201, tags=["contacts"], openapi_extra=IDEMPOTENT)
async def new_contact(body: ContactIn, who: Who, svc: Svc, once: Once) -> JSONResponse:
    allow(who, "supervisor", "agent", "trainer")  # a trainer sets up practice callers
    fields = body.model_dump(exclude={"numbers"})
    return once(201, lambda: svc.add_contact(body.numbers, fields))


@router.get("/v1/contacts", tags=["contacts"])
async def lookup(
    who: Who,
    svc: Svc,
    number: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[dict[str, Any]]:
    """The contact holding ``number``, and contacts by name or company (``q``: each
    word a word's start, accents and case ignored); both: the contacts that match both;
    neither: none (an empty search finds nothing). A trainer key (registering practice
    callers) looks up by number only and gets the contact's id and numbers."""
    allow(who, "supervisor", "agent", "trainer")
    if who.role == "trainer":  # whether a practice caller is in the book, nothing more
        if number is None or q is not None:
            allow(who, "supervisor", "agent")  # no search by name: 403
        return [
            {"contact_id": c["contact_id"], "numbers": c["numbers"]}
            for c in svc.lookup(number or "")
        ]
    if number is None:
        return svc.search_contacts(q or "", limit)
    found = svc.lookup(number)
    if q is not None:
        named = {c["contact_id"] for c in svc.search_contacts(q, 2**31)}  # all that match
        found = [c for c in found if c["contact_id"] in named]
    return found[:limit]


@router.get("/v1/contacts/{contact_id}", tags=["contacts"])
async def contact(contact_id: Id, who: Who, svc: Svc) -> dict[str, Any]:
    allow(who, "supervisor", "agent")
    return svc.contact(contact_id)


@router.patch("/v1/contacts/{contact_id}", tags=["contacts"])
async def update_contact(contact_id: Id, body: ContactIn, who: Who, svc: Svc) -> dict[str, Any]:
    allow(who, "supervisor", "agent")
    out = svc.update_contact(contact_id, body.model_dump(exclude={"numbers"}))
    for number in body.numbers:
        out = svc.attach_number(contact_id, number)
    return out


@router.post("/v1/contacts/{contact_id}/numbers", tags=["contacts"])
async def attach(contact_id: Id, body: NumberIn, who: Who, svc: Svc) -> dict[str, Any]:
    allow(who, "supervisor", "agent")
    return svc.attach_number(contact_id, body.number)


# -- tickets ----------------------------------------------------------------------------


@router.post("/v1/tickets", status_code=201, tags=["tickets"], openapi_extra=IDEMPOTENT)
async def new_ticket(body: TicketIn, who: Who, svc: Svc, once: Once) -> JSONResponse:
    allow(who, "supervisor", "agent")
    by = who.agent or who.role
    return once(201, lambda: svc.open_ticket(body.contact, body.subject, by))


@router.get("/v1/tickets/{ticket_id}", tags=["tickets"])
async def ticket(ticket_id: Id, who: Who, svc: Svc) -> dict[str, Any]:
    allow(who, "supervisor", "agent", "client")
    out = svc.ticket(ticket_id)
    own_ticket(who, out)
    return out


@router.post("/v1/tickets/{ticket_id}/status", tags=["tickets"])
async def ticket_status(ticket_id: Id, body: TicketStatusIn, who: Who, svc: Svc) -> dict[str, Any]:
    allow(who, "supervisor", "agent")
    due = aware(body.follow_up_due, svc) if body.follow_up_due else None
    return svc.change_ticket(ticket_id, body.status, who.agent or who.role, body.note, due)


# -- clients ----------------------------------------------------------------------------


@router.get("/v1/clients/{name}", tags=["clients"])
async def client_card(
    name: Annotated[str, FastPath(max_length=200)], who: Who, svc: Svc
) -> dict[str, Any]:
    """Greeting, tone, the treatment now, hours, the FAQ tree, the directory's size."""
    own_client(who, name)
    return svc.client_card(name)


@router.get("/v1/clients/{name}/employees", tags=["clients"])
async def employees(
    name: ClientName,
    who: Who,
    svc: Svc,
    q: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[dict[str, Any]]:
    """The client's employees matching every word of ``q`` (word prefixes, accents and
    case ignored), exact words first."""
    own_client(who, name)
    return svc.employees(name, q, limit)
