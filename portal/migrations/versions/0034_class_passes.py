"""class passes: credits spent on seats in group sessions, service tags (#21)

A class pass is a service type of its own (`class_pass`): its terms (credits, the services
or the tag it may be spent on, a limit per day or week) sit in `class_pass_terms`; what a
client bought is a row of `class_passes`, whose `credits_used` a CHECK keeps within its
credits; each seat taken with one is a row of `class_pass_uses`. Services may carry tags
(`service_tags`), so a pass can name "any group class".

Revision ID: 0034
Revises: 0033

"""

import warnings

import sqlalchemy as sa
from alembic import op

import portal.database

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

TYPES_BEFORE = ("individual", "workshop", "course", "package", "bundle")
TYPES_AFTER = (*TYPES_BEFORE, "class_pass")


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


def upgrade():
    _retype_services(TYPES_AFTER)
    op.create_table(
        "class_pass_terms",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("eligible_tag", sa.String(length=40), nullable=True),
        sa.Column("per_day", sa.Integer(), nullable=True),
        sa.Column("per_week", sa.Integer(), nullable=True),
        sa.CheckConstraint("credits >= 1", name=op.f("ck_class_pass_terms_pass_credits_positive")),
        sa.CheckConstraint(
            "per_day IS NULL OR per_day >= 1",
            name=op.f("ck_class_pass_terms_pass_per_day_positive"),
        ),
        sa.CheckConstraint(
            "per_week IS NULL OR per_week >= 1",
            name=op.f("ck_class_pass_terms_pass_per_week_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_class_pass_terms_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_class_pass_terms")),
    )
    op.create_table(
        "service_tags",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_service_tags_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", "tag", name=op.f("pk_service_tags")),
    )
    with op.batch_alter_table("service_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_tags_tag"), ["tag"], unique=False)

    op.create_table(
        "class_pass_services",
        sa.Column("pass_service_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pass_service_id"],
            ["class_pass_terms.service_id"],
            name=op.f("fk_class_pass_services_pass_service_id_class_pass_terms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_class_pass_services_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "pass_service_id", "service_id", name=op.f("pk_class_pass_services")
        ),
    )
    op.create_table(
        "class_passes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("credits_used", sa.Integer(), server_default="0", nullable=False),
        sa.Column("expires_at", portal.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "credits >= 1", name=op.f("ck_class_passes_class_pass_credits_positive")
        ),
        sa.CheckConstraint(
            "credits_used >= 0 AND credits_used <= credits",
            name=op.f("ck_class_passes_class_pass_credits_used"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_class_passes_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_class_passes_service_id_services")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_class_passes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_passes")),
        sa.UniqueConstraint("order_id", name=op.f("uq_class_passes_order_id")),
    )
    with op.batch_alter_table("class_passes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_class_passes_service_id"), ["service_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_class_passes_user_id"), ["user_id"], unique=False)

    op.create_table(
        "class_pass_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("class_pass_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("returned_at", portal.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_class_pass_uses_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["class_pass_id"],
            ["class_passes.id"],
            name=op.f("fk_class_pass_uses_class_pass_id_class_passes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_pass_uses")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_class_pass_uses_booking_id")),
    )
    with op.batch_alter_table("class_pass_uses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_class_pass_uses_pass", ["class_pass_id", "returned_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("class_pass_uses", schema=None) as batch_op:
        batch_op.drop_index("ix_class_pass_uses_pass")

    op.drop_table("class_pass_uses")
    with op.batch_alter_table("class_passes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_class_passes_user_id"))
        batch_op.drop_index(batch_op.f("ix_class_passes_service_id"))

    op.drop_table("class_passes")
    op.drop_table("class_pass_services")
    with op.batch_alter_table("service_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_tags_tag"))

    op.drop_table("service_tags")
    op.drop_table("class_pass_terms")
    _retype_services(TYPES_BEFORE)
