"""notifications outbox and notification preferences

Revision ID: 0010
Revises: 0008

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None

KINDS = (
    "booking_confirmed",
    "booking_pending_payment",
    "payment_received",
    "booking_canceled",
    "booking_rescheduled",
    "session_moved",
    "session_canceled",
    "reminder",
    "waitlist_offer",
    "waitlist_offer_lapsed",
    "credits_expiring",
    "account_verification",
    "password_reset",
    "invitation",
    "practitioner_new_booking",
    "practitioner_cancellation",
    "practitioner_waitlist_taken",
    "daily_agenda",
)
STATUSES = ("pending", "sent", "failed", "skipped")


def _in(column, values):
    return column + " IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade():
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=5), nullable=False),
        sa.Column("kind", sa.String(length=max(map(len, KINDS))), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=254), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=7), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_notifications_attempts_not_negative")),
        sa.CheckConstraint(
            _in("channel", ("email",)), name=op.f("ck_notifications_notification_channel")
        ),
        sa.CheckConstraint(_in("kind", KINDS), name=op.f("ck_notifications_notification_kind")),
        sa.CheckConstraint(
            _in("status", STATUSES), name=op.f("ck_notifications_notification_status")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_notifications_dedup_key")),
        sa.UniqueConstraint("message_id", name=op.f("uq_notifications_message_id")),
    )
    op.create_index("ix_notifications_due", "notifications", ["status", "next_attempt_at"])
    op.create_index(op.f("ix_notifications_user_id"), "notifications", ["user_id"])
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("reminders", sa.Boolean(), nullable=False),
        sa.Column("practitioner_notices", sa.Boolean(), nullable=False),
        sa.Column("daily_agenda", sa.Boolean(), nullable=False),
        sa.Column("reminder_offsets", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_preferences_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_preferences")),
    )


def downgrade():
    op.drop_table("notification_preferences")
    op.drop_index(op.f("ix_notifications_user_id"), table_name="notifications")
    op.drop_index("ix_notifications_due", table_name="notifications")
    op.drop_table("notifications")
