"""hardening (#15): sign-ins kept server-side; room stays in order; purchase keys

user_sessions: one row per sign-in; the session and remember-me cookies count only
while their row exists, so signing out refuses every copy of them.
room_participants: a stay ends no earlier than it begins, and nothing ends that did
not begin. idempotent_purchases: one row per (user, key) a purchase was made under,
written with its order, so a retried request finds the order instead of buying twice.
Rows stored before are brought in line the way booking.rooms now records
them (a stay of no length at its end), which keeps every attendance total.

Revision ID: 0012
Revises: 0011

"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_sessions",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_user_sessions")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"], unique=False)
    op.create_table(
        "idempotent_purchases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_idempotent_purchases_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_idempotent_purchases_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotent_purchases")),
        sa.UniqueConstraint("user_id", "key", name="uq_idempotent_purchases_key"),
    )
    op.create_index(
        op.f("ix_idempotent_purchases_order_id"),
        "idempotent_purchases",
        ["order_id"],
        unique=False,
    )
    op.execute(
        "UPDATE room_participants SET joined_at = left_at, duration_seconds = 0 "
        "WHERE left_at IS NOT NULL AND (joined_at IS NULL OR joined_at > left_at)"
    )
    with op.batch_alter_table("room_participants") as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_room_participants_left_after_joined"),
            "left_at IS NULL OR (joined_at IS NOT NULL AND left_at >= joined_at)",
        )


def downgrade():
    op.drop_index(op.f("ix_idempotent_purchases_order_id"), table_name="idempotent_purchases")
    op.drop_table("idempotent_purchases")
    with op.batch_alter_table("room_participants") as batch_op:
        batch_op.drop_constraint(op.f("ck_room_participants_left_after_joined"), type_="check")
    op.drop_index(op.f("ix_user_sessions_user_id"), table_name="user_sessions")
    op.drop_table("user_sessions")
