"""class passes: a sold pass keeps the terms it was sold on (#21)

Until now a sold pass copied only its credits; the services or tag it may be spent on and its
limits per day and week were read from the pass's current terms, so editing a pass changed
what earlier buyers could do. Each sold pass now holds its own copy: `eligible_tag`,
`per_day`, `per_week` on `class_passes` and its list of services in
`class_pass_eligible_services`. Existing passes are given their pass's terms as they stand
now (the best record there is of what they were sold on).

Revision ID: 0043
Revises: 0042

"""

import warnings
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None

CHECKS = {
    "class_pass_per_day_positive": "per_day IS NULL OR per_day >= 1",
    "class_pass_per_week_positive": "per_week IS NULL OR per_week >= 1",
}


@contextmanager
def _batch():
    # SQLite rebuilds the table and reflects users through the foreign keys; users'
    # lower(email) index cannot be reflected, and is not touched here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table("class_passes") as batch:
            yield batch


def upgrade() -> None:
    with _batch() as batch:
        batch.add_column(sa.Column("eligible_tag", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("per_day", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("per_week", sa.Integer(), nullable=True))
        for name, condition in CHECKS.items():
            batch.create_check_constraint(name, sa.text(condition))
    op.create_table(
        "class_pass_eligible_services",
        sa.Column("class_pass_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_pass_id"],
            ["class_passes.id"],
            name=op.f("fk_class_pass_eligible_services_class_pass_id_class_passes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_class_pass_eligible_services_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "class_pass_id", "service_id", name=op.f("pk_class_pass_eligible_services")
        ),
    )
    for column in ("eligible_tag", "per_day", "per_week"):
        op.execute(
            f"UPDATE class_passes SET {column} = (SELECT t.{column} FROM class_pass_terms t "
            "WHERE t.service_id = class_passes.service_id)"
        )
    op.execute(
        "INSERT INTO class_pass_eligible_services (class_pass_id, service_id) "
        "SELECT p.id, s.service_id FROM class_passes p "
        "JOIN class_pass_services s ON s.pass_service_id = p.service_id"
    )


def downgrade() -> None:
    op.drop_table("class_pass_eligible_services")
    with _batch() as batch:
        for name in CHECKS:
            batch.drop_constraint(batch.f(f"ck_class_passes_{name}"), type_="check")
        for column in ("per_week", "per_day", "eligible_tag"):
            batch.drop_column(column)
