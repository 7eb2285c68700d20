"""alert kind booking: changes to a booking made at the host stand

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 03:10:00

SQLite stores the kind as text (no constraint to change); PostgreSQL's enum type gains a value.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE alertkind ADD VALUE IF NOT EXISTS 'BOOKING'")


def downgrade() -> None:
    # PostgreSQL cannot drop a value from an enum type; events of this kind stay readable as they are.
    pass
