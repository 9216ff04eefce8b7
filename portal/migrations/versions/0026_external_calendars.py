"""external_calendars and external_busy_times: a practitioner's own calendars (#22)

Revision ID: 0026
Revises: 0022

"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "external_calendars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "ics_url", "caldav", name="calendar_kind", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("url_secret", sa.Text(), nullable=False),
        sa.Column("username", sa.String(length=254), nullable=True),
        sa.Column("password_secret", sa.Text(), nullable=True),
        sa.Column("blocks_time", sa.Boolean(), nullable=False),
        sa.Column("receives_bookings", sa.Boolean(), nullable=False),
        sa.Column("share_attendee_names", sa.Boolean(), nullable=False),
        sa.Column("version_tag", sa.String(length=500), nullable=True),
        sa.Column("events_seen", sa.Integer(), nullable=False),
        sa.Column("covered_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "problem",
            sa.Enum(
                "wrong_password",
                "not_found",
                "not_a_calendar",
                "timeout",
                "invalid_data",
                "too_large",
                "unreachable",
                "refused_address",
                name="sync_problem",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_refresh_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind = 'caldav' OR (username IS NULL AND password_secret IS NULL)",
            name=op.f("ck_external_calendars_credentials_only_for_caldav"),
        ),
        sa.CheckConstraint(
            "kind = 'caldav' OR receives_bookings = false",
            name=op.f("ck_external_calendars_only_caldav_receives"),
        ),
        sa.CheckConstraint(
            "events_seen >= 0", name=op.f("ck_external_calendars_events_seen_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["users.id"],
            name=op.f("fk_external_calendars_practitioner_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_calendars")),
    )
    with op.batch_alter_table("external_calendars", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_external_calendars_next_refresh_at"), ["next_refresh_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_external_calendars_practitioner_id"), ["practitioner_id"], unique=False
        )
        batch_op.create_index(
            "uq_external_calendars_receiver",
            ["practitioner_id"],
            unique=True,
            sqlite_where=sa.text("receives_bookings"),
            postgresql_where=sa.text("receives_bookings"),
        )

    op.create_table(
        "external_busy_times",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "end_time > start_time", name=op.f("ck_external_busy_times_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["external_calendars.id"],
            name=op.f("fk_external_busy_times_calendar_id_external_calendars"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["users.id"],
            name=op.f("fk_external_busy_times_practitioner_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_busy_times")),
    )
    with op.batch_alter_table("external_busy_times", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_external_busy_times_calendar_id"), ["calendar_id"], unique=False
        )
        batch_op.create_index(
            "ix_external_busy_times_practitioner_start",
            ["practitioner_id", "start_time"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("external_busy_times", schema=None) as batch_op:
        batch_op.drop_index("ix_external_busy_times_practitioner_start")
        batch_op.drop_index(batch_op.f("ix_external_busy_times_calendar_id"))

    op.drop_table("external_busy_times")
    with op.batch_alter_table("external_calendars", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_external_calendars_receiver",
            sqlite_where=sa.text("receives_bookings"),
            postgresql_where=sa.text("receives_bookings"),
        )
        batch_op.drop_index(batch_op.f("ix_external_calendars_practitioner_id"))
        batch_op.drop_index(batch_op.f("ix_external_calendars_next_refresh_at"))

    op.drop_table("external_calendars")
