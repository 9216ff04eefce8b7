"""Benchmark: the no-show report over a year of data (~100,000 bookings).

Seeds a throwaway database with bulk inserts (a year of completed workshop
sessions, their bookings, rooms, participant sids and recorded outcomes, plus
late cancels), then times portal.booking.reports against the same aggregates
written as one raw SQL query each, checks they agree, and prints the figures.

    .venv/bin/python bench/noshow_report.py                      # SQLite only
    .venv/bin/python bench/noshow_report.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

The PostgreSQL URL (or TEST_DATABASE_URL) names a server and a database to
connect to; the benchmark creates its own database next to it and drops it.
Run by hand; nothing here is a test.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import bindparam, create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from portal import create_app  # noqa: E402
from portal.booking import reports  # noqa: E402
from portal.booking.attendance import min_seconds  # noqa: E402
from portal.database import UTCDateTime  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import (  # noqa: E402
    AttendanceOutcome,
    Booking,
    Order,
    Room,
    RoomParticipant,
    Service,
    ServiceSession,
    User,
)

PRACTITIONERS = 20
CLIENTS = 2000
SERVICES_EACH = 3
SESSIONS_PER_DAY = 2  # per practitioner, at 09:00 and 14:00 UTC
SEATS = 12
RUNS = 5

# One precomputed hash: hashing 2,000 passwords would dominate the seeding time.
PASSWORD_HASH = "scrypt:32768:8:1$bench$" + "0" * 128


def user_rows(practitioners: int, clients: int, timezone: str, created_at: datetime) -> list:
    """Ids 1..practitioners are practitioners, the next `clients` ids clients."""
    return [
        {
            "id": i,
            "email": f"bench{i}@example.com",
            "name": f"{'Practitioner' if i <= practitioners else 'Client'} {i:05d}",
            "password_hash": PASSWORD_HASH,
            "role": "practitioner" if i <= practitioners else "client",
            "timezone": timezone,
            "livekit_identity": f"u_bench{i:07d}",
            "is_active_account": True,
            "created_at": created_at,
            # Made by the operator, who vouches for the address: they may hold API tokens.
            "email_verified_at": created_at,
        }
        for i in range(1, practitioners + clients + 1)
    ]


def seed(bookings_wanted: int, rng: random.Random) -> dict:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    first_day = (now - timedelta(days=365)).replace(hour=0)
    session_count = PRACTITIONERS * 365 * SESSIONS_PER_DAY
    per_session = max(1, round(bookings_wanted / session_count))
    conn = db.session.connection()

    conn.execute(insert(User), user_rows(PRACTITIONERS, CLIENTS, "UTC", first_day))
    client_ids = list(range(PRACTITIONERS + 1, PRACTITIONERS + CLIENTS + 1))

    services = []
    for p in range(1, PRACTITIONERS + 1):
        for k in range(SERVICES_EACH):
            services.append(
                {
                    "id": len(services) + 1,
                    "name": f"Workshop {p:02d}-{k}",
                    "description": "",
                    "service_type": "workshop",
                    "price_cents": 0,
                    "currency": "USD",
                    "duration_minutes": 60,
                    "max_participants": SEATS,
                    "primary_practitioner_id": p,
                    "is_active": True,
                    "cancellation_cutoff_hours": 24,
                    "created_at": first_day,
                }
            )
    conn.execute(insert(Service), services)

    orders = [
        {
            "id": i + 1,
            "user_id": client,
            "service_id": 1,
            "total_cents": 0,
            "currency": "USD",
            "status": "paid",
            "payment_provider": "manual",
            "payment_reference": "bench",
            "created_at": first_day,
            "paid_at": first_day,
            "cancel_reason": "",
        }
        for i, client in enumerate(client_ids)
    ]
    conn.execute(insert(Order), orders)
    order_of = {client: i + 1 for i, client in enumerate(client_ids)}

    sessions, rooms, bookings, participants, outcomes = [], [], [], [], []
    for day in range(365):
        for p in range(1, PRACTITIONERS + 1):
            for slot in range(SESSIONS_PER_DAY):
                start = first_day + timedelta(days=day, hours=9 + 5 * slot)
                end = start + timedelta(hours=1)
                sid = len(sessions) + 1
                service_id = (p - 1) * SERVICES_EACH + rng.randrange(SERVICES_EACH) + 1
                sessions.append(
                    {
                        "id": sid,
                        "service_id": service_id,
                        "practitioner_id": p,
                        "session_type": "workshop",
                        "visibility": "public",
                        "title": "",
                        "start_time": start,
                        "end_time": end,
                        "actual_start_time": start,
                        "actual_end_time": end,
                        "timezone": "UTC",
                        "max_participants": SEATS,
                        "current_participants": 0,
                        "status": "completed",
                        "livekit_room_name": f"ses_bench{sid:08d}",
                        "revision": 2,
                        "created_at": first_day,
                        "updated_at": end,
                    }
                )
                rooms.append(
                    {
                        "id": sid,
                        "name": f"ses_bench{sid:08d}",
                        "service_session_id": sid,
                        "livekit_sid": "",
                        "started_at": start,
                        "finished_at": end,
                        "created_at": start,
                    }
                )
                seats = min(SEATS, max(1, per_session + rng.randint(-3, 3)))
                for client in rng.sample(client_ids, seats):
                    bid = len(bookings) + 1
                    late = rng.random() < 0.04
                    bookings.append(
                        {
                            "id": bid,
                            "user_id": client,
                            "service_id": service_id,
                            "service_session_id": sid,
                            "order_id": order_of[client],
                            "status": "canceled" if late else "confirmed",
                            "price_charged_cents": 0,
                            "created_at": start - timedelta(days=7),
                            "confirmed_at": start - timedelta(days=7),
                            "canceled_at": start - timedelta(hours=3) if late else None,
                            "cancel_reason": "late" if late else "",
                            "late_cancel": late,
                        }
                    )
                    if late:
                        continue
                    # Frequent offenders make the repeat-no-show flag meaningful.
                    attend_odds = 0.6 if client % 10 == 0 else 0.9
                    total, first_join = 0, None
                    if rng.random() < attend_odds:
                        visits = 1 if rng.random() < 0.8 else 2
                        offset = rng.randint(0, 10)
                        for _ in range(visits):
                            stay = rng.randint(5, 50)
                            joined = start + timedelta(minutes=offset)
                            participants.append(
                                {
                                    "room_id": sid,
                                    "user_id": client,
                                    "identity": f"u_bench{client:07d}",
                                    "participant_sid": f"PA_{len(participants) + 1}",
                                    "display_name": "",
                                    "participant_kind": "booked",
                                    "joined_at": joined,
                                    "left_at": joined + timedelta(minutes=stay),
                                    "duration_seconds": stay * 60,
                                }
                            )
                            first_join = first_join or joined
                            total += stay * 60
                            offset += stay + 1
                    outcome = "attended" if total >= 1 else "no_show"
                    outcomes.append(
                        {
                            "booking_id": bid,
                            "outcome": outcome,
                            "computed_outcome": outcome,
                            "total_seconds": total,
                            "first_joined_at": first_join,
                            "computed_at": end,
                            "override_reason": "",
                        }
                    )
    for table, rows in (
        (ServiceSession, sessions),
        (Room, rooms),
        (Booking, bookings),
        (RoomParticipant, participants),
        (AttendanceOutcome, outcomes),
    ):
        for i in range(0, len(rows), 10_000):
            conn.execute(insert(table), rows[i : i + 10_000])
    db.session.commit()
    with db.engine.connect() as analyze:
        analyze.execute(text("ANALYZE"))
        analyze.commit()
    return {
        "sessions": len(sessions),
        "bookings": len(bookings),
        "participants": len(participants),
        "outcomes": len(outcomes),
        "start": first_day,
        "end": now + timedelta(days=1),
    }


def _seconds_sql(dialect: str, end: str, start: str) -> str:
    if dialect == "sqlite":
        return f"MAX(0, CAST(ROUND((julianday({end}) - julianday({start})) * 86400) AS INTEGER))"
    return f"GREATEST(0, CAST(ROUND(EXTRACT(EPOCH FROM ({end}) - ({start}))) AS INTEGER))"


def _week_sql(dialect: str, moment: str) -> str:
    if dialect == "sqlite":
        return f"date({moment}, 'weekday 0', '-6 days')"
    return f"CAST(date_trunc('week', {moment} AT TIME ZONE 'UTC') AS DATE)"


def raw_sql(dialect: str, group: str, practitioner: bool) -> str:
    """The report's aggregate, by hand: same rules, one statement."""
    only = "AND s.practitioner_id = :practitioner_id" if practitioner else ""
    seconds = _seconds_sql(
        dialect, "COALESCE(rp.left_at, r.finished_at, s.actual_end_time, :now)", "rp.joined_at"
    )
    rows = f"""
      WITH rt AS (
        SELECT r.service_session_id AS session_id, rp.user_id AS user_id,
               SUM(CASE WHEN rp.duration_seconds IS NOT NULL THEN rp.duration_seconds
                        WHEN rp.joined_at IS NULL THEN 0 ELSE {seconds} END) AS total
        FROM room_participants rp
        JOIN rooms r ON rp.room_id = r.id
        JOIN service_sessions s ON r.service_session_id = s.id
        WHERE rp.user_id IS NOT NULL AND s.start_time >= :start AND s.start_time < :end {only}
        GROUP BY r.service_session_id, rp.user_id
      ), rows AS (
        SELECT b.user_id, b.service_id, s.start_time,
               CASE WHEN b.status = 'canceled' THEN 'late_cancel'
                    WHEN ao.id IS NOT NULL THEN ao.outcome
                    WHEN COALESCE(rt.total, 0) >= :min_seconds THEN 'attended'
                    ELSE 'no_show' END AS kind
        FROM bookings b
        JOIN service_sessions s ON b.service_session_id = s.id
        LEFT JOIN attendance_outcomes ao ON ao.booking_id = b.id
        LEFT JOIN rt ON rt.session_id = b.service_session_id AND rt.user_id = b.user_id
        WHERE s.start_time >= :start AND s.start_time < :end {only}
          AND ((b.status = 'confirmed' AND s.status = 'completed')
               OR (b.status = 'canceled' AND b.late_cancel))
      )"""
    counts = """
        SUM(CASE WHEN kind = 'attended' THEN 1 ELSE 0 END)
          + SUM(CASE WHEN kind = 'no_show' THEN 1 ELSE 0 END) AS booked,
        SUM(CASE WHEN kind = 'attended' THEN 1 ELSE 0 END) AS attended,
        SUM(CASE WHEN kind = 'no_show' THEN 1 ELSE 0 END) AS no_shows,
        SUM(CASE WHEN kind = 'late_cancel' THEN 1 ELSE 0 END) AS late_cancels"""
    if group == "client":
        return f"""{rows}
      SELECT u.id, u.name, {counts} FROM rows JOIN users u ON u.id = rows.user_id
      GROUP BY u.id, u.name ORDER BY no_shows DESC, u.name"""
    if group == "service":
        return f"""{rows}
      SELECT sv.id, sv.name, {counts} FROM rows JOIN services sv ON sv.id = rows.service_id
      JOIN users p ON p.id = sv.primary_practitioner_id
      GROUP BY sv.id, sv.name, p.name ORDER BY no_shows DESC, sv.name"""
    week = _week_sql(dialect, "rows.start_time")
    return f"""{rows}
      SELECT {week} AS week, {counts} FROM rows GROUP BY {week}"""


