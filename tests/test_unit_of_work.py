"""The unit of work's idempotency read: a retry finds the first answer among the turn's
own writes without committing the turn on its own (every request with a key used to cost
a transaction), and in the store once committed. A real SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

from callsim.live.commit import UnitOfWork
from callsim.store import Store
from callsim.store.repository import Repository


def test_an_answer_is_found_staged_without_a_commit_then_stored(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'uow.db'}")
    repository = Repository(store)

    async def run() -> None:
        uow = UnitOfWork(repository, dict, lambda i: {}, lambda events: None)
        uow.unit().extra.append(
            Repository.remember_answer(7, "k-1", "POST /v1/calls", 201, '{"call_id": 1}')
        )
        first = uow.answer(7, "k-1")
        assert (first.request, first.status, first.body) == (
            "POST /v1/calls",
            201,
            '{"call_id": 1}',
        )
        assert uow.answer(7, "k-2") is None  # another key
        assert uow.answer(8, "k-1") is None  # another principal's
        # found among the turn's writes: the turn was not committed for it
        assert repository.idempotent_answer(7, "k-1") is None
        await uow.settled()  # the turn ends: its commit
        assert repository.idempotent_answer(7, "k-1") is not None
        stored = uow.answer(7, "k-1")
        assert (stored.request, stored.status, stored.body) == (
            "POST /v1/calls",
            201,
            '{"call_id": 1}',
        )

    try:
        asyncio.run(run())
    finally:
        store.close()
