"""The baseline for the booking benchmark: a bare Flask app that runs the same
locked seat-purchase transaction as the portal, in raw SQL, with no ORM, no
sign-in, no forms and no domain layer. The portal's throughput is reported as a
ratio of this one's on the same database.

The transaction is the portal's workshop purchase, check for check: lock the
session row (SELECT ... FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite),
refuse a session that is not scheduled, has started or is full, refuse a second
seat for the same person, then insert a pending order held for 15 minutes and
its pending-payment booking (the triggers count the seat).

Served by gunicorn: `gunicorn 'bench.baseline_app:create_app()'` with DATABASE_URL set.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta

from flask import Flask, jsonify, request

BUSY = 30_000
SEAT_HOLDING = ("draft", "pending_payment", "confirmed")


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
        if sqlite_path:
            db = conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                payload, status = _purchase(db, "?", user_id, session_id, *times)
            except Exception:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT" if status == 201 else "ROLLBACK")
        else:
            with conn().transaction():
                payload, status = _purchase(conn(), "%s", user_id, session_id, *times)
        return jsonify(payload), status

    return app


def _purchase(conn, mark, user_id, session_id, now, hold):
    lock = " FOR UPDATE" if mark == "%s" else ""
    row = conn.execute(
        "SELECT s.service_id, s.status, s.start_time, s.current_participants, "
        "s.max_participants, v.price_cents, v.currency FROM service_sessions s "
        f"JOIN services v ON v.id = s.service_id WHERE s.id = {mark}{lock}",
        (session_id,),
    ).fetchone()
    if row is None:
        return {"error": "no such session"}, 404
    service_id, status, start, taken, capacity, price, currency = row
    if status != "scheduled" or start <= now:
        return {"error": "not bookable"}, 409
    if taken >= capacity:
        return {"error": "full"}, 409
    held = conn.execute(
        f"SELECT id FROM bookings WHERE user_id = {mark} AND service_session_id = {mark} "
        f"AND status IN ({mark}, {mark}, {mark})",
        (user_id, session_id, *SEAT_HOLDING),
    ).fetchone()
    if held is not None:
        return {"error": "already booked"}, 409
    order_id = conn.execute(
        "INSERT INTO orders (user_id, service_id, total_cents, currency, status, "
        "payment_provider, payment_reference, hold_expires_at, created_at, cancel_reason) "
        f"VALUES ({mark}, {mark}, {mark}, {mark}, 'pending', 'manual', '', {mark}, {mark}, '') "
        "RETURNING id",
        (user_id, service_id, price, currency, hold, now),
    ).fetchone()[0]
    booking_id = conn.execute(
        "INSERT INTO bookings (user_id, service_id, service_session_id, order_id, status, "
        "price_charged_cents, created_at, pending_payment_at, cancel_reason, late_cancel) "
        f"VALUES ({mark}, {mark}, {mark}, {mark}, 'pending_payment', {mark}, {mark}, {mark}, "
        "'', FALSE) RETURNING id",
        (user_id, service_id, session_id, order_id, price, now, now),
    ).fetchone()[0]
    return {"order_id": order_id, "booking_id": booking_id}, 201
