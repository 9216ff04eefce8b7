"""Benchmark: the portal under gunicorn, on SQLite and PostgreSQL, at 1k and 100k bookings.

For each backend and each data size it builds a fresh migrated database with
demo-like data (practitioners, clients, workshops, a year of history), then:

- counts the SQL statements of one booking request (POST /api/v1/orders) and of
  one calendar week page, in-process with the Flask test client;
- times the calendar week page in-process (median of CALENDAR_RUNS renders);
- serves the portal with gunicorn on 127.0.0.1 and fires BOOKINGS workshop-seat
  purchases from CLIENTS concurrent clients, each request a distinct client with
  its own API token, and reports bookings/s with p50/p99 latency;
- does the same through bench/baseline_app.py (the same locked transaction in raw
  SQL on a bare Flask app, same gunicorn configuration) and prints portal ÷ baseline;
- posts WEBHOOKS signed LiveKit events over HTTP at concurrency and reports events/s.

    .venv/bin/python bench/run.py                       # SQLite, plus PostgreSQL if
                                                        # TEST_DATABASE_URL is set
    .venv/bin/python bench/run.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/run.py --no-sqlite --sizes 1000   # a quick look

The PostgreSQL URL names a server and a database to connect to; the benchmark
creates its own database next to it for each size and drops it afterwards. The
figures are also written as JSON to bench/results/. Run by hand; nothing here is
a test, and nothing in the suite asserts a time.

gunicorn configuration (the same for the portal and the baseline): WORKERS sync
workers. Sync workers serve one request each at a time, so 4 of them keep the 2
cores of the reference machine busy while one worker waits on the database lock
or the network; the 32 clients queue in the listen backlog, as behind any proxy.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, select, text  # noqa: E402

from bench.noshow_report import postgres_database, user_rows  # noqa: E402
from portal import api_tokens, create_app  # noqa: E402
from portal.accounts.sign_ins import record_sign_in  # noqa: E402
from portal.core.transactions import unit_of_work  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Booking, Order, Service, ServiceSession, User  # noqa: E402
from tests.fixtures.factories import seat_invariant_violations  # noqa: E402
from tests.fixtures.livekit import (  # noqa: E402
    API_KEY,
    API_SECRET,
    participant_info,
    serialize,
    sign,
    webhook_event,
)

WORKERS = 4
CLIENTS = 32
BOOKINGS = 2_000
WARMUP = 64
WEBHOOKS = 1_000
CALENDAR_RUNS = 15
PRACTITIONERS = 20
CLIENT_ACCOUNTS = BOOKINGS + WARMUP + 100
SEATS = 12
WEEK_SESSIONS = 10  # the focus practitioner's sessions in the rendered week
PRICE = 2_500  # a paid workshop: orders stay pending with a hold, as in the baseline
SECRET_KEY = "bench-secret-key"


# --------------------------------------------------------------------------- data


def seed(total_bookings: int, today: datetime) -> dict:
    """Users, one workshop per practitioner, the focus week, then history up to the total.

    The focus practitioner's rendered week is the same at every size; only the
    history (past completed sessions, full of confirmed bookings) grows.
    """
    rng = random.Random(8)
    conn = db.session.connection()
    first = today - timedelta(days=400)
    users = user_rows(PRACTITIONERS, CLIENT_ACCOUNTS, "Europe/Lisbon", first)
    conn.execute(insert(User), users)
    clients = [u["id"] for u in users if u["role"] == "client"]
    services = [
        {
            "id": p,
            "name": f"Workshop {p:02d}",
            "description": "",
            "service_type": "workshop",
            "price_cents": PRICE,
            "currency": "EUR",
            "duration_minutes": 60,
            "max_participants": SEATS,
            "primary_practitioner_id": p,
            "is_active": True,
            "cancellation_cutoff_hours": 24,
            "created_at": first,
        }
        for p in range(1, PRACTITIONERS + 1)
    ]
    conn.execute(insert(Service), services)

    sessions, bookings, orders = [], [], []

    def add_session(practitioner, start, status, seats, room):
        sid = len(sessions) + 1
        sessions.append(
            {
                "id": sid,
                "service_id": practitioner,
                "practitioner_id": practitioner,
                "session_type": "workshop",
                "visibility": "public",
                "title": "",
                "start_time": start,
                "end_time": start + timedelta(hours=1),
                "timezone": "Europe/Lisbon",
                "max_participants": seats,
                "current_participants": 0,
                "status": status,
                "livekit_room_name": room or f"ses_bench{sid:08d}",
                "revision": 1,
                "created_at": first,
                "updated_at": first,
            }
        )
        return sid

    def book(sid, practitioner, client, at):
        oid = len(orders) + 1
        orders.append(
            {
                "id": oid,
                "user_id": client,
                "service_id": practitioner,
                "total_cents": PRICE,
                "currency": "EUR",
                "status": "paid",
                "payment_provider": "manual",
                "payment_reference": "bench",
                "created_at": at,
                "paid_at": at,
                "cancel_reason": None,
            }
        )
        bookings.append(
            {
                "id": len(bookings) + 1,
                "user_id": client,
                "service_id": practitioner,
                "service_session_id": sid,
                "order_id": oid,
                "status": "confirmed",
                "price_charged_cents": PRICE,
                "created_at": at,
                "confirmed_at": at,
                "cancel_reason": None,
                "late_cancel": False,
            }
        )

    # The focus week: practitioner 1, Monday to Friday this week, two sessions a day.
    monday = today - timedelta(days=today.weekday())
    week_sessions = []
    for k in range(WEEK_SESSIONS):
        start = monday.replace(hour=9 + 5 * (k % 2)) + timedelta(days=k // 2)
        sid = add_session(1, start, "scheduled", SEATS, f"ses_week{k:02d}")
        week_sessions.append(sid)
        for client in rng.sample(clients[:200], 8):
            book(sid, 1, client, first)
    # The sessions the load buys seats in: far enough ahead not to start mid-run.
    later = today + timedelta(days=30)
    portal_sid = add_session(2, later, "scheduled", BOOKINGS + WARMUP + 10, None)
    baseline_sid = add_session(3, later, "scheduled", BOOKINGS + WARMUP + 10, None)
    # History: every practitioner, three sessions a day going back from last week.
    day = monday - timedelta(days=7)
    while len(bookings) < total_bookings:
        for practitioner in range(1, PRACTITIONERS + 1):
            for slot in range(3):
                if len(bookings) >= total_bookings:
                    break
                start = day.replace(hour=8 + 4 * slot)
                sid = add_session(practitioner, start, "completed", SEATS, None)
                for client in rng.sample(clients, min(SEATS, total_bookings - len(bookings))):
                    book(sid, practitioner, client, start - timedelta(days=3))
        day -= timedelta(days=1)
    for table, rows in ((ServiceSession, sessions), (Order, orders), (Booking, bookings)):
        for i in range(0, len(rows), 10_000):
            conn.execute(insert(table), rows[i : i + 10_000])
    if db.engine.dialect.name == "postgresql":
        # Explicit ids leave the sequences behind; the portal's own inserts come next.
        for table in ("users", "services", "service_sessions", "orders", "bookings"):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table}"
                )
            )
    db.session.commit()
    with db.engine.connect() as analyze:
        analyze.execute(text("ANALYZE"))
        analyze.commit()
    return {
        "bookings": len(bookings),
        "sessions": len(sessions),
        "clients": clients,
        "week_sessions": week_sessions,
        "week_day": monday.date(),
        "portal_session": portal_sid,
        "baseline_session": baseline_sid,
    }


@unit_of_work
def issue_tokens(user_ids: list[int]) -> list[str]:
    """One token per client, through the portal's own issue_token, in one transaction."""
    users = db.session.scalars(select(User).where(User.id.in_(user_ids))).all()
    by_id = {u.id: u for u in users}
    return [api_tokens.issue_token(by_id[uid], "bench")[1] for uid in user_ids]


