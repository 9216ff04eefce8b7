"""Instants shown in the viewer's own timezone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_login import current_user


def viewer_zone() -> ZoneInfo:
    if current_user.is_authenticated:
        return current_user.zone
    return ZoneInfo("UTC")


def local_time(moment: datetime | None, fmt: str = "%a %d %b %Y %H:%M", zone: str | None = None):
    if moment is None:
        return "unscheduled"
    target = ZoneInfo(zone) if zone else viewer_zone()
    return moment.astimezone(target).strftime(fmt)
