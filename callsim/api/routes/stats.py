"""Statistics (realtime, intervals, first-contact resolution) and the event stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response, StreamingResponse

from callsim.api.access import Svc, Who, allow
from callsim.live.events import LAGGED
from callsim.live.service import dumps

router = APIRouter()
KEEP_ALIVE_S = 15.0  # an idle stream sends a comment this often
Day = Annotated[
    str | None,
    Query(
        pattern=r"^\d{4}-\d{2}-\d{2}$",
        json_schema_extra={"format": "date"},
        description="The centre's date, YYYY-MM-DD; today if none.",
    ),
]


@router.get("/v1/stats/realtime", tags=["stats"])
async def realtime(who: Who, svc: Svc) -> dict[str, Any]:
    allow(who, "supervisor", "client")
    return svc.realtime(client=who.as_client)


@router.get("/v1/stats/intervals", tags=["stats"])
async def intervals(who: Who, svc: Svc, date: Day = None) -> dict[str, Any]:
    allow(who, "supervisor", "client")
    return svc.intervals(date, client=who.as_client)


@router.get("/v1/stats/fcr", tags=["stats"])
async def fcr(
    who: Who,
    svc: Svc,
    date: Day = None,
    window_h: Annotated[float, Query(gt=0, le=24 * 31)] = 72.0,
) -> dict[str, Any]:
    """First-contact resolution of a day's answered calls from identified callers."""
    allow(who, "supervisor", "client")
    return svc.first_contact_resolution(date, window_h, client=who.as_client)


@router.get("/v1/events", tags=["events"], response_class=StreamingResponse)
async def events(
    who: Who,
    svc: Svc,
    agent: Annotated[str | None, Query(max_length=200)] = None,
    queue: Annotated[str | None, Query(max_length=200)] = None,
    client: Annotated[str | None, Query(max_length=200)] = None,
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0)] = None,
    after: Annotated[int | None, Query(ge=0, description="Replay events after this id.")] = None,
    follow: bool = Query(True, description="Keep the stream open for new events."),
) -> Response:
    allow(who, "supervisor", "agent", "client")
    if who.role == "agent":
        agent = who.agent
    if who.role == "client":
        client = who.client

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
                    got = await asyncio.wait_for(inbox.get(), KEEP_ALIVE_S)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if got is LAGGED:  # this reader fell too far behind: resume with Last-Event-ID
                    return
                if got["id"] > last and wanted(got):
                    last = got["id"]
                    yield _sse(got)
        finally:
            svc.unsubscribe(inbox)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


def _sse(event: dict[str, Any]) -> bytes:
    return f"id: {event['id']}\nevent: {event['type']}\ndata: {dumps(event)}\n\n".encode()
