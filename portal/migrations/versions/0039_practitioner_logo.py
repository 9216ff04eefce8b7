"""practitioner_profiles.logo: a practitioner's logo on their public pages and emails (#24)

Revision ID: 0039
Revises: 0037

"""

import sqlalchemy as sa
from alembic import op

revision = "0039"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("practitioner_profiles") as batch:
        batch.add_column(sa.Column("logo", sa.String(80), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("practitioner_profiles") as batch:
        batch.drop_column("logo")
