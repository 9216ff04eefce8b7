"""room events stored on arrival and applied after (#15 defect 8); pruning indexes

The LiveKit webhook now stores each event and answers at once; a worker (or the next
reader of attendance) applies each room's pending events in order. processed_room_events
keeps the event's content and when it was applied; the rows already there were applied
when they arrived.

Expired sign-ins and purchase keys are now pruned in batches by age: their created_at
is indexed.

Revision ID: 0017
Revises: 0016

"""

import warnings
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

PENDING = "applied_at IS NULL"
PRUNED = ("user_sessions", "idempotent_purchases")


@contextmanager
def _rebuilding():
    """The table, rebuilt by SQLite's batch mode. As in 0014: the rebuild reflects users
    through the foreign keys, and its lower(email) index cannot be reflected; users
    itself is not touched."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table("processed_room_events") as batch_op:
            yield batch_op


def upgrade():
    with _rebuilding() as batch_op:
        batch_op.add_column(sa.Column("service_session_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("room_sid", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("room_created_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("participant_sid", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("participant_identity", sa.String(length=128), nullable=True))
        batch_op.add_column(
            sa.Column("participant_name", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("participant_joined_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_processed_room_events_service_session_id_service_sessions"),
            "service_sessions",
            ["service_session_id"],
            ["id"],
        )
    op.execute("UPDATE processed_room_events SET applied_at = processed_at")
    with _rebuilding() as batch_op:
        # The defaults only filled the rows already there; the models give every new one.
        batch_op.alter_column("room_sid", server_default=None)
        batch_op.alter_column("participant_name", server_default=None)
        batch_op.create_index(
            "ix_processed_room_events_pending",
            ["service_session_id", "occurred_at", "id"],
            unique=False,
            sqlite_where=sa.text(PENDING),
            postgresql_where=sa.text(PENDING),
        )
    for table in PRUNED:
        op.create_index(op.f(f"ix_{table}_created_at"), table, ["created_at"], unique=False)


def downgrade():
    for table in PRUNED:
        op.drop_index(op.f(f"ix_{table}_created_at"), table_name=table)
    # Events still pending would be lost with their content: apply them before going back.
    with _rebuilding() as batch_op:
        batch_op.drop_index("ix_processed_room_events_pending")
        batch_op.drop_constraint(
            batch_op.f("fk_processed_room_events_service_session_id_service_sessions"),
            type_="foreignkey",
        )
        for column in (
            "applied_at",
            "participant_joined_at",
            "participant_name",
            "participant_identity",
            "participant_sid",
            "room_created_at",
            "room_sid",
            "occurred_at",
            "service_session_id",
        ):
            batch_op.drop_column(column)
