"""Stripe Connect: a practitioner's own Stripe account, and the account a payment event
happened on and a money movement was made on (#20)

Revision ID: 0042
Revises: 0041

"""

import sqlalchemy as sa
from alembic import op

revision = "0042"
down_revision = "0041"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stripe_accounts",
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("charges_enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["users.id"],
            name=op.f("fk_stripe_accounts_practitioner_id_users"),
        ),
        sa.PrimaryKeyConstraint("practitioner_id", name=op.f("pk_stripe_accounts")),
        sa.UniqueConstraint("account_id", name=op.f("uq_stripe_accounts_account_id")),
    )
    # Existing events and movements are the installation's own account's.
    for table in ("payment_events", "payments"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("account", sa.String(length=255), nullable=False, server_default="")
            )


def downgrade():
    for table in ("payments", "payment_events"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("account")
    op.drop_table("stripe_accounts")
