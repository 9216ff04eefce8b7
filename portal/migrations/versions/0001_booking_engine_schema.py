"""booking engine schema

Revision ID: 0001
Revises:

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "client",
                "practitioner",
                "staff",
                name="user_role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("livekit_identity", sa.String(length=40), nullable=False),
        sa.Column("is_active_account", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("livekit_identity", name=op.f("uq_users_livekit_identity")),
    )
    op.create_table(
        "date_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=True),
        sa.Column("end_time", sa.Time(), nullable=True),
        sa.CheckConstraint(
            "(start_time IS NULL AND end_time IS NULL) OR end_time > start_time",
            name=op.f("ck_date_overrides_range_or_day_off"),
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"], ["users.id"], name=op.f("fk_date_overrides_practitioner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_date_overrides")),
    )
    with op.batch_alter_table("date_overrides", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_date_overrides_day"), ["day"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_date_overrides_practitioner_id"), ["practitioner_id"], unique=False
        )

    op.create_table(
        "schedule_settings",
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False),
        sa.Column("min_notice_minutes", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("slot_step_minutes", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "buffer_minutes >= 0", name=op.f("ck_schedule_settings_buffer_not_negative")
        ),
        sa.CheckConstraint("horizon_days >= 1", name=op.f("ck_schedule_settings_horizon_positive")),
        sa.CheckConstraint(
            "min_notice_minutes >= 0", name=op.f("ck_schedule_settings_notice_not_negative")
        ),
        sa.CheckConstraint(
            "slot_step_minutes >= 5", name=op.f("ck_schedule_settings_step_at_least_five")
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["users.id"],
            name=op.f("fk_schedule_settings_practitioner_id_users"),
        ),
        sa.PrimaryKeyConstraint("practitioner_id", name=op.f("pk_schedule_settings")),
    )
    op.create_table(
        "services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "service_type",
            sa.Enum(
                "individual",
                "workshop",
                "course",
                "package",
                "bundle",
                name="service_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("max_participants", sa.Integer(), nullable=False),
        sa.Column("primary_practitioner_id", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("cancellation_cutoff_hours", sa.Integer(), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "cancellation_cutoff_hours >= 0", name=op.f("ck_services_cutoff_not_negative")
        ),
        sa.CheckConstraint("duration_minutes > 0", name=op.f("ck_services_duration_positive")),
        sa.CheckConstraint("max_participants >= 1", name=op.f("ck_services_capacity_positive")),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_services_price_not_negative")),
        sa.CheckConstraint(
            "validity_days IS NULL OR validity_days > 0", name=op.f("ck_services_validity_positive")
        ),
        sa.ForeignKeyConstraint(
            ["primary_practitioner_id"],
            ["users.id"],
            name=op.f("fk_services_primary_practitioner_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
    )
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_services_primary_practitioner_id"),
            ["primary_practitioner_id"],
            unique=False,
        )

    op.create_table(
        "weekly_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.CheckConstraint("end_time > start_time", name=op.f("ck_weekly_hours_ends_after_start")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_weekly_hours_weekday_range")),
        sa.ForeignKeyConstraint(
            ["practitioner_id"], ["users.id"], name=op.f("fk_weekly_hours_practitioner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weekly_hours")),
    )
    with op.batch_alter_table("weekly_hours", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_weekly_hours_practitioner_id"), ["practitioner_id"], unique=False
        )

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "paid",
                "canceled",
                "refunded",
                name="order_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("payment_provider", sa.String(length=32), nullable=False),
        sa.Column("payment_reference", sa.String(length=120), nullable=False),
        sa.Column("hold_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("canceled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=False),
        sa.CheckConstraint("total_cents >= 0", name=op.f("ck_orders_total_not_negative")),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_orders_service_id_services")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_orders_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_orders_hold_expires_at"), ["hold_expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_orders_service_id"), ["service_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_user_id"), ["user_id"], unique=False)

    op.create_table(
        "service_components",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_service_id", sa.Integer(), nullable=False),
        sa.Column("included_service_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "parent_service_id <> included_service_id", name=op.f("ck_service_components_not_self")
        ),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_service_components_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["included_service_id"],
            ["services.id"],
            name=op.f("fk_service_components_included_service_id_services"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_service_id"],
            ["services.id"],
            name=op.f("fk_service_components_parent_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_components")),
        sa.UniqueConstraint("parent_service_id", "included_service_id", name="uq_component_pair"),
    )
    with op.batch_alter_table("service_components", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_components_parent_service_id"),
            ["parent_service_id"],
            unique=False,
        )

    op.create_table(
        "service_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column(
            "session_type",
            sa.Enum(
                "individual",
                "workshop",
                "course_session",
                "package_session",
                "bundle_session",
                name="session_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "visibility",
            sa.Enum(
                "public", "private", name="visibility", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("sequence_number", sa.Integer(), nullable=True),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actual_start_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actual_end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("max_participants", sa.Integer(), nullable=False),
        sa.Column("current_participants", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "scheduled",
                "in_progress",
                "completed",
                "canceled",
                name="session_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("livekit_room_name", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'canceled') OR start_time IS NOT NULL",
            name=op.f("ck_service_sessions_scheduled_has_time"),
        ),
        sa.CheckConstraint(
            "(start_time IS NULL) = (end_time IS NULL)",
            name=op.f("ck_service_sessions_times_paired"),
        ),
        sa.CheckConstraint(
            "current_participants >= 0 AND current_participants <= max_participants",
            name=op.f("ck_service_sessions_capacity"),
        ),
        sa.CheckConstraint(
            "end_time > start_time", name=op.f("ck_service_sessions_ends_after_start")
        ),
        sa.CheckConstraint(
            "max_participants >= 1", name=op.f("ck_service_sessions_max_participants_positive")
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["users.id"],
            name=op.f("fk_service_sessions_practitioner_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_service_sessions_service_id_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_sessions")),
        sa.UniqueConstraint(
            "livekit_room_name", name=op.f("uq_service_sessions_livekit_room_name")
        ),
    )
    with op.batch_alter_table("service_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_sessions_practitioner_start",
            ["practitioner_id", "start_time"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_service_sessions_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("service_session_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "pending_payment",
                "confirmed",
                "canceled",
                name="booking_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("price_charged_cents", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pending_payment_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("canceled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=False),
        sa.Column("canceled_by_id", sa.Integer(), nullable=True),
        sa.Column("late_cancel", sa.Boolean(), nullable=False),
        sa.CheckConstraint("price_charged_cents >= 0", name=op.f("ck_bookings_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["canceled_by_id"], ["users.id"], name=op.f("fk_bookings_canceled_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_bookings_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_bookings_service_id_services")
        ),
        sa.ForeignKeyConstraint(
            ["service_session_id"],
            ["service_sessions.id"],
            name=op.f("fk_bookings_service_session_id_service_sessions"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_bookings_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookings_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_service_id"), ["service_id"], unique=False)
        batch_op.create_index(
            "ix_bookings_session_status", ["service_session_id", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_bookings_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_bookings_active_seat",
            ["user_id", "service_session_id"],
            unique=True,
            sqlite_where=sa.text("status <> 'canceled'"),
            postgresql_where=sa.text("status <> 'canceled'"),
        )

    op.create_table(
        "rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("service_session_id", sa.Integer(), nullable=True),
        sa.Column("livekit_sid", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_session_id"],
            ["service_sessions.id"],
            name=op.f("fk_rooms_service_session_id_service_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
        sa.UniqueConstraint("name", name=op.f("uq_rooms_name")),
        sa.UniqueConstraint("service_session_id", name=op.f("uq_rooms_service_session_id")),
    )
    op.create_table(
        "room_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("identity", sa.String(length=128), nullable=False),
        sa.Column("participant_sid", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("participant_kind", sa.String(length=16), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "duration_seconds IS NULL OR duration_seconds >= 0",
            name=op.f("ck_room_participants_duration_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["rooms.id"], name=op.f("fk_room_participants_room_id_rooms")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_room_participants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_participants")),
        sa.UniqueConstraint("room_id", "participant_sid", name="uq_room_participants_sid"),
    )
    with op.batch_alter_table("room_participants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_room_participants_room_id"), ["room_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_room_participants_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("room_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_room_participants_user_id"))
        batch_op.drop_index(batch_op.f("ix_room_participants_room_id"))

    op.drop_table("room_participants")
    op.drop_table("rooms")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_bookings_active_seat",
            sqlite_where=sa.text("status <> 'canceled'"),
            postgresql_where=sa.text("status <> 'canceled'"),
        )
        batch_op.drop_index(batch_op.f("ix_bookings_user_id"))
        batch_op.drop_index("ix_bookings_session_status")
        batch_op.drop_index(batch_op.f("ix_bookings_service_id"))
        batch_op.drop_index(batch_op.f("ix_bookings_order_id"))

    op.drop_table("bookings")
    with op.batch_alter_table("service_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_sessions_service_id"))
        batch_op.drop_index("ix_service_sessions_practitioner_start")

    op.drop_table("service_sessions")
    with op.batch_alter_table("service_components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_components_parent_service_id"))

    op.drop_table("service_components")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_user_id"))
        batch_op.drop_index(batch_op.f("ix_orders_service_id"))
        batch_op.drop_index(batch_op.f("ix_orders_hold_expires_at"))

    op.drop_table("orders")
    with op.batch_alter_table("weekly_hours", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_weekly_hours_practitioner_id"))

    op.drop_table("weekly_hours")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_services_primary_practitioner_id"))

    op.drop_table("services")
    op.drop_table("schedule_settings")
    with op.batch_alter_table("date_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_date_overrides_practitioner_id"))
        batch_op.drop_index(batch_op.f("ix_date_overrides_day"))

    op.drop_table("date_overrides")
    op.drop_table("users")
