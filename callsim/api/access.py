"""Who asks and what they may do: the API's authorisation, in one place.

``principal`` (the dependency ``Who``) finds the key's role and binding; ``allow`` and
the ``own_*`` checks refuse with 403. A route calls its checks first thing: as
dependencies they would answer 403 before FastAPI validated the request, so a bad request
from the wrong role would get 403 where it gets 422. The rule that an agent acts only on
the calls it handles is ``own_call`` here, and nowhere else (the service is not told who
asks). A trainer key sees and acts on practice calls only (``own_call``), a client key
on its own calls and tickets, those inside its call's view included (``seen_by``).
Roles, and the table of who may call what, are ``callsim.api.roles``.

A key is looked up once and cached; a revoked key leaves the cache at once
(``forget_keys``), an expired one is refused on its ``expires_unix`` (``now_unix``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from callsim.core.practice import trainee_card
from callsim.errors import CallsimError
from callsim.live.service import Service


@dataclass(frozen=True, slots=True)
class Principal:
    """Who sends a request: a key's id, role and binding."""

    key_id: int
    role: str
    agent: str | None
    client: str | None
    expires_unix: float | None = None

    @property
    def as_agent(self) -> str | None:
        """The agent an agent key acts as (None for every other role)."""
        return self.agent if self.role == "agent" else None

    @property
    def as_client(self) -> str | None:
        """The client a client key is limited to (None for every other role)."""
        return self.client if self.role == "client" else None


class RefusedError(CallsimError):
    """A request without a valid key (401) or with a key whose role may not do it (403)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.http_status = status


async def principal(request: Request) -> Principal:
    """Who sends the request, by its ``Authorization: Bearer KEY`` (401 without one).
    The header is read here, not declared as a parameter: FastAPI's per-request handling
    of declared headers cost more than the routing; the OpenAPI schema declares it as
    the bearer scheme (``app._openapi``)."""
    authorization = request.headers.get("authorization")
    scheme, _, key = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":  # the scheme is case-insensitive (RFC 9110)
        raise RefusedError("an API key is needed: Authorization: Bearer KEY", 401)
    key = key.strip()
    state = request.app.state.callsim
    cache: dict[str, Principal] = state["keys"]
    found = cache.get(key)
    if found is None:
        row = state["store"].find_key(key)
        if row is None:
            raise RefusedError("this API key is not valid", 401)
        found = Principal(row.id, row.role, row.agent, row.client, row.expires_unix)
        cache[key] = found
    if found.expires_unix is not None and found.expires_unix <= now_unix():
        raise RefusedError("this API key has expired", 401)
    return found


def now_unix() -> float:
    """The wall clock keys expire by (a test moves it)."""
    return time.time()


def forget_keys(request: Request) -> None:
    """Drop the cached keys (after a revocation: the next request reads the store)."""
    request.app.state.callsim["keys"].clear()


async def service(request: Request) -> Service:
    """The running service (started by the application's lifespan)."""
    return request.app.state.callsim["service"]  # type: ignore[no-any-return]


async def asker(request: Request) -> tuple[Principal, Service]:
    """Who asks and the service, as ``Who`` and ``Svc`` give them, read in the route:
    for the busiest routes (placing a call, an offer's long poll and answer, completing
    a call), where FastAPI solving three dependencies cost more than routing the call."""
    return await principal(request), await service(request)


Who = Annotated[Principal, Depends(principal)]
Svc = Annotated[Service, Depends(service)]


def allow(who: Principal, *roles: str, agent: str | None = None) -> None:
    """Refuse unless ``who`` has one of ``roles``; an agent key acts only as itself."""
    if who.role == "admin" or (who.role in roles and who.role != "agent"):
        return
    if who.role == "agent" and "agent" in roles and (agent is None or agent == who.agent):
        return
    article = "an" if who.role[0] in "aeiou" else "a"
    raise RefusedError(f"{article} {who.role} key may not do this", 403)


def own_call(who: Principal, call: dict[str, Any]) -> None:
    """An agent sees and acts on the calls it handles, a client sees its own calls, a
    trainer its practice calls."""
    if who.role == "agent" and call.get("agent") != who.agent:
        raise RefusedError("an agent key sees only its own calls", 403)
    if who.role == "client" and call.get("client") != who.client:
        raise RefusedError("a client key sees only its own calls", 403)
    if who.role == "trainer" and not call.get("practice"):
        raise RefusedError("a trainer key sees only practice calls", 403)


def practice_only(who: Principal, practice: bool) -> None:
    """A trainer key places practice calls only (real traffic is an admin's: the load tool)."""
    if who.role == "trainer" and not practice:
        raise RefusedError("a trainer key places practice calls only", 403)


def checks_calls(who: Principal) -> bool:
    """Whether ``own_call`` can refuse ``who`` (admins and supervisors skip the read)."""
    return who.role in ("agent", "client", "trainer")


def seen_by(who: Principal, call: dict[str, Any], client_of: Any) -> dict[str, Any]:
    """A call's view as ``who`` may see it. A client key sees, among the caller's open
    tickets, only its own client's (``client_of(ticket_id)``), as ``own_ticket`` does; a
    trainer key sees no screen pop and no tickets: a practice card's number may be a real
    caller's, whose card (name, note, history) is not a trainer's to read; an agent key
    sees of a practice call's card only what a real agent's screen shows
    (``core.practice.TRAINEE_SEES``) until the call is scored."""
    if who.role == "client" and call.get("tickets"):
        call["tickets"] = [t for t in call["tickets"] if client_of(t["ticket_id"]) == who.client]
    elif who.role == "trainer":
        call = {**call, "screen_pop": None, "tickets": []}
    practice = call.get("practice")
    if who.role == "agent" and practice and practice.get("score") is None:
        # the answer key is the trainer's until the call is scored (at its completion)
        call = {**call, "practice": {**practice, "card": trainee_card(practice["card"])}}
    return call


def own_ticket(who: Principal, ticket: dict[str, Any]) -> None:
    """A client sees its own tickets."""
    if who.role == "client" and ticket["client"] != who.client:
        raise RefusedError("a client key sees only its own tickets", 403)


def own_client(who: Principal, name: str) -> None:
    """Client cards and directories: any role but a client key for another client."""
    allow(who, "supervisor", "agent", "client", "trainer")
    if who.role == "client" and who.client != name:
        raise RefusedError("a client key sees only its own client", 403)
