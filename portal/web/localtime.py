"""Instants shown in the viewer's own timezone and locale.

Signed-in users have their zone on their account. A visitor's comes from the page's own
address (`?tz=`, which an embedded page carries because a frame on another site may keep
no cookie), else from the select on the public pages (kept in the session: an explicit
choice wins), else from the browser's Intl API, which static/js/timezone.js writes to the
`tz` cookie, else UTC.

The locale (how a date, a time or a price is written) is the signed-in user's choice on
their profile, else the supported locale closest to the browser's Accept-Language (CLDR's chain),
else l10n.DEFAULT_LOCALE.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from flask import has_request_context, request, session
from flask_babel import get_locale, gettext
from flask_login import current_user

from ..l10n import DEFAULT_LOCALE, canonical_zone, format_moment, negotiate_locale, zone_groups

ZONE_COOKIE = "tz"
ZONE_SESSION_KEY = "visitor_timezone"


def visitor_zone_name() -> str | None:
    """The zone a visitor chose or their browser reported, if it is one we know."""
    if not has_request_context():
        return None
    for name in (
        request.args.get(ZONE_COOKIE),
        session.get(ZONE_SESSION_KEY),
        request.cookies.get(ZONE_COOKIE),
    ):
        if canonical := canonical_zone(name):
            return canonical
    return None


def zone_in_address() -> dict[str, str]:
    """`{"tz": zone}` when this page's address names the zone (an embedded page), for the
    links it makes to itself to keep it; else nothing."""
    if has_request_context() and (zone := canonical_zone(request.args.get(ZONE_COOKIE))):
        return {ZONE_COOKIE: zone}
    return {}


def visitor_zone_chosen() -> bool:
    """Whether the zone was picked (the select) or given by the address (an embed): either
    wins over what the browser reports, so static/js/timezone.js leaves it alone."""
    return bool(session.get(ZONE_SESSION_KEY) or zone_in_address())


def readdressed(url: str, zone: str) -> str:
    """A page address whose `?tz=` (an embedded page's) now names the zone just chosen, so
    the choice is not overruled by the address it returns to."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if not any(key == ZONE_COOKIE for key, _ in query):
        return url
    kept = [(key, zone if key == ZONE_COOKIE else value) for key, value in query]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def timezone_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The zones a picker offers, grouped by region, the viewer's own (or guessed) first."""
    return zone_groups(viewer_zone().key)


def viewer_zone() -> ZoneInfo:
    if current_user.is_authenticated:
        return current_user.zone
    return ZoneInfo(visitor_zone_name() or "UTC")


def viewer_locale() -> str:
    """Flask-Babel's locale selector (outside a request, e.g. in the worker, the default:
    emails choose their recipient's locale themselves)."""
    if not has_request_context():
        return DEFAULT_LOCALE
    if current_user.is_authenticated and current_user.locale:
        return current_user.locale
    return browser_locale() or DEFAULT_LOCALE


def browser_locale() -> str | None:
    """The supported locale closest to what the browser asks for, if any."""
    return negotiate_locale(list(request.accept_languages))


def local_time(
    moment: datetime | date | None, fmt: str = "datetime", zone: str | None = None
) -> str:
    """The `localtime` filter: an instant in the viewer's zone (or `zone`, a zone name), or
    a calendar day, in one of l10n.FORMATS, written the viewer's locale's way."""
    if moment is None:
        return gettext("unscheduled")
    target = ZoneInfo(zone) if zone else viewer_zone()
    return format_moment(moment, fmt, target)


def page_clock(zone: str | None = None) -> Callable[..., str]:
    """The `localtime` filter for one page that shows the same instants many times (the
    calendar writes each session's start in its grid cell, its agenda line and its edit
    link): the zone and the locale are read once, and each (instant, format) is written once."""
    target = ZoneInfo(zone) if zone else viewer_zone()
    locale = get_locale() or DEFAULT_LOCALE

    @cache
    def shown(moment: datetime | date | None, fmt: str = "datetime") -> str:
        if moment is None:
            return gettext("unscheduled")
        return format_moment(moment, fmt, target, locale)

    return shown
