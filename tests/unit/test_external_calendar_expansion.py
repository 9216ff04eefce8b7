"""Busy times read from the shapes real calendar providers publish (tests/fixtures/calendars)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from portal.external_calendars.expand import InvalidCalendarData, busy_times

CORPUS = Path(__file__).parent.parent / "fixtures" / "calendars"
LISBON = ZoneInfo("Europe/Lisbon")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def spans(name: str, start: datetime, end: datetime, zone: ZoneInfo = LISBON):
    found = busy_times((CORPUS / name).read_bytes(), start, end, zone)
    return [(b.start, b.end) for b in found]


def test_a_google_series_with_a_date_exdate_a_moved_and_a_cancelled_instance():
    assert spans("google_weekly.ics", utc(2027, 1, 1), utc(2027, 3, 1)) == [
        (utc(2027, 1, 4, 10), utc(2027, 1, 4, 11)),
        # the all-day conference, on the practitioner's own days
        (utc(2027, 1, 6), utc(2027, 1, 8)),
        # moved from 10:00 to 14:00 by its RECURRENCE-ID override
        (utc(2027, 1, 11, 14), utc(2027, 1, 11, 15)),
        # 18 January: EXDATE as a DATE on a timed series; 25 January: STATUS:CANCELLED
        (utc(2027, 2, 1, 10), utc(2027, 2, 1, 11)),
        (utc(2027, 2, 8, 10), utc(2027, 2, 8, 11)),
    ]


def test_an_all_day_event_covers_the_practitioners_own_day():
    tokyo = ZoneInfo("Asia/Tokyo")
    found = spans("google_weekly.ics", utc(2027, 1, 5), utc(2027, 1, 8), tokyo)
    assert (utc(2027, 1, 5, 15), utc(2027, 1, 7, 15)) in found


def test_an_outlook_series_in_a_windows_zone_keeps_its_wall_clock_across_dst():
    # Europe moves its clocks on 28 March 2027: 09:00 local is 08:00Z before, 07:00Z after.
    assert spans("outlook_windows_zone.ics", utc(2027, 3, 20), utc(2027, 4, 5)) == [
        (utc(2027, 3, 25, 8), utc(2027, 3, 25, 9)),
        (utc(2027, 3, 26, 8), utc(2027, 3, 26, 9)),
        (utc(2027, 3, 27, 8), utc(2027, 3, 27, 9)),
        (utc(2027, 3, 28, 7), utc(2027, 3, 28, 8)),
        (utc(2027, 3, 29, 7), utc(2027, 3, 29, 8)),
    ]


def test_icloud_shapes_without_vtimezone_floating_duration_and_no_end():
    found = busy_times(
        (CORPUS / "icloud_no_vtimezone.ics").read_bytes(), utc(2027, 3, 1), utc(2027, 4, 1), LISBON
    )
    assert [(b.start, b.end) for b in found] == [
        # TZID without a VTIMEZONE, read as the IANA zone it names; DURATION instead of DTEND
        (utc(2027, 3, 10, 14), utc(2027, 3, 10, 15, 30)),
        # floating: on the practitioner's clock (Lisbon is UTC+0 until 28 March)
        (utc(2027, 3, 12, 8, 30), utc(2027, 3, 12, 9, 30)),
        # a DATE with no end lasts that day; a time with no end is an instant and blocks nothing
        (utc(2027, 3, 15), utc(2027, 3, 16)),
        (utc(2027, 3, 17, 15), utc(2027, 3, 17, 16)),
    ]
    assert found[-1].uid == "service-session-7@estuary-portal"


def test_only_instances_overlapping_the_window_are_returned():
    assert spans("google_weekly.ics", utc(2027, 1, 11, 14, 30), utc(2027, 1, 11, 16)) == [
        (utc(2027, 1, 11, 14), utc(2027, 1, 11, 15)),
    ]


@pytest.mark.parametrize(
    "data", [b"", b"not a calendar", b"BEGIN:VEVENT\r\nEND:VEVENT\r\n", b"BEGIN:VCALENDAR\r\n"]
)
def test_malformed_data_is_refused_with_a_typed_error(data):
    with pytest.raises(InvalidCalendarData):
        busy_times(data, utc(2027, 1, 1), utc(2027, 2, 1), LISBON)
