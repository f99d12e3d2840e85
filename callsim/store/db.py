"""The database of the live service: one connection, one transaction per unit of work.

``Store(url)`` opens ``sqlite:///FILE`` (WAL, synchronous=NORMAL: a commit is durable
against a crash of the process, and of the machine up to the last checkpoint; checkpoints
run on a thread of their own, ``_Checkpointer``, never in a commit; a busy time-out of
``BUSY_MS``: another process's write lock is an outage, not a stalled event loop)
or ``postgresql+psycopg://...`` and applies the migrations (Alembic) before anything else.
The service runs on one event-loop thread, so one connection serves it; ``write`` commits
a batch of rows in one transaction and returns only once it is committed.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Table, create_engine, event, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from callsim.errors import InputError, UnavailableError
from callsim.store import tables

MIGRATIONS = Path(__file__).parent / "migrations"
CHECKPOINT_S = 1.0  # SQLite: the WAL is copied into the database this often
# SQLite: how long the service's connection waits for another process's write lock before
# its commit fails as an outage (the event loop waits with it); the migrations at start
# wait MIGRATE_BUSY_MS
BUSY_MS = 50
MIGRATE_BUSY_MS = 5000
DIALECTS = ("sqlite", "postgresql")


def hash_key(key: str) -> str:
    """How an API key is kept: its SHA-256 (keys are 256-bit random tokens, so a fast
    hash is enough; the database never holds a usable key)."""
    return hashlib.sha256(key.encode()).hexdigest()


class Store:
    """One database. ``url``: a SQLAlchemy URL; a bare path means a SQLite file."""

    def __init__(self, url: str) -> None:
        self.url = _url(url)
        self.dialect = self.url.split(":", 1)[0].split("+", 1)[0]
        try:
            self.engine = create_engine(self.url, pool_pre_ping=False)
        except (ArgumentError, ImportError) as exc:
            raise InputError(f"{url!r} cannot be opened: {exc}", field="db") from None
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            self.conn = self.engine.connect()
            self._migrate()
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise InputError(f"{_safe(self.url)}: cannot connect ({reason})", field="db") from None
        self.out = False  # the last transaction could not reach the database
        path = make_url(self.url).database if self.dialect == "sqlite" else None
        self._checkpointer = _Checkpointer(path) if path and path != ":memory:" else None
        if self._checkpointer is not None:
            self._checkpointer.start()
        self._insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        self._statements: dict[tuple[str, tuple[str, ...], bool], tuple[str, Any]] = {}

    def _migrate(self) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self._busy(MIGRATE_BUSY_MS), self.conn.begin():
            config.attributes["connection"] = self.conn
            command.upgrade(config, "head")

    @contextmanager
    def _busy(self, ms: int) -> Iterator[None]:
        """SQLite: wait up to ``ms`` for another process's lock in the block, then
        ``BUSY_MS`` again."""
        if self.dialect != "sqlite":
            yield
            return
        driver = self.conn.connection.driver_connection  # no SQLAlchemy transaction
        driver.execute(f"PRAGMA busy_timeout={ms}")  # type: ignore[union-attr]
        try:
            yield
        finally:
            driver.execute(f"PRAGMA busy_timeout={BUSY_MS}")  # type: ignore[union-attr]

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.conn.close()  # the last connection: SQLite checkpoints the WAL as it closes
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction on the service's connection: committed when the block ends. A
        database that cannot be reached is an ``UnavailableError`` (the connection is
        made anew at the next use); ``out`` says so until a transaction goes through
        (see ``_wrote``)."""
        try:
            with self.conn.begin():
                yield self.conn
                back = not self.out or self._wrote()
        except OperationalError as exc:
            self.out = True
            raise UnavailableError("the database cannot be reached; try again") from exc
        if back:
            self.out = False

    def _wrote(self) -> bool:
        """Does the transaction ending tell that the database is back? On SQLite only one
        that wrote (and so took the write lock): reads go on while another process holds
        it."""
        if self.dialect != "sqlite":
            return True
        return bool(self.conn.connection.driver_connection.in_transaction)  # type: ignore[union-attr]

    def upsert(self, conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` or replace those whose primary key exists."""
        self._write(conn, table, rows, upsert=True)

    def insert(self, conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        self._write(conn, table, rows, upsert=False)

    def _write(
        self, conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], *, upsert: bool
    ) -> None:
        """One ``executemany`` of a statement compiled once per table and set of columns,
        handed to the driver as it is: SQLAlchemy's per-row parameter processing cost
        more than SQLite's writing (the columns are numbers and strings, which both
        drivers take as they are). Rows of one call have the same keys; keys that are not
        columns are left out."""
        if not rows:
            return
        keys = tuple(rows[0])
        key = (table.name, keys, upsert)
        found = self._statements.get(key)
        if found is None:
            columns = tuple(k for k in keys if k in table.c)  # other keys are not stored
            found = self._statements[key] = self._compile(table, columns, upsert=upsert)
        sql, order = found
        if order is None:  # a driver with named parameters: a mapping per row
            conn.exec_driver_sql(sql, list(rows))
        else:
            conn.exec_driver_sql(sql, [tuple([r[k] for k in order]) for r in rows])

    def _compile(
        self, table: Table, columns: tuple[str, ...], *, upsert: bool
    ) -> tuple[str, tuple[str, ...] | None]:
        stmt = self._insert(table)
        if upsert:
            keys = [c.name for c in table.primary_key.columns]
            update = {c: stmt.excluded[c] for c in columns if c not in keys}
            stmt = stmt.on_conflict_do_update(index_elements=keys, set_=update)
        compiled = stmt.compile(dialect=self.engine.dialect, column_keys=list(columns))
        order = compiled.positiontup
        return compiled.string, tuple(order) if order is not None else None

    def ping(self) -> None:
        """A round trip to the database (after an outage the connection is made anew:
        SQLAlchemy reconnects an invalidated connection on its next use). On SQLite, where
        reads go on while another process holds the write lock, it takes that lock
        (writing nothing) and does not wait for it."""
        if self.dialect != "sqlite":
            with self.transaction() as conn:
                conn.exec_driver_sql("SELECT 1")
            return
        with self._busy(0), self.transaction() as conn:
            conn.exec_driver_sql(f"DELETE FROM {tables.keys.name} WHERE 0")

    def scalar(self, query: Any) -> Any:
        with self.transaction() as conn:
            return conn.execute(query).scalar()

    def rows(self, query: Any) -> list[Any]:
        with self.transaction() as conn:
            return list(conn.execute(query))

    # -- keys -----------------------------------------------------------------------------

    def add_key(
        self,
        key: str,
        role: str,
        *,
        agent: str | None,
        client: str | None,
        label: str,
        at: float,
        expires_unix: float | None = None,
    ) -> int:
        with self.transaction() as conn:
            result = conn.execute(
                insert(tables.keys).values(
                    hash=hash_key(key), role=role, agent=agent, client=client, label=label,
                    created_unix=at, expires_unix=expires_unix,
                )
            )  # fmt: skip
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    def find_key(self, key: str, *, revoked: bool = False) -> Any:
        """The key's row (id, role, agent, client, expires_unix, revoked_unix), or None;
        a revoked key is None unless ``revoked``."""
        k = tables.keys.c
        query = select(k.id, k.role, k.agent, k.client, k.expires_unix, k.revoked_unix).where(
            k.hash == hash_key(key)
        )
        if not revoked:
            query = query.where(k.revoked_unix.is_(None))
        with self.transaction() as conn:
            return conn.execute(query).first()

    def api_keys(self) -> list[Any]:
        """Every key's row without its hash (id, role, agent, client, label, created_unix,
        expires_unix, revoked_unix), by id."""
        k = tables.keys.c
        return self.rows(
            select(k.id, k.role, k.agent, k.client, k.label, k.created_unix, k.expires_unix,
                   k.revoked_unix).order_by(k.id)
        )  # fmt: skip

    def revoke_key(self, key_id: int, at: float) -> bool:
        """Revoke key ``key_id`` at ``at`` (a key revoked already keeps its time); False
        if there is no such key."""
        k = tables.keys.c
        with self.transaction() as conn:
            if conn.execute(select(k.id).where(k.id == key_id)).first() is None:
                return False
            conn.execute(
                update(tables.keys)
                .where(k.id == key_id, k.revoked_unix.is_(None))
                .values(revoked_unix=at)
            )
            return True

    def revoke_keys_labelled(self, label: str, keep: str, at: float) -> list[int]:
        """Revoke every valid admin key labelled ``label`` but ``keep`` (the environment's admin
        key when it changed); returns their ids."""
        k = tables.keys.c
        with self.transaction() as conn:
            ids = [
                r.id
                for r in conn.execute(
                    select(k.id).where(
                        k.label == label,
                        k.role == "admin",
                        k.revoked_unix.is_(None),
                        k.hash != hash_key(keep),
                    )
                )
            ]
            if ids:
                conn.execute(update(tables.keys).where(k.id.in_(ids)).values(revoked_unix=at))
            return ids


def _url(url: str) -> str:
    if "://" not in url:  # a file path
        return f"sqlite:///{Path(url).expanduser()}"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(
            f"{url!r} is not a database URL (expected sqlite:///FILE or "
            "postgresql+psycopg://USER@HOST/DB)",
            field="db",
        ) from None
    if parsed.get_backend_name() not in DIALECTS:
        raise InputError(
            f"{parsed.get_backend_name()!r} is not supported (expected sqlite or postgresql)",
            field="db",
        )
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)  # psycopg 3
    return url


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_MS}")
    cursor.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's (see _Checkpointer)
    cursor.close()


class _Checkpointer(threading.Thread):
    """SQLite's WAL checkpoints, every ``CHECKPOINT_S`` on a thread and a connection of
    their own (PASSIVE: they never wait for the service's writes). The service's own
    connection never checkpoints, so no commit on its event loop copies the WAL into the
    database and syncs it: at 100 calls a second that took a commit up to 230 ms every
    few seconds (without: at most 73 ms, p99.9 of placing a call 65 -> 8 ms in process)."""

    def __init__(self, path: str) -> None:
        super().__init__(name="callsim-sqlite-checkpoint", daemon=True)
        self.path = path
        self._stopping = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=5.0)
        try:
            while not self._stopping.wait(CHECKPOINT_S):
                # busy, or the file is gone: the next round tries again
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()

    def stop(self) -> None:
        self._stopping.set()
        self.join(10)


__all__ = ["DIALECTS", "SQLAlchemyError", "Store", "hash_key"]
