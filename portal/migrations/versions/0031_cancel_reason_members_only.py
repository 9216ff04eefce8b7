"""cancel_reason holds only CancelReason members; what a person typed moves to cancel_note (#19)

`cancel_reason` mixed the domain's reasons, which rules compare, with whatever a practitioner
or an API client typed. The typed words move to bookings.cancel_note; the reason column is
NULL until a cancel and then one member of CancelReason, which its CHECK enforces. A booking
whose reason was typed words is given the member of its kind of cancel (its session was
canceled, or it was canceled); orders never carried typed words, so an unknown text there
(none is expected) reads as "canceled".

Revision ID: 0031
Revises: 0030

"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

MEMBERS = (
    "hold_expired",
    "waitlist offer declined",
    "every booking canceled",
    "canceled",
    "session canceled",
    "canceled by client",
    "removed by practitioner",
    "canceled at their request by practitioner",
)
ALLOWED = ", ".join(f"'{member}'" for member in MEMBERS)

TYPED_TO_NOTE = f"""
UPDATE bookings SET cancel_note = cancel_reason,
    cancel_reason = CASE
        WHEN EXISTS (
            SELECT 1 FROM service_sessions s
            WHERE s.id = bookings.service_session_id AND s.status = 'canceled'
        ) THEN 'session canceled'
        ELSE 'canceled'
    END
WHERE cancel_reason <> '' AND cancel_reason NOT IN ({ALLOWED})
"""


def _rebuild(table: str, alter) -> None:
    """Run a batch alteration, keeping the table's triggers: SQLite rebuilds the table to
    change a column's nullability or add a CHECK, and dropping a table drops its triggers
    (and, with foreign keys enforced, fails while other rows point at it)."""
    bind = op.get_bind()
    triggers = []
    if bind.dialect.name == "sqlite":
        triggers = list(
            bind.execute(
                sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
                {"t": table},
            ).scalars()
        )
        # Checked at commit instead, when the rebuilt table holds every row again (the
        # migration runs in a transaction, where foreign_keys = OFF would do nothing).
        op.execute("PRAGMA defer_foreign_keys = ON")
    with warnings.catch_warnings():
        # The rebuild reflects users through the foreign keys; its lower(email) index cannot
        # be reflected and is not touched.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table(table) as batch:
            alter(batch)
    for sql in triggers:
        op.execute(sql)


def upgrade():
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(
            sa.Column("cancel_note", sa.String(length=200), server_default="", nullable=False)
        )
    op.execute(TYPED_TO_NOTE)
    op.execute(
        f"UPDATE orders SET cancel_reason = 'canceled' "
        f"WHERE cancel_reason <> '' AND cancel_reason NOT IN ({ALLOWED})"
    )
    for table, name in (("bookings", "booking_cancel_reason"), ("orders", "order_cancel_reason")):
        # Nullable first (PostgreSQL refuses a NULL in a NOT NULL column), then the empty
        # strings become NULL, then the CHECK (PostgreSQL checks the rows it finds).
        _rebuild(
            table,
            lambda batch: batch.alter_column(
                "cancel_reason", existing_type=sa.String(200), nullable=True
            ),
        )
        op.execute(f"UPDATE {table} SET cancel_reason = NULL WHERE cancel_reason = ''")
        _rebuild(
            table,
            lambda batch, name=name: batch.create_check_constraint(
                name, sa.text(f"cancel_reason IN ({ALLOWED})")
            ),
        )


def downgrade():
    for table, name in (("bookings", "booking_cancel_reason"), ("orders", "order_cancel_reason")):
        _rebuild(
            table,
            lambda batch, name=name, table=table: batch.drop_constraint(
                batch.f(f"ck_{table}_{name}"), type_="check"
            ),
        )
        op.execute(f"UPDATE {table} SET cancel_reason = '' WHERE cancel_reason IS NULL")
        _rebuild(
            table,
            lambda batch: batch.alter_column(
                "cancel_reason", existing_type=sa.String(200), nullable=False
            ),
        )
    op.execute("UPDATE bookings SET cancel_reason = cancel_note WHERE cancel_note <> ''")
    _rebuild("bookings", lambda batch: batch.drop_column("cancel_note"))
