"""orders may be expired: a hold that lapsed ends the order (#14)

A pending order whose hold lapsed had its seats released but stayed pending, on the
practitioner's "awaiting payment" list with a Mark paid button. Its terminal state is
now `expired` (a late payment may still take the seats again, if free). The CHECK
constraint of the non-native enum gains the value; orders already in that state are
moved to it.

Revision ID: 0014
Revises: 0013

"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BEFORE = ("pending", "paid", "canceled", "refunded")
AFTER = (*BEFORE, "expired")

# A pending order, past its hold, with no booking left that is not canceled.
LAPSED = """
UPDATE orders SET status = '{to}'
WHERE status = '{from_}' AND hold_expires_at IS NOT NULL
  AND EXISTS (SELECT 1 FROM bookings b WHERE b.order_id = orders.id)
  AND NOT EXISTS (
      SELECT 1 FROM bookings b WHERE b.order_id = orders.id AND b.status <> 'canceled'
  )
"""


def _retype(values):
    """Swap the CHECK of the non-native enum (SQLite rebuilds the table to do it)."""
    allowed = ", ".join(f"'{value}'" for value in values)
    with warnings.catch_warnings():
        # SQLite's rebuild reflects orders and, through its foreign key, users, whose
        # lower(email) index SQLAlchemy cannot reflect. The index is not touched: users
        # is only read for the foreign key, so the warning says nothing about this table.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table("orders") as batch_op:
            batch_op.drop_constraint(batch_op.f("ck_orders_order_status"), type_="check")
            batch_op.create_check_constraint("order_status", sa.text(f"status IN ({allowed})"))


def upgrade():
    _retype(AFTER)
    op.execute(LAPSED.format(to="expired", from_="pending"))


def downgrade():
    op.execute("UPDATE orders SET status = 'pending' WHERE status = 'expired'")
    _retype(BEFORE)
