"""memberships: plans billed every period by Stripe, the clients' subscriptions (#21)

A plan is a service of type `membership` with its billing terms in `membership_plans` (its
credits and where they are spent are its `class_pass_terms`, as a class pass's). A client's
subscription is a row of `memberships`, as Stripe last reported it; each paid period is a
row of `membership_periods`, unique by its Stripe invoice, so a renewal grants its credits
once. Two notices: a renewal paid, a renewal's payment failed.

Revision ID: 0041
Revises: 0040

"""

import warnings

import sqlalchemy as sa
from alembic import op

import portal.database

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None

TYPES_BEFORE = ("individual", "workshop", "course", "package", "bundle", "class_pass")
TYPES_AFTER = (*TYPES_BEFORE, "membership")

KINDS_BEFORE = (
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
    "data_export_ready",  # 0037
    "erasure_scheduled",  # 0037
)
NEW_KINDS = ("membership_renewed", "membership_payment_failed")
KINDS_AFTER = (*KINDS_BEFORE, *NEW_KINDS)


def _retype_services(values):
    """Swap the CHECK of the non-native enum, keeping the services table's triggers and the
    rows that point at it (SQLite rebuilds the table to do it)."""
    allowed = ", ".join(f"'{value}'" for value in values)
    bind = op.get_bind()
    triggers = []
    if bind.dialect.name == "sqlite":
        triggers = list(
            bind.execute(
                sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
                {"t": "services"},
            ).scalars()
        )
        # Checked at commit, when the rebuilt table holds every row again.
        op.execute("PRAGMA defer_foreign_keys = ON")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table("services") as batch_op:
            batch_op.drop_constraint(batch_op.f("ck_services_service_type"), type_="check")
            batch_op.create_check_constraint(
                "service_type", sa.text(f"service_type IN ({allowed})")
            )
    for sql in triggers:
        op.execute(sql)


def _retype_notification_kinds(values):
    """Swap the CHECK of the non-native enum (SQLite rebuilds the table to do it)."""
    allowed = ", ".join(f"'{value}'" for value in values)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table("notifications") as batch_op:
            batch_op.drop_constraint(
                batch_op.f("ck_notifications_notification_kind"), type_="check"
            )
            batch_op.create_check_constraint("notification_kind", sa.text(f"kind IN ({allowed})"))


def upgrade():
    _retype_services(TYPES_AFTER)
    _retype_notification_kinds(KINDS_AFTER)
    op.create_table(
        "membership_plans",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column(
            "period",
            sa.Enum(
                "month",
                "four_weeks",
                "year",
                name="billing_period",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("unlimited", sa.Boolean(), nullable=False),
        sa.Column("rollover_periods", sa.Integer(), nullable=False),
        sa.Column("minimum_periods", sa.Integer(), nullable=False),
        sa.Column("notice_days", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "minimum_periods >= 1", name=op.f("ck_membership_plans_plan_minimum_positive")
        ),
        sa.CheckConstraint(
            "notice_days >= 0", name=op.f("ck_membership_plans_plan_notice_not_negative")
        ),
        sa.CheckConstraint(
            "rollover_periods >= 0", name=op.f("ck_membership_plans_plan_rollover_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_membership_plans_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_membership_plans")),
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("stripe_subscription_id", sa.String(length=255), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=255), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "past_due",
                "paused",
                "canceled",
                name="membership_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "current_period_start", portal.database.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("current_period_end", portal.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("cancel_at", portal.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("canceled_at", portal.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["services.id"], name=op.f("fk_memberships_plan_id_services")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint(
            "stripe_subscription_id", name=op.f("uq_memberships_stripe_subscription_id")
        ),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index("ix_memberships_plan_status", ["plan_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_memberships_user_id"), ["user_id"], unique=False)

    op.create_table(
        "membership_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.String(length=255), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("class_pass_id", sa.Integer(), nullable=False),
        sa.Column("period_start", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", portal.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["class_pass_id"],
            ["class_passes.id"],
            name=op.f("fk_membership_periods_class_pass_id_class_passes"),
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["memberships.id"],
            name=op.f("fk_membership_periods_membership_id_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_membership_periods_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_periods")),
        sa.UniqueConstraint("class_pass_id", name=op.f("uq_membership_periods_class_pass_id")),
        sa.UniqueConstraint("invoice_id", name=op.f("uq_membership_periods_invoice_id")),
        sa.UniqueConstraint("order_id", name=op.f("uq_membership_periods_order_id")),
    )
    with op.batch_alter_table("membership_periods", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_membership_periods_membership_id"), ["membership_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("membership_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_periods_membership_id"))

    op.drop_table("membership_periods")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_user_id"))
        batch_op.drop_index("ix_memberships_plan_status")

    op.drop_table("memberships")
    op.drop_table("membership_plans")
    kinds = ", ".join(f"'{kind}'" for kind in NEW_KINDS)
    op.execute(f"DELETE FROM notifications WHERE kind IN ({kinds})")
    _retype_notification_kinds(KINDS_BEFORE)
    _retype_services(TYPES_BEFORE)