def timed(fn) -> tuple[float, object]:
    fn()  # warm the caches (statement compilation, pages)
    times, result = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def run(url: str, label: str, bookings_wanted: int) -> list[tuple]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    figures = []
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        started = time.perf_counter()
        seeded = seed(bookings_wanted, random.Random(6))
        print(
            f"\n[{label}] seeded {seeded['bookings']:,} bookings, {seeded['sessions']:,} sessions, "
            f"{seeded['participants']:,} participant sids, {seeded['outcomes']:,} outcomes "
            f"in {time.perf_counter() - started:.1f}s"
        )
        dialect = db.engine.dialect.name
        now = datetime.now(UTC)
        cases = [
            ("whole year", None),
            ("one practitioner", 7),
        ]
        for case_label, practitioner_id in cases:
            filters = reports.ReportFilters(
                start=seeded["start"], end=seeded["end"], practitioner_id=practitioner_id
            )
            params = {
                "start": filters.start,
                "end": filters.end,
                "now": now,
                "min_seconds": min_seconds(),
            }
            if practitioner_id:
                params["practitioner_id"] = practitioner_id
            for group, orm_fn in (
                ("client", reports.rows_by_client),
                ("service", reports.rows_by_service),
                ("week", reports.weekly_rows),
            ):
                statement = text(raw_sql(dialect, group, bool(practitioner_id))).bindparams(
                    bindparam("start", type_=UTCDateTime()),
                    bindparam("end", type_=UTCDateTime()),
                    bindparam("now", type_=UTCDateTime()),
                )
                orm_time, orm_rows = timed(lambda fn=orm_fn, f=filters: fn(f, now=now))
                raw_time, raw_rows = timed(
                    lambda s=statement, p=params: db.session.execute(s, p).all()
                )
                _check(group, orm_rows, raw_rows)
                figures.append((label, case_label, group, len(raw_rows), orm_time, raw_time))
            report_time, report = timed(lambda f=filters: reports.noshow_report(f, now=now))
            total = report.total
            print(
                f"[{label}] {case_label}: {total.booked:,} seats, {total.no_shows:,} no-shows, "
                f"{total.late_cancels:,} late cancels; full report (3 queries) "
                f"median {report_time * 1000:.0f} ms"
            )
        db.session.remove()
        db.engine.dispose()
    return figures


