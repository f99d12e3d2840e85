"""An API key's lifetime: when it expires (NULL: never) and when an admin revoked it
(NULL: valid); the environment's admin key is revoked when CALLSIM_ADMIN_KEY changes.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("keys") as batch:  # SQLite alters tables in batches
        batch.add_column(sa.Column("expires_unix", sa.Float(), nullable=True))
        batch.add_column(sa.Column("revoked_unix", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("keys") as batch:
        batch.drop_column("revoked_unix")
        batch.drop_column("expires_unix")
