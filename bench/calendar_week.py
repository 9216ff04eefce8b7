"""Benchmark: one practitioner's calendar week page (GET /calendar/?date=...), rendered in-process.

Builds a throwaway SQLite database holding one practitioner with a realistic week
(SESSIONS workshops over seven days, a few clients booked on each), signs the
practitioner in with the Flask test client, then renders the week page RUNS times and
prints the median milliseconds per render and the number of SQL statements of one render.

    .venv/bin/python bench/calendar_week.py
    .venv/bin/python bench/calendar_week.py --sessions 40 --runs 200 --locale de_DE
    .venv/bin/python bench/calendar_week.py --profile     # cProfile: top 30 by own time

The rendering is mostly Python (Jinja and Babel), so the figure moves with the load of
the machine: compare two trees by running their benchmarks in turn, several rounds, and
comparing the medians. Run by hand; nothing here is a test.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import calendar_client, counted, is_sql  # noqa: E402
from portal import booking, create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Role, Service, ServiceType, User  # noqa: E402

CLIENTS = 6
BOOKED_EACH = 3


def seed(sessions: int, locale: str) -> datetime:
    """The practitioner (user 1, Europe/Berlin) and `sessions` workshops spread over next week;
    returns the week's Monday (UTC noon, to stay inside the local day)."""
    practitioner = User(
        email="bench-practitioner@example.com",
        name="Bench Practitioner",
        role=Role.PRACTITIONER,
        timezone="Europe/Berlin",
        locale=locale,
        email_verified_at=datetime.now(UTC),
    )
    practitioner.password_hash = "bench-unused"
    db.session.add(practitioner)
    db.session.commit()
    clients = []
    for n in range(CLIENTS):
        client = User(
            email=f"bench-client{n}@example.com",
            name=f"Client {n}",
            role=Role.CLIENT,
            timezone="UTC",
            email_verified_at=datetime.now(UTC),
        )
        client.password_hash = "bench-unused"
        clients.append(client)
    db.session.add_all(clients)
    service = Service(
        name="Workshop",
        service_type=ServiceType.WORKSHOP,
        price_cents=2500,
        duration_minutes=60,
        max_participants=12,
        primary_practitioner_id=practitioner.id,
    )
    db.session.add(service)
    db.session.commit()
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=7 - today.weekday())
    per_day = -(-sessions // 7)
    for n in range(sessions):
        day, slot = divmod(n, per_day)
        start = datetime(monday.year, monday.month, monday.day, 7 + 2 * slot, tzinfo=UTC)
        session = booking.create_session(service, start_time=start + timedelta(days=day))
        for k in range(BOOKED_EACH):
            booking.book_workshop_seat(clients[(n + k) % CLIENTS], session)
    return datetime(monday.year, monday.month, monday.day, 12, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--locale", default="en_US")
    parser.add_argument("--save-html", help="write the rendered page here (to diff two trees)")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top 30")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/calendar.db"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            db.create_all()
            monday = seed(args.sessions, args.locale)
            client, page = calendar_client(app, monday.date())
            db.session.remove()
            with counted() as statements:
                response = client.get(page)
            assert response.status_code == 200, response.status_code
            html = response.get_data(as_text=True)
            if args.save_html:
                Path(args.save_html).write_text(html, encoding="utf-8")
            shown = html.count('class="slot ')
            assert shown == args.sessions, f"{shown} of {args.sessions} sessions on the page"
            profiler = cProfile.Profile() if args.profile else None
            times = []
            for _ in range(args.runs):
                db.session.remove()
                started = time.perf_counter()
                if profiler:
                    profiler.enable()
                assert client.get(page).status_code == 200
                if profiler:
                    profiler.disable()
                times.append(time.perf_counter() - started)
            db.session.remove()
            db.engine.dispose()
    print(
        f"calendar week, {args.sessions} sessions, locale {args.locale}: "
        f"median {statistics.median(times) * 1000:.2f} ms over {args.runs} renders, "
        f"{sum(map(is_sql, statements))} statements"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