# --------------------------------------------------------------------------- in-process


@contextmanager
def counted():
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split())[:160])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def is_sql(statement: str) -> bool:
    """Statements that do work; transaction control is counted apart."""
    return statement.split(" ", 1)[0].upper() not in {"BEGIN", "COMMIT", "ROLLBACK", "PRAGMA"}


def booking_statements(app, session_id: int, service_id: int, token: str) -> dict:
    client = app.test_client()
    body = {"service_id": service_id, "service_session_id": session_id}
    headers = {"Authorization": f"Bearer {token}"}
    db.session.remove()
    with counted() as statements:
        response = client.post("/api/v1/orders", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return {
        "statements": sum(map(is_sql, statements)),
        "transaction_control": len(statements) - sum(map(is_sql, statements)),
        "log": statements,
    }


def calendar_client(app, week_day: date):
    """A test client signed in as the focus practitioner, and the week's URL."""
    client = app.test_client()
    with app.app_context():
        # A sign-in recorded server-side, as the login form makes one (User.get_id()).
        session_id = record_sign_in(db.session.get(User, 1)).get_id()
    with client.session_transaction() as browser:
        browser["_user_id"] = session_id
        browser["_fresh"] = True
    return client, f"/calendar/?date={week_day.isoformat()}"


def calendar_figures(app, week_day: date) -> dict:
    client, url = calendar_client(app, week_day)
    db.session.remove()
    with counted() as statements:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    assert page.count("Workshop 01") >= WEEK_SESSIONS, "the focus week is not on the page"
    times = []
    for _ in range(CALENDAR_RUNS):
        db.session.remove()
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        times.append(time.perf_counter() - started)
    return {
        "statements": sum(map(is_sql, statements)),
        "median_ms": statistics.median(times) * 1000,
        "log": statements,
    }


def alternating_render_times(urls: dict[int, str], week_day: date) -> dict[int, float]:
    """Median render time per size, renders taken in turn on each database, so that
    a busy machine slows every size alike and the ratio stays meaningful."""
    apps = {
        size: create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY})
        for size, url in urls.items()
    }
    clients, times = {}, {size: [] for size in urls}
    for size, app in apps.items():
        with app.app_context():
            clients[size] = calendar_client(app, week_day)
            clients[size][0].get(clients[size][1])  # warm
    for _ in range(2 * CALENDAR_RUNS):
        for size, app in apps.items():
            client, url = clients[size]
            with app.app_context():
                started = time.perf_counter()
                assert client.get(url).status_code == 200
                times[size].append(time.perf_counter() - started)
                db.session.remove()
    for app in apps.values():
        with app.app_context():
            db.engine.dispose()
    return {size: statistics.median(t) * 1000 for size, t in times.items()}


