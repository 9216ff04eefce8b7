"""address versions for single-use account links; password and address change notices (#18)

users.email_version counts the changes of address: verification and email-change links
are bound to it as well as to the address, so a link stays spent when an address comes
back (a@ -> z@ -> a@). users.email_restored_version spends the "this was not me" links
sent to an old address once one of them has been followed. Every existing account starts
at 0, which only spends links already sent under the old binding.

The notification kind CHECK gains password_changed (tokens and feed revoked with it) and
email_changed (told to the old address).

Revision ID: 0021
Revises: 0019

"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0019"
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
)
NEW_KINDS = ("password_changed", "email_changed")
AFTER = (*BEFORE, *NEW_KINDS)


def _retype(values):
    """Swap the CHECK of the non-native enum (SQLite rebuilds the table to do it)."""
    allowed = ", ".join(f"'{value}'" for value in values)
    with warnings.catch_warnings():
        # As in 0016: SQLite's rebuild reflects users through the foreign key, and its
        # lower(email) index cannot be reflected; users itself is not touched.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table("notifications") as batch_op:
            batch_op.drop_constraint(
                batch_op.f("ck_notifications_notification_kind"), type_="check"
            )
            batch_op.create_check_constraint("notification_kind", sa.text(f"kind IN ({allowed})"))


def upgrade():
    with op.batch_alter_table("users") as batch:
        for name in ("email_version", "email_restored_version"):
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    _retype(AFTER)


def downgrade():
    kinds = ", ".join(f"'{kind}'" for kind in NEW_KINDS)
    op.execute(f"DELETE FROM notifications WHERE kind IN ({kinds})")
    _retype(BEFORE)
    # SQLite drops a column by rebuilding the table, which would lose this expression index.
    op.drop_index("uq_users_email_lower", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email_restored_version")
        batch.drop_column("email_version")
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
