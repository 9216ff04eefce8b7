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
from ..extensions import Model, db
from .users import User

# Lowercase letters, digits and inner hyphens: what a URL path segment carries unescaped.
SLUG_MAX = 60


class PractitionerSlug(Model):
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


class PractitionerProfile(Model):
    """What a practitioner shows the public: the page's current address, who they are (photo,
    title, bio, location, languages, links), their colour and logo, and who may frame the
    page."""

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
    bio: Mapped[str] = mapped_column(Text, default="")  # Markdown, sanitised when shown
    title: Mapped[str] = mapped_column(String(120), default="", server_default="")
    location: Mapped[str] = mapped_column(String(120), default="", server_default="")
    online: Mapped[bool] = mapped_column(default=False, server_default="0")
    languages: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # One http(s) URL a line, checked when saved.
    links: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The stored photo's file name in the media folder (its content hash): "" for none.
    photo: Mapped[str] = mapped_column(String(80), default="", server_default="")
    # Their logo's file name there, the same way (a PNG, shape kept): "" for none.
    logo: Mapped[str] = mapped_column(String(80), default="", server_default="")
    # "#rrggbb", checked for contrast against white when saved; "" for the portal's own.
    accent_color: Mapped[str] = mapped_column(String(7), default="", server_default="")
    # Origins (scheme://host[:port]) allowed to frame the public pages, one a line.
    embed_origins: Mapped[str] = mapped_column(Text, default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(backref=db.backref("profile", uselist=False))

    @property
    def link_list(self) -> list[str]:
        return self.links.split()

    @property
    def embed_origin_list(self) -> list[str]:
        return self.embed_origins.split()
