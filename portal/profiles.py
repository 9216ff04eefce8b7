"""Practitioners' public pages: the address (slug) and bio they show, and who is listed.

A slug is claimed for good: changing it keeps the old one in practitioner_slugs, pointing at
the same practitioner, so a link shared before keeps working and is never handed to another.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from flask_babel import gettext
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from .core.errors import InvalidInput
from .core.transactions import unit_of_work
from .extensions import db
from .models import (
    SLUG_MAX,
    PractitionerProfile,
    PractitionerSlug,
    Role,
    Service,
    User,
)

logger = logging.getLogger(__name__)

SLUG_SHAPE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


def slugify(name: str) -> str:
    """A readable address from a name: "Maya Rivers" -> "maya-rivers"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:50].strip("-")
    return slug if len(slug) >= 2 else "practitioner"


def _owner_of(slug: str) -> int | None:
    return db.session.scalar(select(PractitionerSlug.user_id).where(PractitionerSlug.slug == slug))


def _free_slug(base: str) -> str:
    slug, n = base, 1
    while _owner_of(slug) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


@unit_of_work
def save_public_profile(practitioner: User, *, slug: str | None = None, bio: str = "") -> None:
    """Create or change the practitioner's public page. Without a slug one is made from the
    name; a slug someone else ever had is refused (the database refuses it too, under races)."""
    if not practitioner.is_practitioner:
        raise InvalidInput(gettext("Only practitioners have a public page."))
    profile = db.session.get(PractitionerProfile, practitioner.id)
    if slug is None:
        slug = profile.slug if profile else _free_slug(slugify(practitioner.name))
    slug = slug.strip().lower()
    if not (2 <= len(slug) <= SLUG_MAX and SLUG_SHAPE.match(slug)):
        raise InvalidInput(
            gettext("Use 2 to 60 lowercase letters, digits and hyphens, e.g. maya-rivers."),
            field="slug",
        )
    owner = _owner_of(slug)
    if owner not in (None, practitioner.id):
        raise InvalidInput(gettext("That address is taken; pick another."), field="slug")
    if owner is None:
        db.session.add(PractitionerSlug(slug=slug, user_id=practitioner.id))
        db.session.flush()
    if profile is None:
        profile = PractitionerProfile(user_id=practitioner.id, slug=slug, bio=bio)
        db.session.add(profile)
        logger.info("practitioner %s opened their public page at %s", practitioner.id, slug)
    else:
        if profile.slug != slug:
            logger.info(
                "practitioner %s moved their page from %s to %s",
                practitioner.id,
                profile.slug,
                slug,
            )
        profile.slug, profile.bio = slug, bio
    db.session.flush()


def find_by_slug(slug: str) -> tuple[PractitionerProfile | None, bool]:
    """The listed practitioner a slug names, and whether it is their current slug."""
    row = db.session.execute(
        select(PractitionerProfile)
        .join(PractitionerSlug, PractitionerSlug.user_id == PractitionerProfile.user_id)
        .join(User, User.id == PractitionerProfile.user_id)
        .where(
            PractitionerSlug.slug == slug.lower(),
            User.role == Role.PRACTITIONER,
            User.is_active_account,
        )
        .options(selectinload(PractitionerProfile.user))
    ).scalar_one_or_none()
    if row is None:
        return None, False
    return row, row.slug == slug


def listed_profiles() -> list[PractitionerProfile]:
    """Practitioners who take bookings: an active account, a public page, an active service."""
    has_service = exists().where(
        Service.primary_practitioner_id == PractitionerProfile.user_id, Service.is_active
    )
    return list(
        db.session.scalars(
            select(PractitionerProfile)
            .join(User, User.id == PractitionerProfile.user_id)
            .where(User.role == Role.PRACTITIONER, User.is_active_account, has_service)
            .options(selectinload(PractitionerProfile.user))
            .order_by(User.name)
        )
    )
