"""calendar_writes: the outbox of the calendar that receives a practitioner's bookings (#22)

A trigger on service_sessions writes the row: whatever moves a session's revision (a
booking added, confirmed, canceled or moved, by the seat triggers of 0008; the session
itself moved, canceled, resized or renamed) marks its event in the practitioner's
receiving calendar as due for a write, in the same transaction. One indexed lookup of
the receiving calendar, inside the database: no statement more for the request.

Revision ID: 0035
Revises: 0034

"""

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

# Six fractional digits, as SQLAlchemy writes DATETIME on SQLite (as in 0008).
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"

# A new change makes the row due now with a fresh count of tries; a worker holding it
# keeps its claim, and its write records the version it read, so the row stays pending.
_UPSERT = """
    INSERT INTO calendar_writes
        (calendar_id, session_id, version, written_version, on_server, attempts, next_attempt_at)
    SELECT c.id, NEW.id, 1, 0, false, 0, {now}
    FROM external_calendars c
    WHERE c.practitioner_id = NEW.practitioner_id AND c.receives_bookings
    ON CONFLICT (calendar_id, session_id) DO UPDATE
    SET version = calendar_writes.version + 1, attempts = 0,
        next_attempt_at = excluded.next_attempt_at
"""

SQLITE_TRIGGER = f"""
CREATE TRIGGER service_sessions_calendar_write AFTER UPDATE OF revision ON service_sessions
WHEN NEW.revision <> OLD.revision
BEGIN
    {_UPSERT.format(now=SQLITE_NOW)};
END
"""

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION service_sessions_calendar_write() RETURNS trigger AS $$
BEGIN
    {_UPSERT.format(now="now()")};
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""

POSTGRES_TRIGGER = """
CREATE TRIGGER service_sessions_calendar_write
AFTER UPDATE OF revision ON service_sessions
FOR EACH ROW WHEN (NEW.revision IS DISTINCT FROM OLD.revision)
EXECUTE FUNCTION service_sessions_calendar_write()
"""


def upgrade():
    op.create_table(
        "calendar_writes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("written_version", sa.Integer(), nullable=False),
        sa.Column("on_server", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
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
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_calendar_writes_attempts_not_negative")),
        sa.CheckConstraint(
            "written_version <= version", name=op.f("ck_calendar_writes_written_not_ahead")
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["external_calendars.id"],
            name=op.f("fk_calendar_writes_calendar_id_external_calendars"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["service_sessions.id"],
            name=op.f("fk_calendar_writes_session_id_service_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_writes")),
        sa.UniqueConstraint(
            "calendar_id", "session_id", name=op.f("uq_calendar_writes_calendar_id")
        ),
    )
    with op.batch_alter_table("calendar_writes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calendar_writes_session_id"), ["session_id"], unique=False
        )
        batch_op.create_index(
            "ix_calendar_writes_due",
            ["next_attempt_at"],
            unique=False,
            sqlite_where=sa.text("version > written_version"),
            postgresql_where=sa.text("version > written_version"),
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS service_sessions_calendar_write ON service_sessions")
        op.execute("DROP FUNCTION IF EXISTS service_sessions_calendar_write()")
    else:
        op.execute("DROP TRIGGER IF EXISTS service_sessions_calendar_write")
    with op.batch_alter_table("calendar_writes", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_calendar_writes_due",
            sqlite_where=sa.text("version > written_version"),
            postgresql_where=sa.text("version > written_version"),
        )
        batch_op.drop_index(batch_op.f("ix_calendar_writes_session_id"))
    op.drop_table("calendar_writes")
