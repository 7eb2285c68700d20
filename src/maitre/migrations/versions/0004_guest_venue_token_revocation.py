"""guests scoped by venue; staff token revocations

Revision ID: 0004
Revises: 0003_menu_allergens
Create Date: 2026-12-08 03:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003_menu_allergens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("guest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("venue_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_guest_venue_id"), ["venue_id"], unique=False)
        batch_op.create_foreign_key("fk_guest_venue_id_venue", "venue", ["venue_id"], ["id"])
    # A guest made before this revision belongs to the venue of their first booking, if any.
    op.execute(
        "UPDATE guest SET venue_id = (SELECT reservation.venue_id FROM reservation "
        "WHERE reservation.guest_id = guest.id ORDER BY reservation.id LIMIT 1)"
    )
    op.create_table(
        "tokenrevocation",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("tokenrevocation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tokenrevocation_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tokenrevocation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tokenrevocation_expires_at"))
    op.drop_table("tokenrevocation")
    with op.batch_alter_table("guest", schema=None) as batch_op:
        batch_op.drop_constraint("fk_guest_venue_id_venue", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_guest_venue_id"))
        batch_op.drop_column("venue_id")
