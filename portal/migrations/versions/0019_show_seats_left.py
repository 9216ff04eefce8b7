"""services.show_seats_left: whether clients see how many seats are left (#12)

A practitioner may hide the count, as Momence and Mindbody let them: clients then read only
"Available" or "Full". Every existing service keeps showing it (server default true).

Revision ID: 0019
Revises: 0018

"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    # A literal default, which both backends read as true: an expression (sa.true()) would
    # make SQLite's batch mode rebuild the table instead of adding the column in place.
    with op.batch_alter_table("services") as batch:
        batch.add_column(
            sa.Column("show_seats_left", sa.Boolean(), server_default="1", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("services") as batch:
        batch.drop_column("show_seats_left")
