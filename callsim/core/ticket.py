"""Tickets: every handled call can open or update one; only valid status changes pass.

Life cycle::

    open ──────────► resolved ──► closed (a feedback request is recorded)
      │  ▲              │
      ▼  │              ▼
    needs_follow_up    open (reopened)

``needs_follow_up`` carries a due time for the follow-up.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from callsim.errors import InvalidTransitionError, PolicyError, UnknownTicketError


class Status(enum.Enum):
    OPEN = "open"
    RESOLVED = "resolved"
    CLOSED = "closed"
    NEEDS_FOLLOW_UP = "needs_follow_up"


ALLOWED: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.RESOLVED, Status.NEEDS_FOLLOW_UP}),
    Status.NEEDS_FOLLOW_UP: frozenset({Status.OPEN, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.OPEN}),
    Status.CLOSED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Change:
    at: datetime
    status: Status
    by: str
    note: str


@dataclass(frozen=True, slots=True)
class FeedbackRequest:
    ticket: int
    contact: int
    at: datetime
    channel: str  # "call" or "email"


@dataclass(slots=True)
class Ticket:
    id: int
    contact: int
    subject: str
    status: Status = Status.OPEN
    follow_up_due: datetime | None = None
    changes: list[Change] = field(default_factory=list)


class TicketBook:
    """Tickets by id, and by contact (a call's screen shows the caller's open ones)."""

    __slots__ = ("_by_contact", "_next_id", "feedback", "tickets")

    def __init__(self) -> None:
        self.tickets: dict[int, Ticket] = {}
        self.feedback: list[FeedbackRequest] = []
        self._by_contact: dict[int, list[Ticket]] = {}
        self._next_id = 1

    def open(self, contact: int, subject: str, at: datetime, by: str) -> Ticket:
        ticket = Ticket(self._next_id, contact, subject)
        ticket.changes.append(Change(at, Status.OPEN, by, subject))
        self.restore(ticket)
        return ticket

    def restore(self, ticket: Ticket) -> None:
        """Put back a ticket kept elsewhere (a database), with its id and changes."""
        old = self.tickets.get(ticket.id)
        if old is not None:  # put back again: the newer copy replaces it
            self._by_contact[old.contact].remove(old)
        self.tickets[ticket.id] = ticket
        self._by_contact.setdefault(ticket.contact, []).append(ticket)
        self._next_id = max(self._next_id, ticket.id + 1)

    def open_for(self, contact: int) -> list[Ticket]:
        """The contact's tickets that are not closed (to update instead of opening anew)."""
        return [t for t in self._by_contact.get(contact, ()) if t.status is not Status.CLOSED]

    def move(self, source: int, into: int) -> list[Ticket]:
        """The tickets of contact ``source`` now belong to ``into`` (a placeholder contact
        merged into a known one); returns them."""
        moved = self._by_contact.pop(source, [])
        for t in moved:
            t.contact = into
        self._by_contact.setdefault(into, []).extend(moved)
        return moved

    def check(
        self, ticket_id: int, status: Status, at: datetime, follow_up_due: datetime | None = None
    ) -> Ticket:
        """Raise if ``change`` would refuse this status change; the ticket if it would
        not (so a request doing more than the change can be refused before any of it)."""
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            raise UnknownTicketError(f"ticket {ticket_id} does not exist")
        if status not in ALLOWED[ticket.status]:
            allowed = ", ".join(sorted(s.value for s in ALLOWED[ticket.status])) or "none"
            raise InvalidTransitionError(
                f"ticket {ticket_id}: cannot go from {ticket.status.value} to {status.value} "
                f"(allowed: {allowed})"
            )
        if status is Status.NEEDS_FOLLOW_UP and (follow_up_due is None or follow_up_due <= at):
            raise PolicyError(
                f"ticket {ticket_id}: needs_follow_up needs a due time after {at:%Y-%m-%d %H:%M}"
            )
        return ticket

    def change(
        self,
        ticket_id: int,
        status: Status,
        at: datetime,
        by: str,
        note: str = "",
        *,
        follow_up_due: datetime | None = None,
        feedback_channel: str = "email",
    ) -> Ticket:
        ticket = self.check(ticket_id, status, at, follow_up_due)
        ticket.follow_up_due = follow_up_due if status is Status.NEEDS_FOLLOW_UP else None
        ticket.status = status
        ticket.changes.append(Change(at, status, by, note))
        if status is Status.CLOSED:
            self.feedback.append(FeedbackRequest(ticket.id, ticket.contact, at, feedback_channel))
        return ticket

    def due(self, at: datetime) -> list[Ticket]:
        """Tickets whose follow-up is due at ``at``."""
        return [
            t
            for t in self.tickets.values()
            if t.status is Status.NEEDS_FOLLOW_UP
            and t.follow_up_due is not None
            and t.follow_up_due <= at
        ]
