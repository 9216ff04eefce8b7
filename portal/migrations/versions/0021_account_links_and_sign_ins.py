"""single-use account links and change notices (#18); user_sessions becomes sign_ins (#19)

users.email_version counts the changes of address: verification and email-change links
are bound to it as well as to the address, so a link stays spent when an address comes
back (a@ -> z@ -> a@). users.email_restored_version spends the "this was not me" links
sent to an old address once one of them has been followed. Every existing account starts
at 0, which only spends links already sent under the old binding.

The notification kind CHECK gains password_changed (tokens and feed revoked with it) and
email_changed (told to the old address).

user_sessions becomes sign_ins, its indexes and (on PostgreSQL) its constraints with it: a
sign-in is a SignIn, and "session" is the seed's ServiceSession (house rule 17).

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


SIGN_IN_INDEXED = ("user_id", "created_at")


def _rename_table(old: str, new: str) -> None:
    for column in SIGN_IN_INDEXED:
        op.drop_index(f"ix_{old}_{column}", table_name=old)
    op.rename_table(old, new)
    for column in SIGN_IN_INDEXED:
        op.create_index(f"ix_{new}_{column}", new, [column], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # SQLite keeps constraint names only in the table's text, where nothing reads them.
        op.execute(f"ALTER TABLE {new} RENAME CONSTRAINT pk_{old} TO pk_{new}")
        op.execute(
            f"ALTER TABLE {new} RENAME CONSTRAINT fk_{old}_user_id_users TO fk_{new}_user_id_users"
        )


def upgrade():
    _rename_table("user_sessions", "sign_ins")
    with op.batch_alter_table("users") as batch:
        for name in ("email_version", "email_restored_version"):
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    _retype(AFTER)


def downgrade():
    _rename_table("sign_ins", "user_sessions")
    kinds = ", ".join(f"'{kind}'" for kind in NEW_KINDS)
    op.execute(f"DELETE FROM notifications WHERE kind IN ({kinds})")
    _retype(BEFORE)
    # SQLite drops a column by rebuilding the table, which would lose this expression index.
    op.drop_index("uq_users_email_lower", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email_restored_version")
        batch.drop_column("email_version")
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
