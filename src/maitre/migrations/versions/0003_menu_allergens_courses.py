"""menu allergens and courses

Revision ID: 0003_menu_allergens
Revises: 0002
Create Date: 2026-12-08 03:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003_menu_allergens"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Dishes already on a menu declare no allergens until a manager says which.
    with op.batch_alter_table("menuitem", schema=None) as batch_op:
        batch_op.add_column(sa.Column("allergens", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("course", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    op.execute("UPDATE menuitem SET allergens = '[]'")
    with op.batch_alter_table("menuitem", schema=None) as batch_op:
        batch_op.alter_column("allergens", existing_type=sa.JSON(), nullable=False)
    with op.batch_alter_table("preorderitem", schema=None) as batch_op:
        batch_op.add_column(sa.Column("course", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("preorderitem", schema=None) as batch_op:
        batch_op.drop_column("course")
    with op.batch_alter_table("menuitem", schema=None) as batch_op:
        batch_op.drop_column("course")
        batch_op.drop_column("allergens")
