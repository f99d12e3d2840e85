"""A trainee's scored practice calls (``practice_results``): the rubric's grade and the
conversation with the caller, kept after wrap-up for the history and the class view.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "practice_results",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("agent", sa.String(length=200), nullable=False),
        sa.Column("client", sa.String(length=200), nullable=False),
        sa.Column("card", sa.String(length=20), nullable=False),
        sa.Column("branch", sa.String(length=300), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("grade", sa.Text(), nullable=False),
        sa.Column("at_unix", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_practice_results_agent", "practice_results", ["agent"])


def downgrade() -> None:
    op.drop_index("ix_practice_results_agent", table_name="practice_results")
    op.drop_table("practice_results")
