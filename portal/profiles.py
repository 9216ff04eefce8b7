"""Practitioners' public pages: the address (slug), who they are (photo, title, bio, location,
languages, links), their accent colour, the sites that may frame the page, and who is listed.

A slug is claimed for good: changing it keeps the old one in practitioner_slugs, pointing at
the same practitioner, so a link shared before keeps working and is never handed to another.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import format_decimal, gettext
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from .core.errors import InvalidInput
from .core.transactions import unit_of_work
from .extensions import db
from .media import delete_photo, make_logo, make_photo, save_photo
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
COLOR_SHAPE = re.compile(r"^#[0-9a-f]{6}$")
# WCAG 2.x AA for normal text: the accent is a button's background under white text and a
# link's colour on white, so it must reach this against white either way.
MIN_CONTRAST = 4.5
MAX_LINKS = 6
MAX_EMBED_ORIGINS = 10


@dataclass(frozen=True)
class ProfileDetails:
    """What the settings form sends besides the address and the bio, as typed."""

    title: str = ""
    location: str = ""
    online: bool = False
    languages: str = ""
    links: str = ""
    accent_color: str = ""
    embed_origins: str = ""


def _luminance(color: str) -> float:
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(color[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.x contrast ratio of two "#rrggbb" colours, 1 to 21."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def clean_accent_color(raw: str) -> str:
    color = raw.strip().lower()
    if not color:
        return ""
    if not COLOR_SHAPE.match(color):
        raise InvalidInput(
            gettext("Write the colour as #rrggbb, e.g. #1f5f8b."), field="accent_color"
        )
    ratio = contrast_ratio(color, "#ffffff")
    if ratio < MIN_CONTRAST:
        # Rounded down: 4.46 must not read as the 4.5 it fails to reach.
        shown = format_decimal(int(ratio * 10) / 10, format="0.0")
        raise InvalidInput(
            gettext(
                "Too light to read against white: contrast %(ratio)s:1, needs 4.5:1. "
                "Pick a darker colour.",
                ratio=shown,
            ),
            field="accent_color",
        )
    return color


def _http_url(raw: str) -> bool:
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and raw.isprintable()


def clean_links(raw: str) -> str:
    links = raw.split()
    if len(links) > MAX_LINKS:
        raise InvalidInput(gettext("List at most %(num)d links.", num=MAX_LINKS), field="links")
    for link in links:
        if len(link) > 300 or not _http_url(link):
            raise InvalidInput(
                gettext("%(link)s is not a web address starting with https://.", link=link[:80]),
                field="links",
            )
    return "\n".join(links)


def clean_embed_origins(raw: str) -> str:
    """Origins as browsers send them (scheme://host[:port], lowercase, no path): the only
    form a frame-ancestors source can take without surprises."""
    origins: list[str] = []
    for entry in raw.split():
        parts = urlsplit(entry.rstrip("/"))
        try:
            port = parts.port
        except ValueError:
            port = -1
        if (
            not _http_url(entry)
            or port == -1
            or parts.path
            or parts.query
            or parts.fragment
            or parts.username is not None
            or "*" in entry
        ):
            raise InvalidInput(
                gettext(
                    "%(origin)s is not a site address like https://example.com "
                    "(no path, no wildcard).",
                    origin=entry[:80],
                ),
                field="embed_origins",
            )
        origin = f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_EMBED_ORIGINS:
        raise InvalidInput(
            gettext("List at most %(num)d sites.", num=MAX_EMBED_ORIGINS), field="embed_origins"
        )
    return "\n".join(origins)


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
def save_public_profile(
    practitioner: User,
    *,
    slug: str | None = None,
    bio: str = "",
    details: ProfileDetails | None = None,
) -> None:
    """Create or change the practitioner's public page. Without a slug one is made from the
    name; a slug someone else ever had is refused (the database refuses it too, under races).
    Without details, those already saved stay."""
    if not practitioner.is_practitioner:
        raise InvalidInput(gettext("Only practitioners have a public page."))
    profile = db.session.get(PractitionerProfile, practitioner.id)
    checked = (
        {
            "title": details.title.strip(),
            "location": details.location.strip(),
            "online": details.online,
            "languages": details.languages.strip(),
            "links": clean_links(details.links),
            "accent_color": clean_accent_color(details.accent_color),
            "embed_origins": clean_embed_origins(details.embed_origins),
        }
        if details is not None
        else {}
    )
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
    for name, value in checked.items():
        setattr(profile, name, value)
    if checked.get("embed_origins"):
        logger.info(
            "practitioner %s lets %s frame their page",
            practitioner.id,
            checked["embed_origins"].replace("\n", " "),
        )
    db.session.flush()


# The pictures a page has: the profile's column for each, and how an upload becomes one.
PICTURES = {"photo": make_photo, "logo": make_logo}


def set_photo(practitioner: User, upload: bytes) -> str:
    """Check, resize and store a new photo for the practitioner's page; its stored name.
    The photo it replaces leaves the disk once the change is committed."""
    return _set_picture(practitioner, "photo", upload)


def set_logo(practitioner: User, upload: bytes) -> str:
    """The same for their logo, shown on their public pages and in their emails."""
    return _set_picture(practitioner, "logo", upload)


def remove_photo(practitioner: User) -> None:
    _forget_picture(_clear_picture(practitioner, "photo"))


def remove_logo(practitioner: User) -> None:
    _forget_picture(_clear_picture(practitioner, "logo"))


def _set_picture(practitioner: User, kind: str, upload: bytes) -> str:
    name, replaced = _store_picture(practitioner, kind, upload)
    _forget_picture(replaced)
    return name


@unit_of_work
def _store_picture(practitioner: User, kind: str, upload: bytes) -> tuple[str, str]:
    profile = db.session.get(PractitionerProfile, practitioner.id)
    if profile is None:
        raise InvalidInput(gettext("Save your page first, then add a picture."), field=kind)
    name, content = PICTURES[kind](upload, current_app.config["PORTAL_PHOTO_MAX_BYTES"])
    save_photo(current_app.config["PORTAL_MEDIA_DIR"], name, content)
    replaced = getattr(profile, kind)
    setattr(profile, kind, name)
    db.session.flush()
    logger.info("practitioner %s set their %s %s", practitioner.id, kind, name)
    return name, replaced if replaced != name else ""


@unit_of_work
def _clear_picture(practitioner: User, kind: str) -> str:
    profile = db.session.get(PractitionerProfile, practitioner.id)
    if profile is None or not getattr(profile, kind):
        return ""
    removed = getattr(profile, kind)
    logger.info("practitioner %s removed their %s %s", practitioner.id, kind, removed)
    setattr(profile, kind, "")
    db.session.flush()
    return removed


def _forget_picture(name: str) -> None:
    """After the commit that let go of it: a stored name is the image's hash, so the same
    file may be another profile's picture too, and stays while any profile shows it. (Two
    practitioners saving the very same image at the same instant as one replaces it could
    lose the file: the price of sharing files by content, for a case that needs identical
    uploads.)"""
    if name and not picture_in_use(name):
        delete_photo(current_app.config["PORTAL_MEDIA_DIR"], name)


def picture_in_use(name: str) -> bool:
    """Only a photo or logo some listed-or-not profile shows is served: a replaced one is
    not."""
    return db.session.scalar(
        select(
            exists().where((PractitionerProfile.photo == name) | (PractitionerProfile.logo == name))
        )
    )


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
