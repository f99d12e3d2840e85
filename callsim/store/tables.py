"""The live service's tables (SQLAlchemy Core). Times are seconds: ``*_s`` on the run's
scenario clock (as in ``CallRecord``), ``*_unix`` the calendar time they stand for (the
run's epoch plus the scenario seconds; with ``--speedup`` a day's calendar passes faster
than the wall clock). Structured values (skills, offers, instructions) are JSON text.

The migrations in ``migrations/versions`` build exactly this schema (a test compares).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("started_unix", Float, nullable=False),  # wall clock
    Column("epoch_unix", Float, nullable=False),  # the calendar time of scenario second 0
    Column("speedup", Float, nullable=False),
    Column("scenario", String(200), nullable=False),
    Column("scenario_hash", String(64), nullable=False),
    Column("stopped_unix", Float),  # wall clock; NULL: running, or killed
)

calls = Table(
    "calls",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("run", Integer, nullable=False),
    Column("client", String(200)),
    Column("ani", String(64), nullable=False),
    Column("dnis", String(64), nullable=False),
    Column("queue", String(200), nullable=False),
    Column("final_queue", String(200)),
    Column("status", String(20), nullable=False),
    Column("outcome", String(20), index=True),  # NULL while the call is live
    Column("policy_result", String(30), nullable=False),
    Column("identification", String(10), nullable=False),
    Column("contact", Integer),
    Column("vip", Boolean, nullable=False),
    Column("ivr_path", String(100), nullable=False),
    Column("language", String(20)),
    Column("priority", Integer),
    Column("arrived_unix", Float, nullable=False, index=True),
    Column("arrival_s", Float, nullable=False),
    Column("queued_s", Float),
    Column("answer_s", Float),
    Column("end_s", Float),
    Column("agent", String(200)),
    Column("wait_s", Float),
    Column("ring_s", Float),
    Column("talk_s", Float),
    Column("wrap_up_s", Float),
    Column("ended_by", String(10)),
    Column("overflowed", Text, nullable=False),
    Column("offers", Text, nullable=False),
    Column("transfers", Text, nullable=False, server_default="[]"),
    Column("instruction", Text),
    Column("practice", Text),  # a practice call: its card and the trainee's score (JSON)
    Column("callback_s", Float),  # the caller asked to be called back (virtual hold)
)

agents = Table(
    "agents",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("skills", Text, nullable=False),
    Column("extension", String(40), nullable=False),
    Column("updated_unix", Float, nullable=False),
)

agent_events = Table(
    "agent_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("run", Integer, nullable=False),
    Column("agent", String(200), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("reason", String(200)),
    Column("at_s", Float, nullable=False),
    Column("at_unix", Float, nullable=False),
)

spans = Table(
    "spans",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("run", Integer, nullable=False),
    Column("agent", String(200), nullable=False),
    Column("queues", Text, nullable=False),
    Column("start_s", Float, nullable=False),
    Column("end_s", Float, nullable=False),
    Column("start_unix", Float, nullable=False, index=True),
    Column("end_unix", Float, nullable=False, index=True),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("data", Text, nullable=False),  # the whole contact card
    Column("updated_unix", Float, nullable=False),
)

notes = Table(
    "notes",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("call", BigInteger, nullable=False, index=True),
    Column("client", String(200)),
    Column("contact", Integer),
    Column("agent", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("callback_number", String(64)),
    Column("policy_result", String(30), nullable=False),
    Column("at_unix", Float, nullable=False),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("contact", Integer, nullable=False, index=True),
    Column("client", String(200)),
    Column("call", BigInteger),
    Column("data", Text, nullable=False),  # status, due time, changes
    Column("updated_unix", Float, nullable=False),
)

keys = Table(
    "keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hash", String(64), nullable=False, unique=True),  # sha256 of the key
    Column("role", String(20), nullable=False),
    Column("agent", String(200)),
    Column("client", String(200)),
    Column("label", String(200), nullable=False),
    Column("created_unix", Float, nullable=False),
    Column("expires_unix", Float),  # NULL: never expires
    Column("revoked_unix", Float),  # NULL: not revoked
)

idempotency = Table(
    "idempotency",
    metadata,
    Column("principal", Integer, primary_key=True, autoincrement=False),
    Column("key", String(200), primary_key=True),
    Column("request", String(300), nullable=False),  # method and path
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(30), nullable=False),
    Column("at_s", Float, nullable=False),
    Column("at_unix", Float, nullable=False),
    Column("data", Text, nullable=False),  # the event as sent on the stream
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("call", BigInteger, nullable=False, index=True),
    Column("data", Text, nullable=False),
)

practice_results = Table(
    "practice_results",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # the practice call
    Column("agent", String(200), nullable=False, index=True),  # the trainee
    Column("client", String(200), nullable=False),
    Column("card", String(20), nullable=False),
    Column("branch", String(300), nullable=False),
    Column("score", Float, nullable=False),  # the rubric's weighted share right, 0..1
    Column("passed", Boolean, nullable=False),
    Column("grade", Text, nullable=False),  # the grade and the conversation (JSON)
    Column("at_unix", Float, nullable=False),  # wall clock, when it was scored
)
