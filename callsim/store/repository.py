"""The live service's storage seam: every query and write of its tables, by name.

The service's unit of work hands a turn's changes to ``save`` (one transaction); its
views, desk and statistics read through the other methods. A reader follows a request
from the endpoint to the row here: ``Service.arrive`` stages the call's row, the turn's
``UnitOfWork.flush`` calls ``save``, which upserts it into ``calls``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Table, func, select, update

from callsim.store import tables
from callsim.store.db import Store

Row = Mapping[str, Any]
EVENT_PAGE = 100_000  # the most events read back at once


class Repository:
    """The live service's tables in ``store``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- runs and start-up --------------------------------------------------------------

    def interrupt_open_calls(self, outcome: str, over: Mapping[str, str]) -> None:
        """Close what a killed run left open: a call whose talk was over keeps the outcome
        its status says (``over``: status -> outcome; answer, talk and end as stored), the
        others end with ``outcome`` (an answered one keeps its answer)."""
        c = tables.calls.c
        with self.store.transaction() as conn:
            for status, ended in over.items():
                conn.execute(
                    update(tables.calls)
                    .where(c.outcome.is_(None), c.status == status)
                    .values(outcome=ended, status=ended)
                )
            conn.execute(
                update(tables.calls)
                .where(c.outcome.is_(None))
                .values(outcome=outcome, status=outcome)
            )

    def start_run(self, at: float, speedup: float, scenario: str, scenario_hash: str) -> int:
        with self.store.transaction() as conn:
            return int(
                conn.execute(
                    tables.runs.insert().values(
                        started_unix=at,
                        epoch_unix=at,
                        speedup=speedup,
                        scenario=scenario[:200],
                        scenario_hash=scenario_hash,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )

    def stop_run(self, run: int, at: float) -> None:
        with self.store.transaction() as conn:
            conn.execute(update(tables.runs).where(tables.runs.c.id == run).values(stopped_unix=at))

    def next_id(self, table: str) -> int:
        """The id after the largest committed in ``table`` (calls, events, notes)."""
        t = getattr(tables, table)
        return int(self.store.scalar(select(func.max(t.c.id))) or 0) + 1

    def agents(self) -> list[Any]:
        return self.store.rows(select(tables.agents))

    def contacts(self) -> list[Any]:
        return self.store.rows(select(tables.contacts).order_by(tables.contacts.c.id))

    def tickets(self) -> list[Any]:
        return self.store.rows(select(tables.tickets).order_by(tables.tickets.c.id))

    # -- the unit of work's write -------------------------------------------------------

    def ping(self) -> None:
        self.store.ping()

    @property
    def out(self) -> bool:
        """The last transaction could not reach the database."""
        return self.store.out

    def save(
        self,
        calls: Sequence[Row],
        events: Sequence[Row],
        agent_events: Sequence[Row],
        spans: Sequence[Row],
        decisions: Sequence[Row],
        contacts: Sequence[Row],
        extra: Sequence[tuple[Table, Sequence[Row], bool]],
    ) -> None:
        """Write one turn's rows in one transaction: calls and contacts as they are now
        (upserted), the rest appended; ``extra`` is (table, rows, upsert)."""
        store = self.store
        with store.transaction() as conn:
            store.upsert(conn, tables.calls, calls)
            store.insert(conn, tables.events, events)
            store.insert(conn, tables.agent_events, agent_events)
            store.insert(conn, tables.spans, spans)
            store.insert(conn, tables.decisions, decisions)
            store.upsert(conn, tables.contacts, contacts)
            for table, rows, upsert in extra:
                (store.upsert if upsert else store.insert)(conn, table, rows)

    # -- the API's idempotency keys ------------------------------------------------------

    def idempotent_answer(self, principal: int, key: str) -> Any:
        """The answer first given to ``principal``'s request with ``key`` (its ``request``,
        ``status`` and ``body``), or None."""
        i = tables.idempotency.c
        found = self.store.rows(
            select(i.request, i.status, i.body).where(i.principal == principal, i.key == key)
        )
        return found[0] if found else None

    @staticmethod
    def remember_answer(
        principal: int, key: str, request: str, status: int, body: str
    ) -> tuple[Table, list[dict[str, Any]], bool]:
        """The write that keeps an answer for ``idempotent_answer``: staged with the
        turn's changes (a ``save`` extra), so the answer commits with what it did."""
        row = {"principal": principal, "key": key, "request": request, "status": status}
        return tables.idempotency, [{**row, "body": body}], False

    @staticmethod
    def staged_answer(
        extra: Sequence[tuple[Table, Sequence[Row], bool]], principal: int, key: str
    ) -> Any:
        """The answer to ``key`` among writes not yet saved (``remember_answer``'s), as
        ``idempotent_answer`` gives it, or None."""
        for table, rows, _ in extra:
            if table is tables.idempotency:
                for row in rows:
                    if row["principal"] == principal and row["key"] == key:
                        return SimpleNamespace(**row)
        return None

    # -- reads ----------------------------------------------------------------------------

    def call(self, call_id: int) -> Any:
        """The stored row of a call, or None."""
        found = self.store.rows(select(tables.calls).where(tables.calls.c.id == call_id))
        return found[0] if found else None

    def records(self, after: int, limit: int, client: str | None) -> list[Any]:
        """Ended calls with ids above ``after``, by id."""
        c = tables.calls.c
        query = select(tables.calls).where(c.id > after, c.outcome.is_not(None))
        if client is not None:
            query = query.where(c.client == client)
        return self.store.rows(query.order_by(c.id).limit(limit))

    def ended_between(self, start_unix: float, end_unix: float) -> list[Any]:
        """The ended calls that arrived in [start, end), by id."""
        c = tables.calls.c
        return self.store.rows(
            select(tables.calls)
            .where(c.arrived_unix >= start_unix, c.arrived_unix < end_unix)
            .where(c.outcome.is_not(None))
            .order_by(c.id)
        )

    def spans_between(self, start_unix: float, end_unix: float) -> list[Any]:
        s = tables.spans.c
        return self.store.rows(
            select(tables.spans).where(s.end_unix > start_unix, s.start_unix < end_unix)
        )

    def decisions(self, call_id: int) -> list[str]:
        d = tables.decisions.c
        return [
            r.data for r in self.store.rows(select(d.data).where(d.call == call_id).order_by(d.id))
        ]

    def events_after(self, last_id: int) -> list[str]:
        e = tables.events.c
        query = select(e.data).where(e.id > last_id).order_by(e.id).limit(EVENT_PAGE)
        return [r.data for r in self.store.rows(query)]

    def notes(
        self, call: int | None, client: str | None, after: int = 0, limit: int = 1000
    ) -> list[Any]:
        """Notes with ids above ``after``, by id, at most ``limit`` (a page)."""
        n = tables.notes.c
        query = select(tables.notes).where(n.id > after).order_by(n.id).limit(limit)
        if call is not None:
            query = query.where(n.call == call)
        if client is not None:
            query = query.where(n.client == client)
        return self.store.rows(query)

    def ticket(self, ticket_id: int) -> Any:
        """The stored row of a ticket, or None."""
        found = self.store.rows(select(tables.tickets).where(tables.tickets.c.id == ticket_id))
        return found[0] if found else None

    def first_contacts(
        self, start_unix: float, end_unix: float, window_s: float, client: str | None
    ) -> tuple[list[tuple[int, int, float]], dict[int, list[float]], list[Any]]:
        """What first-contact resolution counts for a day [start, end): its answered calls
        from identified callers (id, contact, arrived), every call of those callers from
        the day's start to the window's end (by contact, in time order), and the tickets
        (id, call) of the day's calls."""
        c = tables.calls.c
        in_day = [c.arrived_unix >= start_unix, c.arrived_unix < end_unix, c.contact.is_not(None)]
        if client is not None:
            in_day.append(c.client == client)
        answered = [
            (r.id, r.contact, r.arrived_unix)
            for r in self.store.rows(
                select(c.id, c.contact, c.arrived_unix).where(*in_day, c.outcome == "answered")
            )
        ]
        calls_of: dict[int, list[float]] = {}
        callers = select(c.contact).where(*in_day)
        for r in self.store.rows(
            select(c.contact, c.arrived_unix)
            .where(c.contact.in_(callers), c.arrived_unix >= start_unix)
            .where(c.arrived_unix < end_unix + window_s)
            .order_by(c.arrived_unix)
        ):
            calls_of.setdefault(r.contact, []).append(r.arrived_unix)
        t = tables.tickets.c
        tickets = self.store.rows(
            select(t.id, t.call).where(t.call.in_(select(c.id).where(*in_day)))
        )
        return answered, calls_of, tickets
