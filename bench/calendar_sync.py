"""Benchmark: reading practitioners' own calendars (#22), and the slot picker with many
busy times.

For each backend (SQLite; PostgreSQL when --postgres or TEST_DATABASE_URL is given):

- refresh CALENDARS ICS calendars of EVENTS events each (a weekly series every tenth
  event, the rest single events over the 60-day horizon), served by pytest-httpserver on
  127.0.0.1 with an ETag: once cold (every calendar fetched, parsed, its busy times
  stored) and once unchanged (one conditional request answered 304 each);
- the slots of a 1-hour service over a 60-day horizon for a practitioner with 500, 1,000,
  2,500 and 5,000 busy intervals: milliseconds (median of REPEAT) and SQL statements.

    .venv/bin/python bench/calendar_sync.py
    .venv/bin/python bench/calendar_sync.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Run by hand; nothing here is a test. Figures also go to bench/results/ as JSON.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_httpserver import HTTPServer  # noqa: E402

from bench import backends  # noqa: E402
from bench.notifications import migrate  # noqa: E402
from portal import create_app  # noqa: E402
from portal.booking.slots import available_slots  # noqa: E402
from portal.crypto import encrypt  # noqa: E402
from portal.database import utcnow  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.external_calendars.sync import refresh_due  # noqa: E402
from portal.models import (  # noqa: E402
    CalendarKind,
    ExternalBusyTime,
    ExternalCalendar,
    Role,
    User,
    WeeklyHours,
)
from tests.fixtures.practice import count_statements  # noqa: E402

CALENDARS = int(os.environ.get("BENCH_CALENDARS", 50))
EVENTS = int(os.environ.get("BENCH_EVENTS", 2000))
REPEAT = int(os.environ.get("BENCH_REPEAT", 5))
BUSY_COUNTS = (500, 1000, 2500, 5000)
SETTINGS = {
    "PORTAL_ENCRYPTION_KEYS": "fdFk5lVxE2zW4mBqLZ0Qm0K2sYp9zqkD4bVq3a6jN2U=",
    "PORTAL_WEBHOOKS_ALLOW_PRIVATE": True,
    "PORTAL_WEBHOOKS_ALLOW_HTTP": True,
}


def ics(seed: int, now: datetime) -> bytes:
    rng = random.Random(seed)
    fmt = "%Y%m%dT%H%M%SZ"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]
    for n in range(EVENTS):
        start = now + timedelta(minutes=30 * rng.randrange(0, 60 * 48))
        lines += [
            "BEGIN:VEVENT",
            f"UID:{seed}-{n}@bench",
            "DTSTAMP:20270101T000000Z",
            f"DTSTART:{start.strftime(fmt)}",
            f"DTEND:{(start + timedelta(minutes=30 * rng.randrange(1, 5))).strftime(fmt)}",
            f"SUMMARY:Event {n}",
        ]
        if n % 10 == 0:
            lines.append("RRULE:FREQ=WEEKLY;COUNT=8")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def practitioner(email: str) -> User:
    user = User(email=email, name="Bench P", role=Role.PRACTITIONER, timezone="Europe/Berlin")
    user.password_hash = "-"  # never signs in
    db.session.add(user)
    db.session.flush()
    for weekday in range(7):
        db.session.add(
            WeeklyHours(
                practitioner_id=user.id, weekday=weekday, start_time=clock(8), end_time=clock(20)
            )
        )
    db.session.commit()
    return user


def refresh_all() -> tuple[float, int]:
    started = time.perf_counter()
    done = 0
    while batch := refresh_due(limit=CALENDARS):
        done += len(batch)
    return time.perf_counter() - started, done


def bench_refresh(server: HTTPServer, now: datetime) -> dict:
    user = practitioner("bench-refresh@example.com")
    for n in range(CALENDARS):
        body = ics(n, now)
        server.expect_request(f"/{n}.ics", headers={"If-None-Match": f'"{n}"'}).respond_with_data(
            "", status=304
        )
        server.expect_request(f"/{n}.ics").respond_with_data(body, headers={"ETag": f'"{n}"'})
        db.session.add(
            ExternalCalendar(
                practitioner_id=user.id,
                kind=CalendarKind.ICS_URL,
                name=f"Calendar {n}",
                url_secret=encrypt(server.url_for(f"/{n}.ics")),
                next_refresh_at=now - timedelta(minutes=1),
            )
        )
    db.session.commit()
    cold, cold_count = refresh_all()
    stored = db.session.query(ExternalBusyTime).count()
    db.session.query(ExternalCalendar).update({"next_refresh_at": now - timedelta(minutes=1)})
    db.session.commit()
    requests_before = len(server.log)
    unchanged, unchanged_count = refresh_all()
    return {
        "calendars": cold_count,
        "events_per_calendar": EVENTS,
        "busy_rows_stored": stored,
        "cold_seconds": round(cold, 2),
        "cold_ms_per_calendar": round(cold * 1000 / cold_count, 1),
        "unchanged_seconds": round(unchanged, 3),
        "unchanged_ms_per_calendar": round(unchanged * 1000 / unchanged_count, 1),
        "unchanged_requests": len(server.log) - requests_before,
    }


def bench_slots(now: datetime) -> list[dict]:
    figures = []
    for count in BUSY_COUNTS:
        user = practitioner(f"bench-slots-{count}@example.com")
        calendar = ExternalCalendar(
            practitioner_id=user.id,
            kind=CalendarKind.ICS_URL,
            name="Busy",
            url_secret=encrypt("https://calendar.example/busy.ics"),
            blocks_time=False,
        )
        db.session.add(calendar)
        db.session.flush()
        rng = random.Random(count)
        rows = []
        for _ in range(count):
            start = now + timedelta(minutes=15 * rng.randrange(0, 4 * 24 * 60))
            rows.append(
                {
                    "calendar_id": calendar.id,
                    "practitioner_id": user.id,
                    "start_time": start,
                    "end_time": start + timedelta(minutes=15 * rng.randrange(1, 5)),
                }
            )
        db.session.execute(db.insert(ExternalBusyTime), rows)
        db.session.commit()
        timings = []
        for _ in range(REPEAT):
            db.session.expire_all()
            with count_statements() as statements:
                started = time.perf_counter()
                slots = available_slots(
                    user, timedelta(hours=1), now, now + timedelta(days=60), now=now
                )
                timings.append(time.perf_counter() - started)
        figures.append(
            {
                "busy_intervals": count,
                "slots_found": len(slots),
                "median_ms": round(statistics.median(timings) * 1000, 1),
                "statements": len(statements),
            }
        )
    return figures


def run(url: str, backend: str) -> dict:
    migrate(url, SETTINGS)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", **SETTINGS})
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        with app.app_context():
            now = utcnow().replace(second=0, microsecond=0)
            figures = {"backend": backend, "refresh": bench_refresh(server, now)}
            figures["slots_60_days"] = bench_slots(now)
            db.session.remove()
            db.engine.dispose()
    finally:
        server.stop()
    return figures


if __name__ == "__main__":
    backends.main(run, "calendar_sync", __doc__)
