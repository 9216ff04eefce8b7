"""notification kinds for account mail and disabled webhook endpoints (#12, #13)

Account emails move into the outbox (a sign-up that named a taken address, a changed
address to confirm), and a practitioner is told by email when an outbound webhook
endpoint is disabled after a day of failures. The CHECK of the non-native enum gains
the three kinds; no row changes.

Revision ID: 0016
Revises: 0015

"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
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
)
AFTER = (*BEFORE, "signup_existing", "email_change", "webhook_endpoint_disabled")


def _retype(values):
    """Swap the CHECK of the non-native enum (SQLite rebuilds the table to do it)."""
    allowed = ", ".join(f"'{value}'" for value in values)
    with warnings.catch_warnings():
        # As in 0014: SQLite's rebuild reflects users through the foreign key, and its
        # lower(email) index cannot be reflected; users itself is not touched.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table("notifications") as batch_op:
            batch_op.drop_constraint(
                batch_op.f("ck_notifications_notification_kind"), type_="check"
            )
            batch_op.create_check_constraint("notification_kind", sa.text(f"kind IN ({allowed})"))


def upgrade():
    _retype(AFTER)


def downgrade():
    op.execute(
        "DELETE FROM notifications WHERE kind IN "
        "('signup_existing', 'email_change', 'webhook_endpoint_disabled')"
    )
    _retype(BEFORE)
