"""class_passes.unlimited: a membership period granted on an unlimited plan says so (#21)

Such a period's pass holds UNLIMITED_CREDITS (1000) so the credit checks need no special
case, and its pages showed "1000 credits left", then "999" after a class. The pass now
records that it is unlimited, as it records the other terms it was granted on, and the
pages say "Unlimited classes". Existing passes are marked when they hold exactly 1000
credits, belong to a membership period and the plan is unlimited now: the best record
there is of what they were granted on.

Revision ID: 0046
Revises: 0045

"""

import sqlalchemy as sa
from alembic import op

revision = "0046"
down_revision = "0045"
branch_labels = None
depends_on = None


def upgrade():
    # A literal default, which both backends read as false: an expression would make
    # SQLite's batch mode rebuild the table instead of adding the column in place.
    with op.batch_alter_table("class_passes") as batch:
        batch.add_column(sa.Column("unlimited", sa.Boolean(), server_default="0", nullable=False))
    op.execute(
        "UPDATE class_passes SET unlimited = TRUE WHERE credits = 1000 AND id IN ("
        "SELECT p.class_pass_id FROM membership_periods p "
        "JOIN memberships m ON m.id = p.membership_id "
        "JOIN membership_plans l ON l.service_id = m.plan_id WHERE l.unlimited)"
    )


def downgrade():
    with op.batch_alter_table("class_passes") as batch:
        batch.drop_column("unlimited")
