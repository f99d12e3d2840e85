"""The service itself: its health, its queues, its API keys; and the two pages (the agent
desk and the supervisor wallboard, static files that call the API with a key)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from callsim.api.access import Svc, Who, allow, forget_keys, now_unix
from callsim.api.http import Id, aware
from callsim.api.keys import create_key, list_keys, revoke_key
from callsim.api.models import KeyIn

STATIC = Path(__file__).parent.parent / "static"  # the desk's and wallboard's files

router = APIRouter()


@router.get("/desk", include_in_schema=False)
async def desk() -> FileResponse:
    """The agent desk (the page asks for the agent's key; the API checks it)."""
    return FileResponse(STATIC / "desk.html")


@router.get("/wallboard", include_in_schema=False)
async def wallboard() -> FileResponse:
    """The supervisor wallboard (a supervisor's or a client's key)."""
    return FileResponse(STATIC / "wallboard.html")


@router.get("/healthz", tags=["service"])
async def healthz(svc: Svc) -> dict[str, Any]:
    """Liveness, the run, the scenario clock and the event loop's timer lag; ``database``
    is ``out`` from a read or commit that could not reach it until one that does."""
    return {
        "status": "stopping" if svc.stopped else "ok",
        "database": "out" if svc.uow.repository.out else "ok",
        "run": svc.run,
        "at_s": round(svc.now(), 3),
        "calls_open": len(svc.calls),
        "timer_lag_ms": svc.timer_lag_ms(),
        "event_readers": svc.events.readers(),
        "event_readers_dropped": svc.events.dropped,  # fell too far behind, closed
    }


@router.post("/v1/keys", status_code=201, tags=["keys"])
async def new_key(body: KeyIn, who: Who, svc: Svc) -> dict[str, Any]:
    """A new key, shown once; ``expires_in_h`` or ``expires_at`` limit its life (after it:
    401)."""
    allow(who)  # admin keys only
    now = now_unix()
    expires = None
    if body.expires_in_h is not None:
        expires = now + body.expires_in_h * 3600
    elif body.expires_at is not None:
        expires = aware(body.expires_at, svc).timestamp()
    return create_key(
        svc.store,
        body.role,
        agent=body.agent,
        client=body.client,
        label=body.label,
        agents=svc.agent_names(),
        clients=list(svc.desk.client_names()),
        at=now,
        expires_unix=expires,
    )


@router.get("/v1/keys", tags=["keys"])
async def keys(who: Who, svc: Svc) -> list[dict[str, Any]]:
    """Every key without its secret: role, binding, label, created, expires, revoked."""
    allow(who)  # admin keys only
    return list_keys(svc.store)


@router.delete("/v1/keys/{key_id}", tags=["keys"])
async def revoke(key_id: Id, who: Who, svc: Svc, request: Request) -> dict[str, Any]:
    """Revoke a key: from now on it is a 401 (revoking it again changes nothing)."""
    allow(who)  # admin keys only
    out = revoke_key(svc.store, key_id, at=now_unix())
    forget_keys(request)
    return out


@router.get("/v1/queues", tags=["service"])
async def queues(who: Who, svc: Svc) -> list[dict[str, Any]]:
    """The queues and the skills each needs (any key)."""
    return svc.queue_list()
