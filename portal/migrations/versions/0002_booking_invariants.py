"""Booking invariants kept by the database itself.

- service_sessions.current_participants is maintained by triggers on bookings:
  it always equals the number of seat-holding (non-canceled) bookings, and the
  capacity CHECK refuses any booking that would overfill a session.
- A practitioner cannot have two scheduled or in-progress sessions that overlap:
  an exclusion constraint on PostgreSQL, BEFORE triggers on SQLite.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BUSY = "('scheduled', 'in_progress')"

SQLITE_UP = [
    """
    CREATE TRIGGER bookings_seat_insert AFTER INSERT ON bookings
    WHEN NEW.status <> 'canceled'
    BEGIN
        UPDATE service_sessions SET current_participants = current_participants + 1
        WHERE id = NEW.service_session_id;
    END
    """,
    """
    CREATE TRIGGER bookings_seat_update AFTER UPDATE OF status, service_session_id ON bookings
    BEGIN
        UPDATE service_sessions SET current_participants = current_participants - 1
        WHERE id = OLD.service_session_id AND OLD.status <> 'canceled';
        UPDATE service_sessions SET current_participants = current_participants + 1
        WHERE id = NEW.service_session_id AND NEW.status <> 'canceled';
    END
    """,
    """
    CREATE TRIGGER bookings_seat_delete AFTER DELETE ON bookings
    WHEN OLD.status <> 'canceled'
    BEGIN
        UPDATE service_sessions SET current_participants = current_participants - 1
        WHERE id = OLD.service_session_id;
    END
    """,
    f"""
    CREATE TRIGGER service_sessions_no_overlap_insert BEFORE INSERT ON service_sessions
    WHEN NEW.status IN {BUSY} AND NEW.start_time IS NOT NULL
    BEGIN
        SELECT RAISE(ABORT, 'service_sessions_no_overlap')
        WHERE EXISTS (
            SELECT 1 FROM service_sessions AS other
            WHERE other.practitioner_id = NEW.practitioner_id
              AND other.status IN {BUSY}
              AND other.start_time < NEW.end_time
              AND other.end_time > NEW.start_time
        );
    END
    """,
    f"""
    CREATE TRIGGER service_sessions_no_overlap_update
    BEFORE UPDATE OF status, start_time, end_time, practitioner_id ON service_sessions
    WHEN NEW.status IN {BUSY} AND NEW.start_time IS NOT NULL
    BEGIN
        SELECT RAISE(ABORT, 'service_sessions_no_overlap')
        WHERE EXISTS (
            SELECT 1 FROM service_sessions AS other
            WHERE other.id <> NEW.id
              AND other.practitioner_id = NEW.practitioner_id
              AND other.status IN {BUSY}
              AND other.start_time < NEW.end_time
              AND other.end_time > NEW.start_time
        );
    END
    """,
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS bookings_seat_insert",
    "DROP TRIGGER IF EXISTS bookings_seat_update",
    "DROP TRIGGER IF EXISTS bookings_seat_delete",
    "DROP TRIGGER IF EXISTS service_sessions_no_overlap_insert",
    "DROP TRIGGER IF EXISTS service_sessions_no_overlap_update",
]

POSTGRES_UP = [
    """
    CREATE FUNCTION bookings_seat_count() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'canceled' THEN
            UPDATE service_sessions SET current_participants = current_participants - 1
            WHERE id = OLD.service_session_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status <> 'canceled' THEN
            UPDATE service_sessions SET current_participants = current_participants + 1
            WHERE id = NEW.service_session_id;
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER bookings_seat_count
    AFTER INSERT OR DELETE OR UPDATE OF status, service_session_id ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_seat_count()
    """,
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""
    ALTER TABLE service_sessions ADD CONSTRAINT service_sessions_no_overlap
    EXCLUDE USING gist (practitioner_id WITH =, tstzrange(start_time, end_time) WITH &&)
    WHERE (status IN {BUSY})
    """,
]
POSTGRES_DOWN = [
    "ALTER TABLE service_sessions DROP CONSTRAINT IF EXISTS service_sessions_no_overlap",
    "DROP TRIGGER IF EXISTS bookings_seat_count ON bookings",
    "DROP FUNCTION IF EXISTS bookings_seat_count()",
]


def _run(statements):
    for statement in statements:
        op.execute(statement)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _run(POSTGRES_UP)
    else:
        _run(SQLITE_UP)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _run(POSTGRES_DOWN)
    else:
        _run(SQLITE_DOWN)