# --------------------------------------------------------------------------- HTTP


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A running gunicorn: its address, and the CPU its workers have spent so far,
    which a machine busy with other work inflates far less than the wall-clock rate."""

    def __init__(self, address: str, master: int):
        self.address, self.master = address, master

    def worker_ticks(self) -> dict[int, int]:
        """Each worker's CPU so far (utime + stime, in clock ticks), by pid."""
        ticks = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.master:  # ppid: a worker of this master
                ticks[int(stat.parent.name)] = int(fields[11]) + int(fields[12])
        return ticks

    def cpu_seconds(self) -> float:
        return sum(self.worker_ticks().values()) / os.sysconf("SC_CLK_TCK")

    def wait_until_booted(self, workers: int, timeout: float = 120) -> None:
        """Until every worker has imported and built its app: the master accepts on the
        socket before its workers are ready, and a worker still booting, measured with
        the load, puts its import into the app's figures (seen on the portal, whose boot
        is seconds of CPU: a third of the samples of its load once). Booted workers sit
        idle, so their CPU stops moving."""
        deadline = time.monotonic() + timeout
        last, still = None, 0
        while time.monotonic() < deadline:
            ticks = self.worker_ticks()
            still = still + 1 if len(ticks) == workers and ticks == last else 0
            if still >= 3:
                return
            last = ticks
            time.sleep(0.2)
        raise SystemExit("gunicorn's workers did not finish booting")


def measured_load(server: Server, requests: list, concurrency: int) -> dict:
    """`load`, plus the server's CPU milliseconds per request."""
    before = server.cpu_seconds()
    figures = load(server.address, requests, concurrency)
    figures["server_cpu_ms"] = (server.cpu_seconds() - before) * 1000 / len(requests)
    return figures


