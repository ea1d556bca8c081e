"""index records.geocoded_at: the layer cache's store fingerprint reads max(geocoded_at)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 23:05:00

Every layer download (cache hit or not) asks for the store's last geocode time; without an
index that is a scan of every record (3 million nationally) per request. With it, max() is one
index probe on both backends.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_index("ix_records_geocoded_at", ["geocoded_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index("ix_records_geocoded_at")
