"""A call's transfers (JSON: at_s, agent, queue, to_agent per transfer).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:  # SQLite alters tables in batches
        batch.add_column(sa.Column("transfers", sa.Text(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("transfers")