@contextmanager
def gunicorn(app_spec: str, database_url: str, extra_env: dict | None = None):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "PYTHONPATH": str(ROOT),
        **(extra_env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--backlog",
        "2048",
        "--timeout",
        "120",
        "--log-level",
        "warning",
        app_spec,
    ]
    # From bench/, not the repository root, where gunicorn would load the production
    # gunicorn.conf.py: this fixed configuration is the one both apps are measured with.
    process = subprocess.Popen(command, cwd=ROOT / "bench", env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn did not start: {app_spec}") from None
                time.sleep(0.2)
        server = Server(f"127.0.0.1:{port}", process.pid)
        server.wait_until_booted(WORKERS)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def post(address: str, path: str, body: str, headers: dict) -> tuple[int, float]:
    host, port = address.split(":")
    started = time.perf_counter()
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def drive(items: list, send, concurrency: int) -> dict:
    """Hand every item to `send` (which returns status and seconds) from `concurrency`
    client threads; throughput and latency. Shared by the benches that load a server."""
    pending = iter(items)
    lock = threading.Lock()
    statuses: Counter = Counter()
    latencies: list[float] = []

    def client():
        while True:
            with lock:
                item = next(pending, None)
            if item is None:
                return
            try:
                status, seconds = send(item)
            except OSError as exc:
                status, seconds = type(exc).__name__, 0.0
            with lock:
                statuses[status] += 1
                latencies.append(seconds)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(items),
        "seconds": elapsed,
        "per_second": len(items) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "statuses": {str(k): v for k, v in statuses.items()},
    }


def load(address: str, requests: list[tuple[str, str, dict]], concurrency: int) -> dict:
    """Send every request to one server from `concurrency` client threads."""
    return drive(requests, lambda item: post(address, *item), concurrency)


