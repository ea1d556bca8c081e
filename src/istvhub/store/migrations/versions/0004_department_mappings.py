"""department mappings: layouts accepted per department (issue 17)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 17:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "department_mappings",
        sa.Column("mapping_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("department", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("toml", sa.Text(), nullable=False),
        sa.Column("accepted_by", sa.Text(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["department"], ["departments.ods_code"]),
        sa.PrimaryKeyConstraint("mapping_id"),
    )
    with op.batch_alter_table("department_mappings", schema=None) as batch_op:
        batch_op.create_index("ix_department_mappings_dept", ["department", "active"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("department_mappings", schema=None) as batch_op:
        batch_op.drop_index("ix_department_mappings_dept")
    op.drop_table("department_mappings")
