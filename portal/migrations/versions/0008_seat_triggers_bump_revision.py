"""seat-count triggers also bump the session's revision and updated_at

A booking added, canceled or otherwise moved changes what the calendar feeds show
of its session (seats taken, attendees, the client's own status), so the event's
SEQUENCE (revision) and LAST-MODIFIED (updated_at) must move with it. The seat
triggers already update that session row on every such change: doing it there
costs no statement and no second row version.

Revision ID: 0008
Revises: 0007

"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Six fractional digits, as SQLAlchemy writes DATETIME on SQLite.
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"


def _sqlite_triggers(bump: str) -> list[str]:
    return [
        "DROP TRIGGER IF EXISTS bookings_seat_insert",
        "DROP TRIGGER IF EXISTS bookings_seat_update",
        "DROP TRIGGER IF EXISTS bookings_seat_delete",
        f"""
        CREATE TRIGGER bookings_seat_insert AFTER INSERT ON bookings
        WHEN NEW.status <> 'canceled'
        BEGIN
            UPDATE service_sessions SET current_participants = current_participants + 1{bump}
            WHERE id = NEW.service_session_id;
        END
        """,
        f"""
        CREATE TRIGGER bookings_seat_update AFTER UPDATE OF status, service_session_id ON bookings
        BEGIN
            UPDATE service_sessions SET current_participants = current_participants - 1{bump}
            WHERE id = OLD.service_session_id AND OLD.status <> 'canceled';
            UPDATE service_sessions SET current_participants = current_participants + 1{bump}
            WHERE id = NEW.service_session_id AND NEW.status <> 'canceled';
        END
        """,
        f"""
        CREATE TRIGGER bookings_seat_delete AFTER DELETE ON bookings
        WHEN OLD.status <> 'canceled'
        BEGIN
            UPDATE service_sessions SET current_participants = current_participants - 1{bump}
            WHERE id = OLD.service_session_id;
        END
        """,
    ]


def _postgres_function(bump: str) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION bookings_seat_count() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'canceled' THEN
            UPDATE service_sessions SET current_participants = current_participants - 1{bump}
            WHERE id = OLD.service_session_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status <> 'canceled' THEN
            UPDATE service_sessions SET current_participants = current_participants + 1{bump}
            WHERE id = NEW.service_session_id;
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """


def _run(bumped: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        bump = ", revision = revision + 1, updated_at = now()" if bumped else ""
        op.execute(_postgres_function(bump))
    else:
        bump = f", revision = revision + 1, updated_at = {SQLITE_NOW}" if bumped else ""
        for statement in _sqlite_triggers(bump):
            op.execute(statement)


def upgrade():
    _run(bumped=True)


def downgrade():
    _run(bumped=False)
