"""practitioner public pages: a profile (slug, bio) and the history of every slug

Existing practitioners get a slug from their name so their page exists at once; they can
change it in their profile.

Revision ID: 0011
Revises: 0010

"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _slug_base(name: str) -> str:
    # The same rule as portal.profiles.slugify, frozen here as the migration ran.
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:50].strip("-")
    return slug if len(slug) >= 2 else "practitioner"


def upgrade():
    slugs = op.create_table(
        "practitioner_slugs",
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "slug = lower(slug) AND length(slug) BETWEEN 2 AND 60",
            name=op.f("ck_practitioner_slugs_slug_shape"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_practitioner_slugs_user_id_users")
        ),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_practitioner_slugs")),
        sa.UniqueConstraint("slug", "user_id", name=op.f("uq_practitioner_slugs_slug")),
    )
    op.create_index(
        op.f("ix_practitioner_slugs_user_id"), "practitioner_slugs", ["user_id"], unique=False
    )
    profiles = op.create_table(
        "practitioner_profiles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["slug", "user_id"],
            ["practitioner_slugs.slug", "practitioner_slugs.user_id"],
            name=op.f("fk_practitioner_profiles_own_slug"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_practitioner_profiles_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_practitioner_profiles")),
        sa.UniqueConstraint("slug", name=op.f("uq_practitioner_profiles_slug")),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, name FROM users WHERE role = 'practitioner' ORDER BY id")
    ).all()
    now = sa.func.now()
    taken: set[str] = set()
    for user_id, name in rows:
        base = slug = _slug_base(name)
        n = 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        conn.execute(slugs.insert().values(slug=slug, user_id=user_id, created_at=now))
        conn.execute(profiles.insert().values(user_id=user_id, slug=slug, bio="", updated_at=now))


def downgrade():
    op.drop_table("practitioner_profiles")
    op.drop_index(op.f("ix_practitioner_slugs_user_id"), table_name="practitioner_slugs")
    op.drop_table("practitioner_slugs")
