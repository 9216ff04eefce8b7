"""services: a 1-on-1 service's own buffer, notice, horizon, weekdays and hours (#22)

Each is NULL for "the practitioner's own setting", so existing services keep today's slots.

Revision ID: 0040
Revises: 0039

"""

import warnings
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None

CHECKS = {
    "service_buffer_not_negative": "buffer_minutes IS NULL OR buffer_minutes >= 0",
    "service_notice_not_negative": "min_notice_minutes IS NULL OR min_notice_minutes >= 0",
    "service_horizon_positive": "horizon_days IS NULL OR horizon_days >= 1",
    "service_weekdays_mask": "bookable_weekdays IS NULL OR (bookable_weekdays BETWEEN 1 AND 127)",
    "service_hours_order": (
        "bookable_from IS NULL OR bookable_until IS NULL OR bookable_until > bookable_from"
    ),
}


@contextmanager
def _batch():
    # SQLite rebuilds the table and reflects users through the foreign keys; users'
    # lower(email) index cannot be reflected, and is not touched here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table("services") as batch:
            yield batch


def upgrade() -> None:
    with _batch() as batch:
        batch.add_column(sa.Column("buffer_minutes", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("min_notice_minutes", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("horizon_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("bookable_weekdays", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("bookable_from", sa.Time(), nullable=True))
        batch.add_column(sa.Column("bookable_until", sa.Time(), nullable=True))
        for name, condition in CHECKS.items():
            batch.create_check_constraint(name, sa.text(condition))


def downgrade() -> None:
    with _batch() as batch:
        for name in CHECKS:
            batch.drop_constraint(batch.f(f"ck_services_{name}"), type_="check")
        for column in (
            "bookable_until",
            "bookable_from",
            "bookable_weekdays",
            "horizon_days",
            "min_notice_minutes",
            "buffer_minutes",
        ):
            batch.drop_column(column)
