"""The live service's first schema: runs, calls, agents, staffed spans, contacts, notes,
tickets, keys, idempotency, the event stream and decision traces.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(200)),
        sa.Column("at_s", sa.Float(), nullable=False),
        sa.Column("at_unix", sa.Float(), nullable=False),
    )
    op.create_index("ix_agent_events_agent", "agent_events", ["agent"])
    op.create_table(
        "agents",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("skills", sa.Text(), nullable=False),
        sa.Column("extension", sa.String(40), nullable=False),
        sa.Column("updated_unix", sa.Float(), nullable=False),
    )
    op.create_table(
        "calls",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(200)),
        sa.Column("ani", sa.String(64), nullable=False),
        sa.Column("dnis", sa.String(64), nullable=False),
        sa.Column("queue", sa.String(200), nullable=False),
        sa.Column("final_queue", sa.String(200)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(20)),
        sa.Column("policy_result", sa.String(30), nullable=False),
        sa.Column("identification", sa.String(10), nullable=False),
        sa.Column("contact", sa.Integer()),
        sa.Column("vip", sa.Boolean(), nullable=False),
        sa.Column("ivr_path", sa.String(100), nullable=False),
        sa.Column("language", sa.String(20)),
        sa.Column("priority", sa.Integer()),
        sa.Column("arrived_unix", sa.Float(), nullable=False),
        sa.Column("arrival_s", sa.Float(), nullable=False),
        sa.Column("queued_s", sa.Float()),
        sa.Column("answer_s", sa.Float()),
        sa.Column("end_s", sa.Float()),
        sa.Column("agent", sa.String(200)),
        sa.Column("wait_s", sa.Float()),
        sa.Column("ring_s", sa.Float()),
        sa.Column("talk_s", sa.Float()),
        sa.Column("wrap_up_s", sa.Float()),
        sa.Column("ended_by", sa.String(10)),
        sa.Column("overflowed", sa.Text(), nullable=False),
        sa.Column("offers", sa.Text(), nullable=False),
        sa.Column("instruction", sa.Text()),
    )
    op.create_index("ix_calls_outcome", "calls", ["outcome"])
    op.create_index("ix_calls_arrived_unix", "calls", ["arrived_unix"])
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("updated_unix", sa.Float(), nullable=False),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("call", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_index("ix_decisions_call", "decisions", ["call"])
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("at_s", sa.Float(), nullable=False),
        sa.Column("at_unix", sa.Float(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_table(
        "idempotency",
        sa.Column("principal", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request", sa.String(300), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )
    op.create_table(
        "keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("agent", sa.String(200)),
        sa.Column("client", sa.String(200)),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_unix", sa.Float(), nullable=False),
    )
    op.create_table(
        "notes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("call", sa.BigInteger(), nullable=False),
        sa.Column("client", sa.String(200)),
        sa.Column("contact", sa.Integer()),
        sa.Column("agent", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("callback_number", sa.String(64)),
        sa.Column("policy_result", sa.String(30), nullable=False),
        sa.Column("at_unix", sa.Float(), nullable=False),
    )
    op.create_index("ix_notes_call", "notes", ["call"])
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("started_unix", sa.Float(), nullable=False),
        sa.Column("epoch_unix", sa.Float(), nullable=False),
        sa.Column("speedup", sa.Float(), nullable=False),
        sa.Column("scenario", sa.String(200), nullable=False),
        sa.Column("scenario_hash", sa.String(64), nullable=False),
        sa.Column("stopped_unix", sa.Float()),
    )
    op.create_table(
        "spans",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(200), nullable=False),
        sa.Column("queues", sa.Text(), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("start_unix", sa.Float(), nullable=False),
        sa.Column("end_unix", sa.Float(), nullable=False),
    )
    op.create_index("ix_spans_start_unix", "spans", ["start_unix"])
    op.create_index("ix_spans_end_unix", "spans", ["end_unix"])
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("contact", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(200)),
        sa.Column("call", sa.BigInteger()),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("updated_unix", sa.Float(), nullable=False),
    )
    op.create_index("ix_tickets_contact", "tickets", ["contact"])


def downgrade() -> None:
    for table in (
        "decisions", "events", "idempotency", "keys", "tickets", "notes", "contacts",
        "spans", "agent_events", "agents", "calls", "runs",
    ):  # fmt: skip
        op.drop_table(table)
