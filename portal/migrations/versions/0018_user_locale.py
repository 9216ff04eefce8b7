"""users.locale: the formats a person reads dates, times and money in (#14)

Empty (NULL) follows the browser's Accept-Language, which is what every existing account
did before, so no row changes.

Revision ID: 0018
Revises: 0017

"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade():
    # SQLite drops a column by rebuilding the table, which would lose this expression index.
    op.drop_index("uq_users_email_lower", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("locale")
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)
