"""The live service's desk: contacts, notes, tickets, client cards and employee search.

What an agent reads and writes beside the call itself. Contacts and tickets live in the
core's books (``ContactBook``, ``TicketBook``: the rules); the desk stages their rows in
the unit of work and their events in the stream.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from callsim.core import (
    ClientBook,
    ContactBook,
    InboundFlow,
    PolicyResult,
    Status,
    TicketBook,
    instruction_for,
)
from callsim.core.practice import Ask, asks_of, caller_reply
from callsim.core.ticket import Ticket
from callsim.errors import (
    InputError,
    InvalidEventError,
    NotFoundError,
    PolicyError,
    UnknownClientError,
    UnknownContactError,
    UnknownTicketError,
)
from callsim.live.clock import Clock
from callsim.live.codec import contact_fields, dumps, jsonable, ticket_view
from callsim.live.commit import Batch, UnitOfWork
from callsim.live.events import EventStream
from callsim.live.ledger import OpenCall
from callsim.store import practice as practice_store
from callsim.store import tables


class Desk:
    """Contacts, notes, tickets and clients of one centre."""

    def __init__(
        self,
        contacts: ContactBook,
        tickets: TicketBook,
        clients: ClientBook,
        flow: InboundFlow,
        clock: Clock,
        uow: UnitOfWork,
        events: EventStream,
        wall: Callable[[], float],
        calls: Mapping[int, OpenCall],
    ) -> None:
        self.contacts = contacts
        self.tickets = tickets
        self.flow = flow
        self.clock = clock
        self.uow = uow
        self.events = events
        self._wall = wall
        self.calls = calls  # the open calls (the ledger's)
        self._client_by_name = {c.name: c for c in clients.clients.values()}
        self._counters: dict[str, int] = {}  # next ids of notes (max + 1 on first use)
        self._talk: dict[int, list[dict[str, Any]]] = {}  # practice calls' conversations

    def client_names(self) -> list[str]:
        return list(self._client_by_name)

    def contact_row(self, contact_id: int) -> dict[str, Any]:
        """A contact as stored (the unit of work writes the contacts a turn changed)."""
        contact = self.contacts.contacts[contact_id]
        return {
            "id": contact_id,
            "data": dumps(jsonable(contact)),
            "updated_unix": self._wall(),
        }

    # -- contacts -------------------------------------------------------------------------

    def contact(self, contact_id: int) -> dict[str, Any]:
        found = self.contacts.contacts.get(contact_id)
        if found is None:
            raise UnknownContactError(f"contact {contact_id} does not exist", field="contact_id")
        return {"contact_id": found.id, **{k: v for k, v in jsonable(found).items() if k != "id"}}

    def lookup(self, number: str) -> list[dict[str, Any]]:
        found = self.contacts.find(number)
        return [] if found is None else [self.contact(found.id)]

    def add_contact(self, numbers: Sequence[str], fields: Mapping[str, Any]) -> dict[str, Any]:
        for n in numbers:
            if self.lookup(n):
                raise PolicyError(f"number {n!r} already belongs to a contact", field="numbers")
        batch = self.uow.unit()
        contact = self.contacts.add([], **contact_fields(fields))
        for n in numbers:
            self.contacts.attach_number(contact.id, n)
        batch.contacts.add(contact.id)
        return self.contact(contact.id)

    def update_contact(self, contact_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        self.contact(contact_id)
        contact = self.contacts.contacts[contact_id]
        values = contact_fields(fields)
        batch = self.uow.unit()
        for k, v in values.items():
            setattr(contact, k, v)
        batch.contacts.add(contact_id)
        return self.contact(contact_id)

    def attach_number(self, contact_id: int, number: str) -> dict[str, Any]:
        """Attach ``number`` to a contact; a placeholder created for the number is merged
        in (its tickets move along), and an open call from the number becomes the
        contact's: its screen pop shows the contact from then on."""
        self.contact(contact_id)
        batch = self.uow.unit()
        merged = self.contacts.attach_number(contact_id, number)
        batch.contacts.add(contact_id)
        if merged is not None:
            batch.contacts.add(merged.id)
            for ticket in self.tickets.move(merged.id, contact_id):
                row = self._ticket_row(ticket.id)
                self._save_ticket(batch, ticket, row.client, row.call)
            for call in self.calls.values():
                if call.inbound is not None and call.inbound.contact is merged:
                    self.flow.recognise(call.inbound)
        return self.contact(contact_id)

    def search_contacts(self, text: str, limit: int) -> list[dict[str, Any]]:
        return [self.contact(c.id) for c in self.contacts.search(text, limit)]

    # -- notes and tickets ----------------------------------------------------------------

    def notes(
        self, *, call: int | None = None, client: str | None = None, after: int = 0,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:  # fmt: skip
        rows = self.uow.reader().notes(call, client, after, limit)
        return [
            {"note_id": r.id, **{k: v for k, v in r._mapping.items() if k != "id"}} for r in rows
        ]

    def add_note(
        self,
        batch: Batch,
        call: OpenCall,
        text: str,
        callback: str | None,
        result: PolicyResult,
        at: float,
    ) -> int:
        note_id = self.next_id("notes")
        batch.extra.append(
            (
                tables.notes,
                [
                    {
                        "id": note_id,
                        "call": call.id,
                        "client": call.row["client"],
                        "contact": call.row["contact"],
                        "agent": call.row["agent"] or "",
                        "text": text,
                        "callback_number": callback,
                        "policy_result": result.value,
                        "at_unix": at,
                    }
                ],
                False,
            )
        )
        self.events.emit(
            batch,
            "note",
            self.clock.now(),
            call_id=call.id,
            client=call.row["client"],
            agent=call.row["agent"],
            note_id=note_id,
        )
        return note_id

    def next_id(self, table: str) -> int:
        counters = self._counters
        if table not in counters:
            # committed, not flushed: ids staged come from here
            counters[table] = self.uow.repository.next_id(table)
        value: int = counters[table]
        counters[table] = value + 1
        return value

    def open_ticket(
        self,
        contact: int,
        subject: str,
        by: str,
        *,
        client: str | None = None,
        call: int | None = None,
    ) -> dict[str, Any]:
        self.contact(contact)
        batch = self.uow.unit()
        ticket = self.tickets.open(contact, subject, self.clock.calendar(), by)
        self._save_ticket(batch, ticket, client, call)
        return self.ticket(ticket.id)

    def change_ticket(
        self,
        ticket_id: int,
        status: str,
        by: str,
        note: str = "",
        follow_up_due: datetime | None = None,
    ) -> dict[str, Any]:
        try:
            new = Status(status)
        except ValueError:
            allowed = ", ".join(s.value for s in Status)
            raise InputError(f"{status!r} is not a status ({allowed})", field="status") from None
        current = self._ticket_row(ticket_id)
        batch = self.uow.unit()
        ticket = self.tickets.change(
            ticket_id, new, self.clock.calendar(), by, note, follow_up_due=follow_up_due
        )
        self._save_ticket(batch, ticket, current.client, current.call)
        return self.ticket(ticket_id)

    def check_ticket(self, contact: int | None, spec: Mapping[str, Any]) -> None:
        """Refuse a call's ticket update that the ticket book would refuse."""
        try:
            if spec.get("ticket_id") is not None:
                status = Status(spec.get("status") or "open")
                due = spec.get("follow_up_due")
                self.tickets.check(int(spec["ticket_id"]), status, self.clock.calendar(), due)
            elif contact is None:
                raise PolicyError("a ticket needs the caller's contact: this call has none")
        except (PolicyError, NotFoundError) as exc:
            raise type(exc)(exc.reason, field="ticket") from None

    def ticket_for_call(
        self,
        batch: Batch,
        call: OpenCall,
        contact: int | None,
        spec: Mapping[str, Any],
        now: float,
    ) -> dict[str, Any]:
        by = call.row["agent"] or ""
        if spec.get("ticket_id") is not None:
            tid = int(spec["ticket_id"])
            current = self._ticket_row(tid)
            ticket = self.tickets.change(
                tid,
                Status(spec.get("status") or "open"),
                self.clock.calendar(),
                by,
                spec.get("note") or "",
                follow_up_due=spec.get("follow_up_due"),
            )
            self._save_ticket(batch, ticket, current.client, current.call)
        else:
            assert contact is not None  # _check_ticket refused a ticket without one
            ticket = self.tickets.open(
                contact, spec.get("subject") or "", self.clock.calendar(), by
            )
            self._save_ticket(batch, ticket, call.row["client"], call.id)
        return ticket_view(ticket)

    def _ticket_row(self, ticket_id: int) -> Any:
        row = self.uow.reader().ticket(ticket_id)
        if row is None:
            raise UnknownTicketError(f"ticket {ticket_id} does not exist", field="ticket_id")
        return row

    def _save_ticket(
        self, batch: Batch, ticket: Ticket, client: str | None, call: int | None
    ) -> None:
        batch.extra.append(
            (
                tables.tickets,
                [
                    {
                        "id": ticket.id,
                        "contact": ticket.contact,
                        "client": client,
                        "call": call,
                        "data": dumps(jsonable(ticket)),
                        "updated_unix": self._wall(),
                    }
                ],
                True,
            )
        )
        self.events.emit(
            batch,
            "ticket",
            self.clock.now(),
            ticket_id=ticket.id,
            client=client,
            status=ticket.status.value,
        )

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        found = self.tickets.tickets.get(ticket_id)
        if found is None:
            self._ticket_row(ticket_id)
        assert found is not None
        view = ticket_view(found)
        view["client"] = self._ticket_row(ticket_id).client
        return view

    # -- clients --------------------------------------------------------------------------

    def _client(self, name: str) -> Any:
        found = self._client_by_name.get(name)
        if found is None:
            raise UnknownClientError(
                f"client {name!r} does not exist (clients: {', '.join(self._client_by_name)})",
                field="client",
            )
        return found

    def client_card(self, name: str) -> dict[str, Any]:
        """What an agent reads about a client: greeting, tone, treatment now, hours, the
        FAQ tree and how many employees its directory holds (search them apart)."""
        client = self._client(name)
        return {
            "client": client.name,
            "numbers": list(client.numbers),
            "queue": client.queue,
            "tone": client.tone.value,
            "instruction": jsonable(instruction_for(client, self.clock.calendar())),
            "faq": jsonable(client.faq),
            "employees": len(client.employees),
            "own_numbers": list(client.own_numbers),
        }

    def employees(self, name: str, text: str, limit: int = 20) -> list[dict[str, Any]]:
        """The client's employees matching every word of ``text`` (a word-prefix search
        in the core's index: instant with thousands); all of them, up to ``limit``, for
        an empty text."""
        directory = self._client(name).employees
        found = directory.search(text, limit) if text.strip() else directory.employees[:limit]
        return [jsonable(e) for e in found]

    # -- practice calls: the caller who talks, the trainee's scored calls -----------------

    def practice_call(self, call_id: int) -> tuple[OpenCall, Mapping[str, Any]]:
        """An open practice call and its card (409 for any other call)."""
        call = self.calls.get(call_id)
        if call is None or call.practice is None:
            raise InvalidEventError(f"call {call_id} is no open practice call")
        return call, call.practice

    def practice_lines(self, call_id: int) -> list[dict[str, Any]]:
        """A practice call's conversation so far: the caller's first words (line 0),
        then each line the trainee said and the caller's answers to it."""
        _, card = self.practice_call(call_id)
        lines = self._talk.get(call_id)
        if lines is None:
            for ended in [k for k in self._talk if k not in self.calls]:
                del self._talk[ended]  # hung up or transferred: never scored
            first = {"line": 0, "who": "caller", "text": card["says"], "ask": None}
            lines = self._talk[call_id] = [first]
        return lines

    def practice_say(self, call_id: int, text: str) -> list[dict[str, Any]]:
        """The trainee says ``text`` to a practice call's caller (talking only): the
        caller answers each thing it asks for from the card (``caller_reply``). The new
        lines: the trainee's, then the caller's."""
        call, card = self.practice_call(call_id)
        if call.row["status"] != "talking":
            raise InvalidEventError(f"call {call_id} is {call.row['status']}, not talking")
        if not text.strip():
            raise InputError("say something to the caller", field="text")
        lines = self.practice_lines(call_id)
        asks = asks_of(text)
        new = [{"line": len(lines), "who": "trainee", "text": text.strip(),
                "ask": [a.value for a in asks]}]  # fmt: skip
        if asks or len(lines) > 1:  # the first line is the greeting: the caller has spoken
            answered: list[Ask | None] = [*asks] or [None]  # None: not understood
            for ask in answered:
                mine = [x for x in lines if x["who"] == "trainee"]
                before = sum(ask.value in x["ask"] for x in mine) if ask else 0
                reply = caller_reply(card, ask, before)
                new.append({"line": len(lines) + len(new), "who": "caller", "text": reply,
                            "ask": ask.value if ask else None})  # fmt: skip
        lines += new
        return new

    def practice_talk(self, call_id: int) -> dict[str, list[str]]:
        """What the trainee said to a practice call's caller (the first line their
        greeting) and what they asked for: for the grade (``score_handling``)."""
        mine = [x for x in self._talk.get(call_id, []) if x["who"] == "trainee"]
        return {"said": [x["text"] for x in mine], "asked": [a for x in mine for a in x["ask"]]}

    def practice_scored(self, batch: Batch, call: OpenCall, score: Mapping[str, Any]) -> None:
        """Stage the trainee's scored practice call (its grade and conversation) into
        their history, at the centre's calendar time (the class's sessions are its days);
        the conversation is done with."""
        lines = self._talk.pop(call.id, [])
        at = self.clock.unix(self.clock.now())
        batch.extra.append(
            (tables.practice_results,
             [practice_store.row(call.id, call.row["agent"] or "", score, lines, at)], True)
        )  # fmt: skip

    def practice_results(
        self, agent: str | None, after: int = 0, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """Scored practice calls (of ``agent``, or everyone's), by call id."""
        return practice_store.results(self.uow.reader().store, agent, after, limit)
