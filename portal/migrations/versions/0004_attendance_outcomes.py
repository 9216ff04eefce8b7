"""attendance outcomes: one recorded attended/no-show per confirmed booking

Revision ID: 0004
Revises: 0003

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _outcome(name):
    return sa.Enum(
        "attended", "no_show", name=name, native_enum=False, create_constraint=True, length=8
    )


def upgrade():
    op.create_table(
        "attendance_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("outcome", _outcome("attendance_outcome"), nullable=False),
        sa.Column("computed_outcome", _outcome("attendance_computed_outcome"), nullable=False),
        sa.Column("total_seconds", sa.Integer(), nullable=False),
        sa.Column("first_joined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("overridden_by_id", sa.Integer(), nullable=True),
        sa.Column("overridden_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("override_reason", sa.String(length=500), nullable=False),
        sa.CheckConstraint(
            "(overridden_by_id IS NULL) = (overridden_at IS NULL)",
            name=op.f("ck_attendance_outcomes_override_complete"),
        ),
        sa.CheckConstraint(
            "total_seconds >= 0", name=op.f("ck_attendance_outcomes_total_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_attendance_outcomes_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["overridden_by_id"],
            ["users.id"],
            name=op.f("fk_attendance_outcomes_overridden_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_outcomes")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_attendance_outcomes_booking_id")),
    )


def downgrade():
    op.drop_table("attendance_outcomes")
