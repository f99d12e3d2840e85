"""Agents (their state, skills and the verbs an agent's desk sends) and their offers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from callsim.api.access import Svc, Who, allow, asker, seen_by
from callsim.api.idempotency import IDEMPOTENT, Idempotent, Once
from callsim.api.models import DialResultIn, LoginIn, PauseIn, SkillsIn
from callsim.errors import InputError

router = APIRouter()


@router.get("/v1/agents", tags=["agents"])
async def agents(who: Who, svc: Svc) -> list[dict[str, Any]]:
    allow(who, "supervisor")
    return svc.agents_view()


@router.get("/v1/agents/{agent}", tags=["agents"])
async def agent(agent: str, who: Who, svc: Svc) -> dict[str, Any]:
    allow(who, "supervisor", "agent", agent=agent)
    return svc.agent_view(agent)


# the verbs of an agent's day: the agent itself (or a supervisor), once per idempotency key


@router.post("/v1/agents/{agent}/login", tags=["agents"], openapi_extra=IDEMPOTENT)
async def login(
    agent: str, who: Who, svc: Svc, once: Once, body: LoginIn | None = None
) -> JSONResponse:
    allow(who, "supervisor", "agent", agent=agent)
    reason = body.paused_reason if body else None
    return once(200, lambda: svc.login(agent, reason))


@router.post("/v1/agents/{agent}/ready", tags=["agents"], openapi_extra=IDEMPOTENT)
async def ready(agent: str, who: Who, svc: Svc, once: Once) -> JSONResponse:
    allow(who, "supervisor", "agent", agent=agent)
    return once(200, lambda: svc.ready(agent))


@router.post("/v1/agents/{agent}/pause", tags=["agents"], openapi_extra=IDEMPOTENT)
async def pause(
    agent: str, who: Who, svc: Svc, once: Once, body: PauseIn | None = None
) -> JSONResponse:
    allow(who, "supervisor", "agent", agent=agent)
    reason = body.reason if body else "break"
    return once(200, lambda: svc.pause(agent, reason))


@router.post("/v1/agents/{agent}/logout", tags=["agents"], openapi_extra=IDEMPOTENT)
async def logout(agent: str, who: Who, svc: Svc, once: Once) -> JSONResponse:
    allow(who, "supervisor", "agent", agent=agent)
    return once(200, lambda: svc.logout(agent))


@router.post("/v1/agents/{agent}/dial-result", tags=["agents"], openapi_extra=IDEMPOTENT)
async def dial_result(
    agent: str, body: DialResultIn, who: Who, svc: Svc, once: Once
) -> JSONResponse:
    """What the dialer got for a dialling agent (blended outbound): the right party
    (an outbound call of the campaign, connected to the agent) or not (409 if the
    agent is not dialling)."""
    allow(who, "supervisor", "agent", agent=agent)
    return once(200, lambda: svc.dial_result(agent, reached=body.reached, number=body.number))


@router.put("/v1/agents/{agent}/skills", tags=["agents"])
async def skills(agent: str, body: SkillsIn, who: Who, svc: Svc) -> dict[str, Any]:
    allow(who, "supervisor")
    if len(agent) > 200:
        raise InputError("at most 200 characters", field="agent")
    return svc.set_skills(agent, body.skills)


# -- offers -----------------------------------------------------------------------------


@router.get("/v1/agents/{agent}/offers", tags=["offers"])
async def offers(
    agent: str, request: Request, wait_s: Annotated[float, Query(ge=0, le=60)] = 0.0
) -> list[dict[str, Any]]:
    who, svc = await asker(request)
    allow(who, "agent", agent=agent)
    return await svc.wait_offers(agent, wait_s)


@router.post("/v1/offers/{offer_id}/accept", tags=["offers"], openapi_extra=IDEMPOTENT)
async def accept(offer_id: str, request: Request) -> JSONResponse:
    who, svc = await asker(request)
    once = Idempotent(request, who, svc)
    allow(who, "agent")  # the role first: nothing about offers leaks to other roles
    if (kept := once.kept()) is not None:  # the offer may be over since: its first answer
        return kept
    allow(who, "agent", agent=svc.offer(offer_id).agent)
    return once(200, lambda: seen_by(who, svc.accept(offer_id), None))


@router.post("/v1/offers/{offer_id}/reject", tags=["offers"], openapi_extra=IDEMPOTENT)
async def reject(offer_id: str, who: Who, svc: Svc, once: Once) -> JSONResponse:
    allow(who, "agent")  # the role first: nothing about offers leaks to other roles
    if (kept := once.kept()) is not None:  # the offer may be over since: its first answer
        return kept
    allow(who, "agent", agent=svc.offer(offer_id).agent)
    return once(200, lambda: svc.reject(offer_id))
