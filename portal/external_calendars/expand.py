"""Busy times from iCalendar data: every shape Google, Outlook, iCloud and CalDAV servers
send, read by `icalendar` and expanded by `recurring-ical-events` (RRULE, RDATE, EXDATE,
RECURRENCE-ID overrides), with `x-wr-timezone` for calendars that name their zone only in
X-WR-TIMEZONE (Google's exports).

Pure: bytes in, UTC intervals out. Fetching and storing live elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import x_wr_timezone


class InvalidCalendarData(ValueError):
    """The bytes are not an iCalendar the portal can read."""


@dataclass(frozen=True, order=True)
class BusyTime:
    start: datetime
    end: datetime
    # Kept so the portal recognises its own sessions written into the calendar.
    uid: str


def _as_utc(value: date | datetime, zone: ZoneInfo) -> datetime:
    """A DATE is the practitioner's local midnight; a floating time is on their clock."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=zone).astimezone(UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=zone).astimezone(UTC)
    return value.astimezone(UTC)


def _blocks_time(event: icalendar.Event) -> bool:
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return False
    return str(event.get("STATUS", "CONFIRMED")).upper() != "CANCELLED"


def parse(data: bytes | str) -> icalendar.Calendar:
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as error:
        raise InvalidCalendarData(str(error)) from error
    if calendar.name != "VCALENDAR":
        raise InvalidCalendarData("not a VCALENDAR")
    return calendar


def busy_times(
    data: bytes | str | icalendar.Calendar,
    window_start: datetime,
    window_end: datetime,
    zone: ZoneInfo,
) -> list[BusyTime]:
    """The opaque, not-cancelled event instances overlapping [window_start, window_end),
    as UTC intervals, sorted. `zone` reads all-day and floating events."""
    calendar = data if isinstance(data, icalendar.Calendar) else parse(data)
    calendar = x_wr_timezone.to_standard(calendar)
    # A margin of a day either side: all-day and floating instances are found by their
    # own wall clock before they are placed on the practitioner's.
    margin = timedelta(days=1)
    try:
        instances = recurring_ical_events.of(calendar, skip_bad_series=True).between(
            window_start - margin, window_end + margin
        )
    except (ValueError, TypeError, KeyError) as error:
        raise InvalidCalendarData(str(error)) from error
    found: set[BusyTime] = set()
    for event in instances:
        if not _blocks_time(event) or "DTSTART" not in event:
            continue
        start_value = event["DTSTART"].dt
        if "DTEND" in event:
            end_value = event["DTEND"].dt
        elif "DURATION" in event:
            end_value = start_value + event["DURATION"].dt
        elif isinstance(start_value, datetime):
            continue  # RFC 5545: no end and a time start is an instant, which blocks nothing
        else:
            end_value = start_value + timedelta(days=1)
        start = _as_utc(start_value, zone)
        end = _as_utc(end_value, zone)
        if end <= start or end <= window_start or start >= window_end:
            continue
        found.add(BusyTime(start, end, str(event.get("UID", ""))))
    return sorted(found)
