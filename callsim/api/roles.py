"""Who may do what on the live service. A key has one role:

- ``admin``: everything, keys included (and the load tool's calls);
- ``supervisor``: reads everything; agents' state and skills; contacts, notes, tickets;
  takes over an agent's call (barge-in: drafts its note, transfers or completes it);
- ``agent`` (bound to one agent): acts only as that agent (log in, ready, pause, offers),
  on the calls it handles, and on contacts and tickets;
- ``client`` (bound to one client): reads only its own calls, notes, tickets, statistics;
- ``trainer``: places practice calls and plays their callers (hang up, callback), reads
  them (state, score, note, decisions, the conversation; no screen pop or tickets: a
  card's number may be a real caller's), registers practice callers (a number's contact:
  id and numbers only), reads the client cards the cards' key is written from and the
  trainees' scored practice calls.

``TABLE`` is every endpoint x role: what the routes' checks (``callsim.api.access``) do,
written down once; docs/live.md shows it (``markdown``) and tests/test_roles.py calls
every cell on a real server.
"""

from __future__ import annotations

ROLES = ("admin", "supervisor", "agent", "client", "trainer")

COLUMNS = (
    "admin",
    "supervisor",
    "agent: own",
    "agent: other",
    "client: own",
    "client: other",
    "trainer: practice",
    "trainer: other",
)
"""The table's columns: a role, and for a bound key whether the request names what it is
bound to (own) or not (other): the agent named in the path, a call it handles, its offer;
the client's call, ticket or card; for a trainer, a practice call (``POST /v1/calls``:
a body with ``practice``). Where nothing is named, own and other are the same."""

Y = "yes"
NOTES = {
    "client": "yes: its own",
    "agent": "yes: its own",
    "number": "yes: by number; id and numbers only",
}


def _row(*cells: str | int) -> tuple[str, ...]:
    assert len(cells) == len(COLUMNS)
    return tuple(str(c) for c in cells)


_ALL = _row(Y, Y, Y, Y, Y, Y, Y, Y)
_ADMIN = _row(Y, 403, 403, 403, 403, 403, 403, 403)
_SUPERVISE = _row(Y, Y, 403, 403, 403, 403, 403, 403)
_TAKE_OVER = _row(Y, Y, Y, 403, 403, 403, 403, 403)  # the agent's call; a supervisor's too
_CALLER = _row(Y, 403, 403, 403, 403, 403, Y, 403)  # a practice call's caller
_READ_CALL = _row(Y, Y, Y, 403, Y, 403, Y, 403)
_AS_AGENT = _row(Y, Y, Y, 403, 403, 403, 403, 403)
_OFFER = _row(Y, 403, Y, 403, 403, 403, 403, 403)
_DESK = _row(Y, Y, Y, Y, 403, 403, 403, 403)
_STATS = _row(Y, Y, 403, 403, NOTES["client"], NOTES["client"], 403, 403)
_CLIENT_CARD = _row(Y, Y, Y, Y, Y, 403, Y, Y)
_OWN = (NOTES["agent"],) * 2 + (NOTES["client"],) * 2
_EVENTS = _row(Y, Y, *_OWN, 403, 403)
_PRACTICE_CALL = _row(Y, Y, Y, 403, 403, 403, Y, 403)  # the trainee's, and its trainer's

