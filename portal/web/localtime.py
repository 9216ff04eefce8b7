"""Instants shown in the viewer's own timezone.

Signed-in users have theirs on their account. A visitor's comes from the select on the public
pages (kept in the session: an explicit choice wins), else from the browser's Intl API, which
static/js/timezone.js writes to the `tz` cookie, else UTC.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from flask import has_request_context, request, session
from flask_login import current_user

ZONE_COOKIE = "tz"
ZONE_SESSION_KEY = "visitor_timezone"


@cache
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def timezone_names() -> list[str]:
    return sorted(known_zones())


def visitor_zone_name() -> str | None:
    """The zone a visitor chose or their browser reported, if it is one we know."""
    if not has_request_context():
        return None
    for name in (session.get(ZONE_SESSION_KEY), request.cookies.get(ZONE_COOKIE)):
        if name and name in known_zones():
            return name
    return None


def viewer_zone() -> ZoneInfo:
    if current_user.is_authenticated:
        return current_user.zone
    return ZoneInfo(visitor_zone_name() or "UTC")


def local_time(moment: datetime | None, fmt: str = "%a %d %b %Y %H:%M", zone: str | None = None):
    if moment is None:
        return "unscheduled"
    target = ZoneInfo(zone) if zone else viewer_zone()
    return moment.astimezone(target).strftime(fmt)
