"""practitioner_profiles: title, location, languages, links, photo, accent colour and the
origins allowed to frame the page (#24)

Every existing profile keeps showing what it showed: the new text columns default to empty
(no photo, the portal's own colour, framing refused everywhere).

Revision ID: 0030
Revises: 0028

"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0028"
branch_labels = None
depends_on = None

COLUMNS = [
    ("title", sa.String(120)),
    ("location", sa.String(120)),
    ("languages", sa.String(200)),
    ("links", sa.Text()),
    ("photo", sa.String(80)),
    ("accent_color", sa.String(7)),
    ("embed_origins", sa.Text()),
]


def upgrade():
    with op.batch_alter_table("practitioner_profiles") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, server_default="", nullable=False))
        batch.add_column(sa.Column("online", sa.Boolean(), server_default="0", nullable=False))


def downgrade():
    with op.batch_alter_table("practitioner_profiles") as batch:
        batch.drop_column("online")
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
