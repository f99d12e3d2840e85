"""The live service's database: the Alembic migrations build exactly the schema the code
declares, and a database made by an older release is upgraded on start, rows kept."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, select, text

from callsim.store import Store, tables
from callsim.store.db import MIGRATIONS


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
    engine.dispose()
    store = Store(url)
    try:
        cols = tables.calls.c
        (row,) = store.rows(select(cols.id, cols.transfers, cols.callback_s))
        assert (row.id, row.transfers, row.callback_s) == (7, "[]", None)
        head = MigrationContext.configure(store.conn).get_current_revision()
        assert head == "0004"
    finally:
        store.close()