TABLE: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/healthz"): _ALL,  # no key needed
    ("GET", "/v1/keys"): _ADMIN,
    ("POST", "/v1/keys"): _ADMIN,
    ("DELETE", "/v1/keys/{key_id}"): _ADMIN,
    ("GET", "/v1/queues"): _ALL,
    ("POST", "/v1/calls"): _CALLER,
    ("GET", "/v1/calls"): _STATS,
    ("GET", "/v1/records"): _STATS,
    ("GET", "/v1/calls/{call_id}"): _READ_CALL,
    ("PUT", "/v1/calls/{call_id}/draft"): _TAKE_OVER,
    ("POST", "/v1/calls/{call_id}/complete"): _TAKE_OVER,
    ("POST", "/v1/calls/{call_id}/transfer"): _TAKE_OVER,
    ("POST", "/v1/calls/{call_id}/callback-unanswered"): _TAKE_OVER,
    ("POST", "/v1/calls/{call_id}/hangup"): _CALLER,
    ("POST", "/v1/calls/{call_id}/callback"): _CALLER,
    ("GET", "/v1/calls/{call_id}/decisions"): _row(Y, Y, 403, 403, 403, 403, Y, 403),
    ("GET", "/v1/calls/{call_id}/notes"): _READ_CALL,
    ("GET", "/v1/notes"): _STATS,
    ("GET", "/v1/agents"): _SUPERVISE,
    ("GET", "/v1/agents/{agent}"): _AS_AGENT,
    ("POST", "/v1/agents/{agent}/login"): _AS_AGENT,
    ("POST", "/v1/agents/{agent}/ready"): _AS_AGENT,
    ("POST", "/v1/agents/{agent}/pause"): _AS_AGENT,
    ("POST", "/v1/agents/{agent}/logout"): _AS_AGENT,
    ("POST", "/v1/agents/{agent}/dial-result"): _AS_AGENT,
    ("PUT", "/v1/agents/{agent}/skills"): _SUPERVISE,
    ("GET", "/v1/agents/{agent}/offers"): _OFFER,
    ("POST", "/v1/offers/{offer_id}/accept"): _OFFER,
    ("POST", "/v1/offers/{offer_id}/reject"): _OFFER,
    ("POST", "/v1/contacts"): _row(Y, Y, Y, Y, 403, 403, Y, Y),
    ("GET", "/v1/contacts"): _row(Y, Y, Y, Y, 403, 403, NOTES["number"], NOTES["number"]),
    ("GET", "/v1/contacts/{contact_id}"): _DESK,
    ("PATCH", "/v1/contacts/{contact_id}"): _DESK,
    ("POST", "/v1/contacts/{contact_id}/numbers"): _DESK,
    ("POST", "/v1/tickets"): _DESK,
    ("GET", "/v1/tickets/{ticket_id}"): _row(Y, Y, Y, Y, Y, 403, 403, 403),
    ("POST", "/v1/tickets/{ticket_id}/status"): _DESK,
    ("GET", "/v1/clients/{name}"): _CLIENT_CARD,
    ("GET", "/v1/clients/{name}/employees"): _CLIENT_CARD,
    ("GET", "/v1/stats/realtime"): _STATS,
    ("GET", "/v1/stats/intervals"): _STATS,
    ("GET", "/v1/stats/fcr"): _STATS,
    ("GET", "/v1/events"): _EVENTS,
    ("GET", "/v1/calls/{call_id}/practice/lines"): _PRACTICE_CALL,
    ("POST", "/v1/calls/{call_id}/practice/say"): _TAKE_OVER,
    ("GET", "/v1/calls/{call_id}/practice/audio"): _PRACTICE_CALL,
    ("GET", "/v1/practice/results"): _row(Y, Y, *(NOTES["agent"],) * 2, 403, 403, Y, Y),
    ("GET", "/v1/practice/class"): _row(Y, Y, 403, 403, 403, 403, Y, Y),
}
"""(method, OpenAPI path) -> one cell per column: ``yes`` (perhaps with what is seen) or
the status that refuses it. Without a valid key every endpoint but ``/healthz`` is 401."""


def allowed(cell: str) -> bool:
    return cell.startswith(Y)


def markdown() -> str:
    """The table as docs/live.md shows it."""
    lines = [
        "| endpoint | " + " | ".join(COLUMNS) + " |",
        "| --- |" + " --- |" * len(COLUMNS),
    ]
    for (method, path), cells in TABLE.items():
        lines.append(f"| `{method} {path}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
