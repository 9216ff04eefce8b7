"""format_moment resolves each named format's patterns once per locale (#19); what it writes
must stay what Babel's own functions write for that format, in every supported locale."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.dates import format_date, format_skeleton, format_time, get_datetime_format

from portal.l10n import FORMATS, SUPPORTED_LOCALES, format_moment

ZONE = ZoneInfo("America/New_York")
MOMENTS = (
    datetime(2026, 3, 8, 6, 30, 15, tzinfo=UTC),  # the night New York moves its clocks
    datetime(2026, 12, 31, 23, 5, tzinfo=UTC),
    date(2026, 2, 1),
)


def babel_writes(moment, name: str, locale: str) -> str:
    """The format as Babel's functions write it on every call, skeleton matching included."""
    loc = Locale.parse(locale)
    if isinstance(moment, datetime):
        moment = moment.astimezone(ZONE)
    date_part, time_part = FORMATS[name]
    day = ""
    if date_part == "full":
        day = format_date(moment, "full", locale=loc)
    elif date_part:
        day = format_skeleton(date_part, moment, locale=loc)
    clock = format_time(moment, time_part, locale=loc) if time_part else ""
    if day and clock:
        return get_datetime_format("medium", locale=loc).replace("{1}", day).replace("{0}", clock)
    return day or clock


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_format_writes_what_babel_writes(locale):
    for name, (_date_part, time_part) in FORMATS.items():
        for moment in MOMENTS:
            if time_part and not isinstance(moment, datetime):
                continue
            assert format_moment(moment, name, ZONE, locale) == babel_writes(moment, name, locale)
