"""The no-show report and course completion against hand-counted fixtures
(tests/fixtures/report_data.py explains the counts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal import booking
from portal.booking.reports import ReportFilters, course_completion, noshow_report
from portal.models import AttendanceStatus


def last_30_days(**extra) -> ReportFilters:
    now = datetime.now(UTC)
    return ReportFilters(start=now - timedelta(days=30), end=now, **extra)


def table(rows) -> dict[str, tuple]:
    return {r.name: (r.booked, r.attended, r.no_shows, r.late_cancels) for r in rows}


def test_counts_per_service_and_per_client(report_world):
    report = noshow_report(last_30_days())

    assert table(report.by_service) == {"Workshop A": (6, 3, 3, 1), "Workshop B": (2, 1, 1, 0)}
    assert table(report.by_client) == {
        "Ana": (3, 2, 1, 0),
        "Ben": (2, 0, 2, 0),
        "Cleo": (2, 1, 1, 0),
        "Dan": (1, 1, 0, 1),
    }
    rates = {r.name: r.rate for r in report.by_service}
    assert rates == {"Workshop A": 0.5, "Workshop B": 0.5}
    assert [r.name for r in report.by_client if r.repeat_no_show] == ["Ben"]
    total = report.total
    assert (total.booked, total.no_shows, total.late_cancels) == (8, 4, 1)


def test_filters_by_practitioner_and_service(report_world):
    w = report_world
    by_quinn = noshow_report(last_30_days(practitioner_id=w.quinn.id))
    assert table(by_quinn.by_service) == {"Workshop B": (2, 1, 1, 0)}
    assert table(by_quinn.by_client) == {"Ana": (1, 0, 1, 0), "Dan": (1, 1, 0, 0)}

    by_service = noshow_report(last_30_days(service_id=w.workshop_a.id))
    assert set(table(by_service.by_client)) == {"Ana", "Ben", "Cleo", "Dan"}
    assert table(by_service.by_service) == {"Workshop A": (6, 3, 3, 1)}


def test_a_wider_range_takes_in_older_sessions(report_world):
    now = datetime.now(UTC)
    report = noshow_report(ReportFilters(start=now - timedelta(days=60), end=now))
    assert table(report.by_client)["Ben"] == (3, 0, 3, 0)


def test_sorting_by_a_column(report_world):
    by_rate = noshow_report(last_30_days(sort="rate", descending=True)).by_client
    assert [r.name for r in by_rate] == ["Ben", "Cleo", "Ana", "Dan"]  # 100, 50, 33, 0 %
    by_name = noshow_report(last_30_days(sort="name", descending=False)).by_client
    assert [r.name for r in by_name] == ["Ana", "Ben", "Cleo", "Dan"]


def test_weekly_series_buckets_each_session_in_its_monday_week(report_world):
    filters = last_30_days()
    report = noshow_report(filters)
    expected: dict = {}
    for name, booked, no_shows in (("A1", 3, 2), ("A2", 3, 1), ("B1", 2, 1)):
        start = report_world.sessions[name].start_time
        monday = start.date() - timedelta(days=start.weekday())
        got = expected.setdefault(monday, [0, 0])
        got[0] += booked
        got[1] += no_shows
    weeks = {r.key: [r.booked, r.no_shows] for r in report.weekly if r.booked}
    assert weeks == expected
    assert all(r.key.weekday() == 0 for r in report.weekly)
    assert len(report.weekly) in (5, 6)  # every week of the 30 days, empty ones too


def test_an_override_changes_the_report(report_world):
    w = report_world
    seat = next(b for b in w.sessions["A1"].bookings if b.user_id == w.ben.id)
    booking.override_outcome(seat, AttendanceStatus.ATTENDED, w.pia, reason="Dial-in")
    assert table(noshow_report(last_30_days()).by_client)["Ben"] == (2, 1, 1, 0)


def test_course_completion_is_attended_over_completed_sessions(course_world):
    rows = {r.name: r for r in course_completion(course_world.course)}
    assert {n: (r.attended, r.completed) for n, r in rows.items()} == {
        "Ana Course": (3, 3),
        "Ben Course": (1, 3),
        "Cleo Course": (0, 3),
    }
    assert rows["Ana Course"].rate == 100
    assert rows["Ben Course"].rate == pytest.approx(33.333, abs=0.01)
    assert rows["Cleo Course"].rate == 0


def test_course_completion_counts_an_override(course_world, practitioner):
    seat = next(b for b in course_world.sessions[1].bookings if b.user_id == course_world.cleo.id)
    booking.override_outcome(seat, AttendanceStatus.ATTENDED, practitioner, reason="In person")
    rows = {r.name: r.attended for r in course_completion(course_world.course)}
    assert rows["Cleo Course"] == 1
