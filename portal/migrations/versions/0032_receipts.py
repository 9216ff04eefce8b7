"""receipts numbered per practitioner, the receipt email, disputes won back (#20)

Every payment, fee and refund gets a receipt with a number in its practitioner's own
sequence, gap-free: `receipt_counters` holds each practitioner's last number, incremented
in the transaction that writes the movement, and UNIQUE (practitioner_id, number) refuses
a number given twice. The client is sent the receipt (notification kind `receipt`).

A dispute closed in the practitioner's favour is a ledger row of its own (payment kind
`dispute_won`), which gives back what the dispute row took.

Movements recorded before this migration have no receipt: their numbers would be made up
after the fact, and a receipt is what was issued when the money moved.

Revision ID: 0032
Revises: 0031

"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

NOTIFICATION_KINDS_BEFORE = (
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
)
NOTIFICATION_KINDS_AFTER = (*NOTIFICATION_KINDS_BEFORE, "receipt")
PAYMENT_KINDS_BEFORE = ("charge", "refund", "fee", "dispute", "manual_payment")
PAYMENT_KINDS_AFTER = (*PAYMENT_KINDS_BEFORE, "dispute_won")


def _retype_kinds(table, check, values):
    """Swap the CHECK of a non-native enum (SQLite rebuilds the table to do it)."""
    allowed = ", ".join(f"'{value}'" for value in values)
    # SQLite reflects users through the foreign key; users' lower(email) index cannot be
    # reflected, and is not touched here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"ck_{table}_{check}"), type_="check")
            batch_op.create_check_constraint(check, sa.text(f"kind IN ({allowed})"))


def upgrade():
    _retype_kinds("notifications", "notification_kind", NOTIFICATION_KINDS_AFTER)
    _retype_kinds("payments", "payment_kind", PAYMENT_KINDS_AFTER)
    op.create_table(
        "receipt_counters",
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "last_number > 0", name=op.f("ck_receipt_counters_receipt_counter_positive")
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["users.id"],
            name=op.f("fk_receipt_counters_practitioner_id_users"),
        ),
        sa.PrimaryKeyConstraint("practitioner_id", name=op.f("pk_receipt_counters")),
    )
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("number > 0", name=op.f("ck_receipts_receipt_number_positive")),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_receipts_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"], ["users.id"], name=op.f("fk_receipts_practitioner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_receipts_payment_id")),
        sa.UniqueConstraint(
            "practitioner_id", "number", name=op.f("uq_receipts_practitioner_number")
        ),
    )


def downgrade():
    op.drop_table("receipts")
    op.drop_table("receipt_counters")
    op.execute("DELETE FROM notifications WHERE kind = 'receipt'")
    _retype_kinds("notifications", "notification_kind", NOTIFICATION_KINDS_BEFORE)
    # A won dispute's row goes, and with it what it gave back: the dispute stands as taken.
    op.execute("DELETE FROM payments WHERE kind = 'dispute_won'")
    _retype_kinds("payments", "payment_kind", PAYMENT_KINDS_BEFORE)
