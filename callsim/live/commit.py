"""The live service's unit of work: group commit of one event-loop turn.

Every change of a turn (requests and timers alike) is staged in one ``Batch``; when the
turn ends, ``flush`` writes it in one transaction (the repository's ``save``), then wakes
the answers waiting in ``settled`` (an answer leaves only once its changes are durable)
and publishes the turn's events. Reads go through ``reader``, which commits what is
staged first, so a read sees every change.

A database outage (on SQLite: another process holding the write lock past
``db.BUSY_MS``): once a read or a commit has found it, until one goes through, a request
checks the database first (``check``) and is refused with ``UnavailableError`` (503) before
it has any effect. A commit that finds it is kept, not lost: its batch is tried again every
``RETRY_S`` and goes with the next commit; its answers are 503 (a retry with the same
Idempotency-Key returns the first answer once it is stored). No check costs anything while
the database is there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from callsim.errors import UnavailableError
from callsim.store.repository import Repository

RETRY_S = 1.0  # a kept batch is committed again this often while the database is out


class Batch:
    """What one unit of work writes."""

    __slots__ = ("agent_events", "calls", "contacts", "decisions", "events", "extra", "spans")

    def __init__(self) -> None:
        self.calls: dict[int, dict[str, Any]] = {}  # the rows of calls changed (live dicts)
        self.events: list[dict[str, Any]] = []
        self.agent_events: list[dict[str, Any]] = []
        self.spans: list[dict[str, Any]] = []
        self.decisions: list[dict[str, Any]] = []
        self.contacts: set[int] = set()
        self.extra: list[tuple[Any, list[dict[str, Any]], bool]] = []  # (table, rows, upsert)

    def absorb(self, older: Batch) -> None:
        """Take ``older``'s changes in before this batch's own (a failed commit kept)."""
        self.calls = {**older.calls, **self.calls}  # the live rows: as they are now
        self.events[:0] = older.events
        self.agent_events[:0] = older.agent_events
        self.spans[:0] = older.spans
        self.decisions[:0] = older.decisions
        self.contacts |= older.contacts
        self.extra[:0] = older.extra

    def __bool__(self) -> bool:
        return bool(
            self.calls or self.events or self.agent_events or self.spans or self.decisions
            or self.contacts or self.extra
        )  # fmt: skip

    def take(self) -> Batch:
        """A batch holding what this one holds; this one is left empty."""
        taken = Batch()
        for name in self.__slots__:
            value = getattr(self, name)
            setattr(self, name, getattr(taken, name))
            setattr(taken, name, value)
        return taken


class UnitOfWork:
    """Stages a turn's changes and commits them when the turn ends.

    ``event_row`` and ``contact_row`` encode a staged event and a changed contact as
    rows; ``publish`` receives the events of each commit once it is durable."""

    def __init__(
        self,
        repository: Repository,
        event_row: Callable[[Mapping[str, Any]], dict[str, Any]],
        contact_row: Callable[[int], dict[str, Any]],
        publish: Callable[[list[dict[str, Any]]], None],
    ) -> None:
        self.repository = repository  # as committed (no flush): see ``reader``
        self._event_row = event_row
        self._contact_row = contact_row
        self._publish = publish
        self._loop = asyncio.get_running_loop()
        self.staged = Batch()  # what this turn of the event loop changed
        self._flush_due = False
        self._waiters: list[asyncio.Future[None]] = []

    def check(self) -> None:
        """Before a request changes anything while the database is out: is it back?
        ``UnavailableError`` if not (the request has had no effect)."""
        if not self.repository.out:
            return
        try:
            self.repository.ping()
        except Exception as exc:
            raise UnavailableError(
                "the database cannot be reached; nothing was changed, try again"
            ) from exc
        self.unit()  # back: this turn's commit takes what the outage kept along

    def unit(self) -> Batch:
        """What this turn of the event loop stages: every change made in the turn commits
        in one transaction when the turn ends (group commit; see ``flush``)."""
        if not self._flush_due:
            self._flush_due = True
            self._loop.call_soon(self.flush)
        return self.staged

    def flush(self) -> None:
        """Commit what is staged, then wake those waiting in ``settled`` (an answer leaves
        only after its changes committed) and publish the events. A commit that fails is
        kept for the next (see the module docstring); its answers are 503."""
        self._flush_due = False
        waiters, self._waiters = self._waiters, []
        events: list[dict[str, Any]] = []
        if self.staged:
            batch = self.staged.take()
            try:
                self._commit(batch)
            except UnavailableError as exc:  # kept: stored when the database is back
                self.staged.absorb(batch)
                self._loop.call_later(RETRY_S, self.unit)
                error = _kept()
                error.__cause__ = exc
                _wake(waiters, error)
                return
            except Exception as exc:  # refused by the database: every waiting answer says so
                if not waiters:
                    raise
                _wake(waiters, exc)
                return
            events = batch.events
        _wake(waiters, None)
        if events:
            self._publish(events)  # once durable; no reader can fail the commit

    async def settled(self) -> None:
        """Return once everything staged so far has committed (at once if nothing is).
        While the database is out, what it kept is stored by the retry, not by a commit
        tried for each answer on the event loop: the answer is the kept 503 at once."""
        if self.repository.out and self.staged and not self._flush_due:
            raise _kept()
        if self._flush_due or self.staged:
            self.unit()
            waiter = self._loop.create_future()
            self._waiters.append(waiter)
            await waiter

    def reader(self) -> Repository:
        """The repository, after committing what is staged: reads see every change
        (``UnavailableError`` while the database is out)."""
        if self.repository.out and self.staged:  # what the outage kept is not stored yet
            # (the retry commits it: a read does not wait for the database on the loop)
            raise UnavailableError("the database cannot be reached; try again")
        if self.staged:
            self.flush()
            if self.repository.out:  # this commit met the outage
                raise UnavailableError("the database cannot be reached; try again")
        return self.repository

    def answer(self, principal: int, key: str) -> Any:
        """The first answer kept for ``principal``'s idempotency ``key``: among this
        turn's writes (or those an outage kept), else stored. Unlike ``reader`` it does not
        commit the turn first (a retry must not cost every request a transaction of its
        own); while the database is out it is ``reader``'s (``UnavailableError``)."""
        staged = Repository.staged_answer(self.staged.extra, principal, key)
        if staged is not None:
            return staged
        source = self.reader() if self.repository.out else self.repository
        return source.idempotent_answer(principal, key)

    def _commit(self, batch: Batch) -> None:
        self.repository.save(
            list(batch.calls.values()),  # rows as they are
            [self._event_row(e) for e in batch.events],
            batch.agent_events,
            batch.spans,
            batch.decisions,
            [self._contact_row(i) for i in batch.contacts],
            batch.extra,
        )


def _kept() -> UnavailableError:
    """The 503 of an answer whose commit an outage kept."""
    return UnavailableError(
        "the database went out as this was stored: it is kept and stored when the "
        "database is back; a retry with the same Idempotency-Key then returns this "
        "request's answer"
    )


def _wake(waiters: list[asyncio.Future[None]], error: BaseException | None) -> None:
    """Answer the answers waiting for a commit: done, or ``error``."""
    for w in waiters:
        if not w.done():
            if error is None:
                w.set_result(None)
            else:
                w.set_exception(error)
