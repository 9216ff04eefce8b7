"""intake forms: versioned questions, encrypted answers and uploads, links sent by email (#23)

A form's questions live in its versions (never changed once written); answers point at the
version they answered. intake_submissions.answers_encrypted holds a Fernet token; uploads
are files under PORTAL_MEDIA_DIR, encrypted too. The outbox gains the link's message kind.

Revision ID: 0036
Revises: 0035

"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
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
    "receipt",  # 0032
    "fee_unpaid",  # 0033
)
NOTIFICATION_KINDS_AFTER = (*NOTIFICATION_KINDS_BEFORE, "intake_form_requested")


def _retype_notification_kinds(values):
    """Swap the CHECK of the non-native enum (SQLite rebuilds the table to do it)."""
    allowed = ", ".join(f"'{value}'" for value in values)
    with warnings.catch_warnings():
        # The rebuild reflects users through the foreign keys; its lower(email) index
        # cannot be reflected and is not touched.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table("notifications") as batch_op:
            batch_op.drop_constraint(
                batch_op.f("ck_notifications_notification_kind"), type_="check"
            )
            batch_op.create_check_constraint("notification_kind", sa.text(f"kind IN ({allowed})"))


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(column: str, table: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade():
    _retype_notification_kinds(NOTIFICATION_KINDS_AFTER)
    op.create_table(
        "intake_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "delivery",
            sa.Enum(
                "at_booking",
                "by_email",
                name="intake_delivery",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("required", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        _fk("practitioner_id", "intake_forms", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_forms")),
    )
    op.create_index(op.f("ix_intake_forms_practitioner_id"), "intake_forms", ["practitioner_id"])
    op.create_table(
        "intake_form_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        sa.CheckConstraint("number >= 1", name=op.f("ck_intake_form_versions_number_positive")),
        _fk("form_id", "intake_form_versions", "intake_forms"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_form_versions")),
        sa.UniqueConstraint("form_id", "number", name="uq_intake_form_versions_number"),
    )
    op.create_table(
        "service_intake_forms",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        _fk("service_id", "service_intake_forms", "services"),
        _fk("form_id", "service_intake_forms", "intake_forms"),
        sa.PrimaryKeyConstraint("service_id", "form_id", name=op.f("pk_service_intake_forms")),
    )
    op.create_index(op.f("ix_service_intake_forms_form_id"), "service_intake_forms", ["form_id"])
    op.create_table(
        "intake_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("answers_encrypted", sa.Text(), nullable=False),
        _timestamp("submitted_at"),
        _fk("form_id", "intake_submissions", "intake_forms"),
        _fk("version_id", "intake_submissions", "intake_form_versions"),
        _fk("client_id", "intake_submissions", "users"),
        _fk("booking_id", "intake_submissions", "bookings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_submissions")),
    )
    op.create_index(op.f("ix_intake_submissions_form_id"), "intake_submissions", ["form_id"])
    op.create_index(op.f("ix_intake_submissions_booking_id"), "intake_submissions", ["booking_id"])
    op.create_index(
        "ix_intake_submissions_client_form", "intake_submissions", ["client_id", "form_id"]
    )
    op.create_table(
        "intake_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(length=32), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_intake_uploads_size_positive")),
        _fk("submission_id", "intake_uploads", "intake_submissions"),
        _fk("client_id", "intake_uploads", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_uploads")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_intake_uploads_stored_name")),
    )
    op.create_index(op.f("ix_intake_uploads_submission_id"), "intake_uploads", ["submission_id"])
    op.create_index(op.f("ix_intake_uploads_client_id"), "intake_uploads", ["client_id"])
    op.create_table(
        "intake_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        _timestamp("sent_at"),
        _timestamp("reminded_at", nullable=True),
        _timestamp("answered_at", nullable=True),
        _fk("form_id", "intake_requests", "intake_forms"),
        _fk("client_id", "intake_requests", "users"),
        _fk("booking_id", "intake_requests", "bookings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_requests")),
        sa.UniqueConstraint("form_id", "client_id", name="uq_intake_requests_client"),
    )
    op.create_index(op.f("ix_intake_requests_client_id"), "intake_requests", ["client_id"])


def downgrade():
    op.drop_index(op.f("ix_intake_requests_client_id"), table_name="intake_requests")
    op.drop_table("intake_requests")
    op.drop_index(op.f("ix_intake_uploads_client_id"), table_name="intake_uploads")
    op.drop_index(op.f("ix_intake_uploads_submission_id"), table_name="intake_uploads")
    op.drop_table("intake_uploads")
    op.drop_index("ix_intake_submissions_client_form", table_name="intake_submissions")
    op.drop_index(op.f("ix_intake_submissions_booking_id"), table_name="intake_submissions")
    op.drop_index(op.f("ix_intake_submissions_form_id"), table_name="intake_submissions")
    op.drop_table("intake_submissions")
    op.drop_index(op.f("ix_service_intake_forms_form_id"), table_name="service_intake_forms")
    op.drop_table("service_intake_forms")
    op.drop_table("intake_form_versions")
    op.drop_index(op.f("ix_intake_forms_practitioner_id"), table_name="intake_forms")
    op.drop_table("intake_forms")
    op.execute("DELETE FROM notifications WHERE kind = 'intake_form_requested'")
    _retype_notification_kinds(NOTIFICATION_KINDS_BEFORE)
