"""What every public page of a practitioner shares, whichever blueprint draws it (their page,
their service pages): their colour, the sites allowed to frame it, and its link-preview and
schema.org data."""

from __future__ import annotations

from typing import Any

from flask import url_for

from ..models import PractitionerProfile, Service
from ..money import plain
from .rich_text import plain_text
from .security import allow_framing_by

DESCRIPTION_LENGTH = 200


def present(profile: PractitionerProfile | None) -> None:
    """Call from a view that shows this practitioner's public content to visitors."""
    if profile is not None:
        allow_framing_by(profile.embed_origin_list)


def photo_url(profile: PractitionerProfile) -> str | None:
    if not profile.photo:
        return None
    return url_for("public.photo", name=profile.photo, _external=True)


def short(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= DESCRIPTION_LENGTH:
        return text
    return text[: DESCRIPTION_LENGTH - 1].rsplit(" ", 1)[0] + "…"


def _offer(service: Service) -> dict[str, Any]:
    offer: dict[str, Any] = {
        "@type": "Offer",
        "url": url_for("shop.service", service_id=service.id, _external=True),
        "price": plain(service.price_cents, service.currency),
        "priceCurrency": service.currency,
        "itemOffered": {
            "@type": "Service",
            "name": service.name,
            "description": plain_text(service.description) or None,
        },
    }
    if not service.sells_credits:
        offer["itemOffered"]["duration"] = f"PT{service.duration_minutes}M"
    return offer


def structured_data(profile: PractitionerProfile, services: list[Service]) -> dict[str, Any]:
    """schema.org Person with their services as offers; the template writes it with |tojson,
    which escapes <, > and & so nothing in it can close the <script> block."""
    person: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Person",
        "name": profile.user.name,
        "url": url_for("public.practitioner_page", slug=profile.slug, _external=True),
        "makesOffer": [_offer(s) for s in services],
    }
    if profile.title:
        person["jobTitle"] = profile.title
    if bio := plain_text(profile.bio):
        person["description"] = short(bio)
    if image := photo_url(profile):
        person["image"] = image
    if profile.link_list:
        person["sameAs"] = profile.link_list
    if profile.location:
        person["workLocation"] = {"@type": "Place", "name": profile.location}
    if profile.languages:
        person["knowsLanguage"] = [x.strip() for x in profile.languages.split(",") if x.strip()]
    for offer in person["makesOffer"]:
        offer["itemOffered"] = {k: v for k, v in offer["itemOffered"].items() if v is not None}
    return person
