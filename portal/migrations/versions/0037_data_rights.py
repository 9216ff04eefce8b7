"""data rights: exports of a person's data and account erasure requests (#23)

Two tables, and two message kinds: an export's single-use link, and the notice that an
account will be erased after its grace period.

Revision ID: 0037
Revises: 0036

"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None

BEFORE = (
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
    "signup_existing",
    "email_change",
    "webhook_endpoint_disabled",
    "password_changed",
    "email_changed",
    "payment_refunded",
    "receipt",  # 0032
    "fee_unpaid",  # 0033
    "intake_form_requested",  # 0036
)
NEW_KINDS = ("data_export_ready", "erasure_scheduled")
AFTER = (*BEFORE, *NEW_KINDS)


def _retype_notification_kinds(values):
    """Swap the CHECK of the non-native enum (SQLite rebuilds the table to do it)."""
    allowed = ", ".join(f"'{value}'" for value in values)
    with warnings.catch_warnings():
        # SQLite reflects users through the foreign key; its lower(email) index cannot be.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table("notifications") as batch_op:
            batch_op.drop_constraint(
                batch_op.f("ck_notifications_notification_kind"), type_="check"
            )
            batch_op.create_check_constraint("notification_kind", sa.text(f"kind IN ({allowed})"))


def _timestamp(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _status(name: str, length: int) -> sa.Column:
    return sa.Column(
        "status",
        sa.Enum(name=name, native_enum=False, create_constraint=False, length=length),
        nullable=False,
    )


def upgrade():
    _retype_notification_kinds(AFTER)
    op.create_table(
        "data_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        _status("data_export_status", 10),
        _timestamp("requested_at", nullable=False),
        _timestamp("ready_at"),
        _timestamp("expires_at"),
        _timestamp("downloaded_at"),
        sa.Column("file_name", sa.String(length=80), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'ready', 'downloaded', 'expired')",
            name=op.f("ck_data_exports_data_export_status"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_data_exports_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_data_exports_requested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_exports")),
    )
    op.create_index(op.f("ix_data_exports_user_id"), "data_exports", ["user_id"])
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        _status("erasure_status", 8),
        _timestamp("requested_at", nullable=False),
        _timestamp("due_at", nullable=False),
        _timestamp("canceled_at"),
        _timestamp("erased_at"),
        sa.CheckConstraint(
            "status IN ('pending', 'canceled', 'done')",
            name=op.f("ck_erasure_requests_erasure_status"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_erasure_requests_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_erasure_requests_requested_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_requests")),
    )
    op.create_index(op.f("ix_erasure_requests_user_id"), "erasure_requests", ["user_id"])
    op.create_index("ix_erasure_requests_due", "erasure_requests", ["status", "due_at"])
    op.create_index(
        "uq_erasure_requests_pending",
        "erasure_requests",
        ["user_id"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade():
    op.drop_table("erasure_requests")
    op.drop_table("data_exports")
    kinds = ", ".join(f"'{kind}'" for kind in NEW_KINDS)
    op.execute(f"DELETE FROM notifications WHERE kind IN ({kinds})")
    _retype_notification_kinds(BEFORE)
