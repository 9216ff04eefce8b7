"""rooms: one row per room lifetime; room_participants.participant_kind checked (#18, #19)

LiveKit closes an empty room and opens it again, under the same name and a new sid, when
someone comes back. A session had one rooms row, so a camera check before the start ended
the session and closed every later stay at its finish. A session now has one row per room
sid: rooms.name and rooms.service_session_id are no longer unique, (service_session_id,
livekit_sid) is, and service_session_id is indexed for the lookups it served. Existing
rows keep their one sid each, so no data moves.

participant_kind, written by the domain as host/booked/unbooked only, gets the CHECK of
its enum (ParticipantKind); its width stays 16.

Revision ID: 0022
Revises: 0021

"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

KINDS = "participant_kind IN ('host', 'booked', 'unbooked')"


def _batch(table):
    # SQLite rebuilds the table and reflects users through the foreign keys; users'
    # lower(email) index cannot be reflected, and is not touched here.
    warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
    return op.batch_alter_table(table)


def upgrade():
    with warnings.catch_warnings():
        with _batch("rooms") as batch_op:
            batch_op.drop_constraint(batch_op.f("uq_rooms_name"), type_="unique")
            batch_op.drop_constraint(batch_op.f("uq_rooms_service_session_id"), type_="unique")
            batch_op.create_unique_constraint(
                "uq_rooms_lifetime", ["service_session_id", "livekit_sid"]
            )
            batch_op.create_index(
                batch_op.f("ix_rooms_service_session_id"), ["service_session_id"], unique=False
            )
        with _batch("room_participants") as batch_op:
            batch_op.create_check_constraint("participant_kind", sa.text(KINDS))


def downgrade():
    with warnings.catch_warnings():
        with _batch("room_participants") as batch_op:
            batch_op.drop_constraint(
                batch_op.f("ck_room_participants_participant_kind"), type_="check"
            )
        with _batch("rooms") as batch_op:
            batch_op.drop_index(batch_op.f("ix_rooms_service_session_id"))
            batch_op.drop_constraint("uq_rooms_lifetime", type_="unique")
            batch_op.create_unique_constraint(
                batch_op.f("uq_rooms_service_session_id"), ["service_session_id"]
            )
            batch_op.create_unique_constraint(batch_op.f("uq_rooms_name"), ["name"])