def _check(group: str, orm_rows, raw_rows) -> None:
    def key(counts):
        return tuple(int(c or 0) for c in counts)

    if group == "week":
        orm = {(r.booked, r.no_shows) for r in orm_rows if r.booked}
        raw = {(int(r.booked), int(r.no_shows)) for r in raw_rows if int(r.booked or 0)}
    else:
        orm = {(r.key, r.booked, r.attended, r.no_shows, r.late_cancels) for r in orm_rows}
        raw = {(r[0], *key(r[2:])) for r in raw_rows}
    if orm != raw:
        raise SystemExit(f"the ORM and raw SQL {group} aggregates disagree")


def postgres_database(base_url: str):
    admin_url = make_url(base_url).set(drivername="postgresql+psycopg")
    name = f"portal_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    figures = []
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            figures += run(f"sqlite:///{tmp}/bench.db", "sqlite", args.bookings)
    if args.postgres:
        url, drop = postgres_database(args.postgres)
        try:
            figures += run(url, "postgresql", args.bookings)
        finally:
            drop()
    print(f"\nmedian of {RUNS} runs after one warm-up; ratio = report function / raw SQL")
    print(
        f"{'backend':<11} {'filter':<17} {'by':<8} {'rows':>5} "
        f"{'function':>10} {'raw SQL':>9} ratio"
    )
    for backend, case_label, group, rows, orm_time, raw_time in figures:
        print(
            f"{backend:<11} {case_label:<17} {group:<8} {rows:>5} {orm_time * 1000:>8.1f}ms "
            f"{raw_time * 1000:>7.1f}ms {orm_time / raw_time:5.2f}"
        )


if __name__ == "__main__":
    main()