def order_requests(tokens: list[str], service_id: int, session_id: int) -> list:
    body = json.dumps({"service_id": service_id, "service_session_id": session_id})
    return [
        (
            "/api/v1/orders",
            body,
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        for token in tokens
    ]


def seat_requests(user_ids: list[int], session_id: int) -> list:
    headers = {"Content-Type": "application/json"}
    return [
        ("/seat", json.dumps({"user_id": uid, "service_session_id": session_id}), headers)
        for uid in user_ids
    ]


def webhook_requests(week_rooms: list[tuple[str, datetime, list[int]]]) -> list:
    """room_started, then every booked client joining and leaving, visit after visit,
    each room's events at its own session's time (an event far outside it is ignored
    and would measure the refusal, not the ingest), until there are WARMUP + WEBHOOKS."""
    events = []
    visit = 0
    while len(events) < WARMUP + WEBHOOKS:
        for room, start, clients in week_rooms:
            if visit == 0:
                events.append(webhook_event("room_started", room, at=start, room_created_at=start))
            for client in clients:
                sid = f"PA_{room}_{client}_{visit}"
                joined = start + timedelta(minutes=2 * (visit % 25))
                info = participant_info(sid, f"u_bench{client:07d}", joined_at=joined)
                for kind, at in (
                    ("participant_joined", joined),
                    ("participant_left", joined + timedelta(minutes=1)),
                ):
                    events.append(
                        webhook_event(kind, room, at=at, room_created_at=start, participant=info)
                    )
        visit += 1
    requests = []
    for item in events[: WARMUP + WEBHOOKS]:
        body = serialize(item)
        headers = {"Authorization": sign(body), "Content-Type": "application/webhook+json"}
        requests.append(("/webhooks/livekit", body, headers))
    return requests


# --------------------------------------------------------------------------- one run


def run_size(url: str, backend: str, size: int) -> dict:
    print(f"\n[{backend} {size:,}] building the database", flush=True)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": SECRET_KEY,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    result: dict = {"backend": backend, "bookings": size}
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        started = time.perf_counter()
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        seeded = seed(size, today)
        result["week_day"] = seeded["week_day"]
        clients = seeded["clients"]
        tokens = issue_tokens(clients)
        result["seed_seconds"] = time.perf_counter() - started
        print(
            f"[{backend} {size:,}] seeded {seeded['bookings']:,} bookings in "
            f"{seeded['sessions']:,} sessions and {len(tokens):,} API tokens in "
            f"{result['seed_seconds']:.1f}s",
            flush=True,
        )
        # In-process: statements and render time. The last client is spent here.
        result["booking_sql"] = booking_statements(app, seeded["portal_session"], 2, tokens[-1])
        result["calendar"] = calendar_figures(app, seeded["week_day"])
        week_rooms = [
            (
                f"ses_week{k:02d}",
                db.session.get(ServiceSession, sid).start_time,
                list(
                    db.session.scalars(
                        select(Booking.user_id).where(Booking.service_session_id == sid)
                    )
                ),
            )
            for k, sid in enumerate(seeded["week_sessions"])
        ]
        db.session.remove()
        db.engine.dispose()

    warm, measured = slice(0, WARMUP), slice(WARMUP, WARMUP + BOOKINGS)
    with gunicorn("portal:create_app()", url) as server:
        requests = order_requests(tokens, 2, seeded["portal_session"])
        load(server.address, requests[warm], CLIENTS)
        result["portal"] = measured_load(server, requests[measured], CLIENTS)
    with gunicorn("bench.baseline_app:create_app()", url) as server:
        requests = seat_requests(clients, seeded["baseline_session"])
        load(server.address, requests[warm], CLIENTS)
        result["baseline"] = measured_load(server, requests[measured], CLIENTS)
    result["ratio"] = result["portal"]["per_second"] / result["baseline"]["per_second"]
    result["cpu_ratio"] = result["baseline"]["server_cpu_ms"] / result["portal"]["server_cpu_ms"]
    livekit = {
        "LIVEKIT_URL": "wss://livekit.bench.invalid",
        "LIVEKIT_API_KEY": API_KEY,
        "LIVEKIT_API_SECRET": API_SECRET,
    }
    with gunicorn("portal:create_app()", url, livekit) as server:
        # Warmed like the purchases: a worker still booting (importing, building the app)
        # would be measured as the webhook's own cost.
        requests = webhook_requests(week_rooms)
        load(server.address, requests[warm], CLIENTS)
        result["webhooks"] = measured_load(server, requests[WARMUP:], CLIENTS)
    check_invariant(url)
    portal, baseline = result["portal"], result["baseline"]
    print(
        f"[{backend} {size:,}] portal {portal['per_second']:.0f} bookings/s "
        f"(p50 {portal['p50_ms']:.0f} ms, p99 {portal['p99_ms']:.0f} ms) {portal['statuses']}; "
        f"baseline {baseline['per_second']:.0f}/s (p50 {baseline['p50_ms']:.0f} ms, "
        f"p99 {baseline['p99_ms']:.0f} ms) {baseline['statuses']}; "
        f"ratio {result['ratio']:.2f}; server CPU per booking {portal['server_cpu_ms']:.2f} ms "
        f"vs {baseline['server_cpu_ms']:.2f} ms (baseline ÷ portal {result['cpu_ratio']:.2f})",
        flush=True,
    )
    print(
        f"[{backend} {size:,}] {result['booking_sql']['statements']} statements per booking; "
        f"calendar week {result['calendar']['statements']} statements, "
        f"{result['calendar']['median_ms']:.1f} ms; webhooks "
        f"{result['webhooks']['per_second']:.0f} events/s {result['webhooks']['statuses']}, "
        f"server CPU {result['webhooks']['server_cpu_ms']:.2f} ms per event",
        flush=True,
    )
    return result


def check_invariant(url: str) -> None:
    """The load must not have broken the seat counter (a benchmark of a broken app is moot)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        wrong = seat_invariant_violations()
        db.session.remove()
        db.engine.dispose()
    if wrong:
        raise SystemExit(f"seat counter out of step after the load: sessions {wrong[:10]}")


# --------------------------------------------------------------------------- report


# The bars of issue #19: portal ÷ baseline, and LiveKit events/s through gunicorn.
TARGETS = "targets (#19): ratio >= 0.35 on SQLite and >= 0.50 on PostgreSQL, "
TARGETS += "webhooks >= 1,000 events/s, calendar statements flat, render 100k / 1k <= 1.30"


def run_backend(backend: str, sizes: list[int], new_database, renders: dict) -> list[dict]:
    """Every size on its own fresh database, then the render times taken in turn."""
    results, urls, cleanups = [], {}, []
    try:
        for size in sizes:
            url, cleanup = new_database()
            cleanups.append(cleanup)
            results.append(run_size(url, backend, size))
            urls[size] = url
        week_day = results[0]["week_day"]
        renders[backend] = alternating_render_times(urls, week_day)
    finally:
        for cleanup in cleanups:
            cleanup()
    return results


def summarize(results: list[dict], renders: dict) -> list[dict]:
    rows = []
    for backend, by_size in renders.items():
        mine = sorted((r for r in results if r["backend"] == backend), key=lambda r: r["bookings"])
        small, large = min(by_size), max(by_size)
        rows.append(
            {
                "backend": backend,
                "calendar_statements": [r["calendar"]["statements"] for r in mine],
                "render_ms": by_size,
                "render_ratio": by_size[large] / by_size[small],
            }
        )
    return rows


def report(results: list[dict], summary: list[dict]) -> None:
    print(
        f"\n{WORKERS} sync gunicorn workers each; {CLIENTS} concurrent clients; "
        f"{BOOKINGS:,} bookings after {WARMUP} warm-up; {WEBHOOKS:,} webhook events"
    )
    header = (
        f"{'backend':<11}{'bookings':>9} {'portal/s':>9} {'p50':>6} {'p99':>6} "
        f"{'base/s':>7} {'p50':>6} {'p99':>6} {'ratio':>6} {'cpu r':>6} {'sql/bk':>6} "
        f"{'cal sql':>7} {'cal ms':>7} {'hooks/s':>8}"
    )
    print(header)
    for r in results:
        p, b = r["portal"], r["baseline"]
        print(
            f"{r['backend']:<11}{r['bookings']:>9,} {p['per_second']:>9.0f} {p['p50_ms']:>6.0f} "
            f"{p['p99_ms']:>6.0f} {b['per_second']:>7.0f} {b['p50_ms']:>6.0f} "
            f"{b['p99_ms']:>6.0f} {r['ratio']:>6.2f} {r['cpu_ratio']:>6.2f} "
            f"{r['booking_sql']['statements']:>6} "
            f"{r['calendar']['statements']:>7} {r['calendar']['median_ms']:>7.1f} "
            f"{r['webhooks']['per_second']:>8.0f}"
        )
    for s in summary:
        print(
            f"{s['backend']}: calendar statements by size {s['calendar_statements']}; "
            f"render ms by size (taken in turn, median of {2 * CALENDAR_RUNS}) "
            f"{ {k: round(v, 1) for k, v in s['render_ms'].items()} }, "
            f"largest / smallest {s['render_ratio']:.2f}"
        )
    print("cpu r: the baseline's server CPU per booking ÷ the portal's (what a busy machine")
    print("       skews least: compare it with ratio when other work shares the cores)")
    print(TARGETS)


def main() -> None:
    global BOOKINGS, CLIENT_ACCOUNTS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--sizes", default="1000,100000", help="bookings, comma-separated")
    parser.add_argument("--requests", type=int, default=BOOKINGS)
    args = parser.parse_args()
    BOOKINGS = args.requests
    CLIENT_ACCOUNTS = BOOKINGS + WARMUP + 100
    sizes = [int(s) for s in args.sizes.split(",")]
    started = time.perf_counter()
    results, renders = [], {}
    if not args.no_sqlite:

        def sqlite_database():
            folder = tempfile.mkdtemp(prefix="portal-bench-")
            return f"sqlite:///{folder}/bench.db", lambda: shutil.rmtree(folder)

        results += run_backend("sqlite", sizes, sqlite_database, renders)
    if args.postgres:
        results += run_backend(
            "postgresql", sizes, lambda: postgres_database(args.postgres), renders
        )
    summary = summarize(results, renders)
    report(results, summary)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"run-{stamp}.json"
    path.write_text(
        json.dumps(
            {
                "workers": WORKERS,
                "clients": CLIENTS,
                "requests": BOOKINGS,
                "webhooks": WEBHOOKS,
                "results": results,
                "summary": summary,
                "seconds": time.perf_counter() - started,
            },
            indent=2,
            default=str,
        )
    )
    print(f"\nwhole run {time.perf_counter() - started:.0f}s; figures in {path}")


if __name__ == "__main__":
    main()
