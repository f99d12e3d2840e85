"""Persistence of the live service: SQLAlchemy Core tables, Alembic migrations applied on
start, SQLite by default (WAL) and PostgreSQL through the same code."""

from callsim.store.db import Store, hash_key

__all__ = ["Store", "hash_key"]
