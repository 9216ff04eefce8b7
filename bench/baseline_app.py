"""The baseline for the booking benchmark: a bare Flask app that runs the same
locked seat-purchase transaction as the portal, in raw SQL, with no ORM, no
sign-in, no forms and no domain layer. The portal's throughput is reported as a
ratio of this one's on the same database.

The transaction is the portal's workshop purchase, check for check: lock the
session row (SELECT ... FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite),
refuse a session that is not scheduled, has started or is full, then insert a
pending order held for 15 minutes and its pending-payment booking (the triggers
count the seat; the unique index uq_bookings_active_seat refuses a second seat
for the same person, and the whole transaction is rolled back).

Served by gunicorn: `gunicorn 'bench.baseline_app:create_app()'` with DATABASE_URL set.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta

from flask import Flask, jsonify, request

BUSY = 30_000


def _connect_sqlite(path: str):
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def create_app() -> Flask:
    url = os.environ["DATABASE_URL"]
    app = Flask(__name__)
    sqlite_path = url.removeprefix("sqlite:///") if url.startswith("sqlite") else None
    # gunicorn's sync workers serve one request at a time: one connection per process,
    # like the portal's pooled connection.
    connection = {}

    def conn():
        if "c" not in connection:
            if sqlite_path:
                connection["c"] = _connect_sqlite(sqlite_path)
            else:
                import psycopg

                connection["c"] = psycopg.connect(
                    url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
                )
        return connection["c"]

    def stored(moment: datetime) -> object:
        # The portal keeps naive UTC text on SQLite (see portal.database.UTCDateTime).
        return moment.replace(tzinfo=None).isoformat(" ") if sqlite_path else moment

    @app.post("/seat")
    def seat():
        body = request.get_json()
        user_id, session_id = int(body["user_id"]), int(body["service_session_id"])
        now = datetime.now(UTC)
        times = stored(now), stored(now + timedelta(minutes=15))
        try:
            if sqlite_path:
                db = conn()
                db.execute("BEGIN IMMEDIATE")
                try:
                    payload = _purchase(db, "?", user_id, session_id, *times)
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            else:
                with conn().transaction():
                    payload = _purchase(conn(), "%s", user_id, session_id, *times)
        except Refused as refusal:
            return jsonify({"error": refusal.message}), refusal.status
        return jsonify(payload), 201

    return app


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _purchase(conn, mark, user_id, session_id, now, hold):
    lock = " FOR UPDATE" if mark == "%s" else ""
    row = conn.execute(
        "SELECT s.service_id, s.status, s.start_time, s.current_participants, "
        "s.max_participants, v.price_cents, v.currency FROM service_sessions s "
        f"JOIN services v ON v.id = s.service_id WHERE s.id = {mark}{lock}",
        (session_id,),
    ).fetchone()
    if row is None:
        raise Refused(404, "no such session")
    service_id, status, start, taken, capacity, price, currency = row
    if status != "scheduled" or start <= now:
        raise Refused(409, "not bookable")
    if taken >= capacity:
        raise Refused(409, "full")
    order_id = conn.execute(
        "INSERT INTO orders (user_id, service_id, total_cents, currency, status, "
        "payment_provider, payment_reference, hold_expires_at, created_at) "
        f"VALUES ({mark}, {mark}, {mark}, {mark}, 'pending', 'manual', '', {mark}, {mark}) "
        "RETURNING id",
        (user_id, service_id, price, currency, hold, now),
    ).fetchone()[0]
    try:
        booking_id = conn.execute(
            "INSERT INTO bookings (user_id, service_id, service_session_id, order_id, status, "
            "price_charged_cents, created_at, pending_payment_at, late_cancel) "
            f"VALUES ({mark}, {mark}, {mark}, {mark}, 'pending_payment', {mark}, {mark}, "
            f"{mark}, FALSE) RETURNING id",
            (user_id, service_id, session_id, order_id, price, now, now),
        ).fetchone()[0]
    except Exception as exc:
        # sqlite3.IntegrityError or psycopg's UniqueViolation: the index refused a second seat.
        if "bookings.user_id" in str(exc) or "uq_bookings_active_seat" in str(exc):
            raise Refused(409, "already booked") from exc
        raise
    return {"order_id": order_id, "booking_id": booking_id}
