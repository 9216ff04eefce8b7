from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db
from .users import User

# Lowercase letters, digits and inner hyphens: what a URL path segment carries unescaped.
SLUG_MAX = 60


class PractitionerSlug(db.Model):
    """Every address a practitioner's public page has had. A slug, once used, stays with its
    practitioner, so a link shared under an old slug keeps reaching them (a redirect) and never
    someone else."""

    __tablename__ = "practitioner_slugs"
    __table_args__ = (
        CheckConstraint(
            f"slug = lower(slug) AND length(slug) BETWEEN 2 AND {SLUG_MAX}", name="slug_shape"
        ),
        # The target of the profile's "own slug" foreign key.
        UniqueConstraint("slug", "user_id"),
    )

    slug: Mapped[str] = mapped_column(String(SLUG_MAX), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PractitionerProfile(db.Model):
    """What a practitioner shows the public: the page's current address and a short bio."""

    __tablename__ = "practitioner_profiles"
    __table_args__ = (
        # The current slug is one of the practitioner's own slugs, never another's.
        ForeignKeyConstraint(
            ["slug", "user_id"],
            ["practitioner_slugs.slug", "practitioner_slugs.user_id"],
            name="fk_practitioner_profiles_own_slug",
        ),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    bio: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(backref=db.backref("profile", uselist=False))
