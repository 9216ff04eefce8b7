"""LiveKit webhook event ids already applied, so a redelivered event counts once.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "processed_room_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("room_name", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processed_room_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_processed_room_events_event_id")),
    )
    op.create_index(
        op.f("ix_processed_room_events_room_name"),
        "processed_room_events",
        ["room_name"],
        unique=False,
    )


def downgrade():
    op.drop_index(op.f("ix_processed_room_events_room_name"), table_name="processed_room_events")
    op.drop_table("processed_room_events")
