"""waitlist entries: clients in line for a seat in a full session

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('waiting', 'offered')")


def upgrade():
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("service_session_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "offered",
                "claimed",
                "expired",
                "declined",
                "canceled",
                name="waitlist_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_waitlist_entries_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["service_session_id"],
            ["service_sessions.id"],
            name=op.f("fk_waitlist_entries_service_session_id_service_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_waitlist_entries_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
    )
    op.create_index(
        op.f("ix_waitlist_entries_order_id"), "waitlist_entries", ["order_id"], unique=False
    )
    op.create_index(
        op.f("ix_waitlist_entries_user_id"), "waitlist_entries", ["user_id"], unique=False
    )
    op.create_index(
        "ix_waitlist_entries_session_status",
        "waitlist_entries",
        ["service_session_id", "status"],
        unique=False,
    )
    op.create_index(
        "uq_waitlist_entries_open",
        "waitlist_entries",
        ["user_id", "service_session_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade():
    op.drop_index("uq_waitlist_entries_open", table_name="waitlist_entries")
    op.drop_index("ix_waitlist_entries_session_status", table_name="waitlist_entries")
    op.drop_index(op.f("ix_waitlist_entries_user_id"), table_name="waitlist_entries")
    op.drop_index(op.f("ix_waitlist_entries_order_id"), table_name="waitlist_entries")
    op.drop_table("waitlist_entries")
