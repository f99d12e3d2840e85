"""The live service's database: the Alembic migrations build exactly the schema the code
declares, and a database made by an older release is upgraded on start, rows kept."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, select, text

from callsim.store import Store, hash_key, tables
from callsim.store.db import MIGRATIONS
from callsim.store.repository import Repository


def test_the_migrations_build_the_schema_the_code_declares(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "new.db"))
    try:
        context = MigrationContext.configure(store.conn)
        assert compare_metadata(context, tables.metadata) == []
    finally:
        store.close()


def test_a_database_of_the_first_release_is_upgraded_keeping_its_calls(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:  # the schema as the first release left it, with a call
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(
            text(
                "INSERT INTO calls (id, run, ani, dnis, queue, status, policy_result, "
                "identification, vip, ivr_path, arrived_unix, arrival_s, overflowed, offers) "
                "VALUES (7, 1, '+4790000001', '+4721501127', 'reception', 'answered', 'none', "
                "'withheld', 0, '', 0, 0, '[]', '[]')"
            )
        )
        conn.execute(  # a key of the first release: it never expires and is not revoked
            text(
                "INSERT INTO keys (id, hash, role, label, created_unix) "
                f"VALUES (3, '{hash_key('old-key')}', 'supervisor', 'Siri', 0)"
            )
        )
    engine.dispose()
    store = Store(url)
    try:
        cols = tables.calls.c
        (row,) = store.rows(select(cols.id, cols.transfers, cols.callback_s))
        assert (row.id, row.transfers, row.callback_s) == (7, "[]", None)
        key = store.find_key("old-key")
        assert (key.id, key.role, key.expires_unix, key.revoked_unix) == (
            3,
            "supervisor",
            None,
            None,
        )
        head = MigrationContext.configure(store.conn).get_current_revision()
        assert head == "0006"
    finally:
        store.close()


def test_the_repository_writes_a_turn_and_reads_it_back(tmp_path: Path) -> None:
    """The live service's one storage seam: a turn's rows in one transaction, read by name."""
    store = Store(str(tmp_path / "repo.db"))
    try:
        repo = Repository(store)
        run = repo.start_run(1000.0, 1.0, "x.yaml", "abc")
        assert (repo.next_id("calls"), repo.next_id("events")) == (1, 1)
        row = {
            "id": 1, "run": run, "client": None, "ani": "+47", "dnis": "", "queue": "q",
            "final_queue": None, "status": "waiting", "outcome": None, "policy_result": "none",
            "identification": "withheld", "contact": None, "vip": False, "ivr_path": "",
            "language": None, "priority": None, "arrived_unix": 1000.0, "arrival_s": 0.0,
            "queued_s": None, "answer_s": None, "end_s": None, "agent": None, "wait_s": None,
            "ring_s": None, "talk_s": None, "wrap_up_s": None, "ended_by": None,
            "overflowed": "[]", "offers": "[]", "transfers": "[]", "instruction": None,
            "practice": None, "callback_s": None, "position": 1,
        }  # fmt: skip
        event = {"id": 1, "type": "waiting", "at_s": 0.0, "at_unix": 1000.0, "data": '{"id":1}'}
        repo.save([row], [event], [], [], [{"call": 1, "data": "{}"}], [], [])
        assert repo.call(1).status == "waiting"
        assert repo.call(2) is None
        assert (repo.next_id("calls"), repo.events_after(0), repo.decisions(1)) == (
            2, ['{"id":1}'], ["{}"],
        )  # fmt: skip
        assert repo.records(0, 10, None) == []  # not ended yet
        wrapping = {**row, "id": 2, "status": "wrap_up", "answer_s": 3.0, "end_s": 70.0,
                    "talk_s": 67.0, "agent": "a"}  # fmt: skip
        repo.save([wrapping], [], [], [], [], [], [])
        repo.interrupt_open_calls("interrupted", {"wrap_up": "answered"})
        kept = {r.id: (r.outcome, r.status, r.answer_s, r.end_s, r.talk_s)
                for r in repo.records(0, 10, None)}  # fmt: skip
        assert kept == {
            1: ("interrupted", "interrupted", None, None, None),
            2: ("answered", "answered", 3.0, 70.0, 67.0),  # its talk was over: as acknowledged
        }
        assert [r.id for r in repo.ended_between(1000.0, 1001.0)] == [1, 2]
    finally:
        store.close()
