"""Benchmark: does a sign-up or password-reset request take longer for an address that
has an account than for one that has none?

For each backend (SQLite; PostgreSQL when --postgres or TEST_DATABASE_URL is given) it
builds a fresh migrated database with ACCOUNTS client accounts and, in-process with the
Flask test client (production settings: a Huey queue file, no mail server), sends
ROUNDS x PER_ROUND requests to POST /reset-password and POST /signup, alternating
known and unknown addresses so drift hits both alike. Reported per form: the median
and p90 request time in ms for each, and the median difference.

    .venv/bin/python bench/accounts_enumeration.py
    .venv/bin/python bench/accounts_enumeration.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Run by hand; nothing here is a test (tests/integration/test_accounts.py checks that both
answers are the same page and that the request does the same kind of work). Figures
also go to bench/results/ as JSON.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import backends  # noqa: E402
from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Role, User  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))
PER_ROUND = int(os.environ.get("BENCH_PER_ROUND", 20))
ACCOUNTS = ROUNDS * PER_ROUND
PASSWORD = "tidal-basin-47-heron"


def make_app(url: str, tmp: Path):
    from flask_migrate import upgrade

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "PORTAL_BASE_URL": "http://portal.test",
            "PORTAL_WORKER_QUEUE_URL": f"sqlite:///{tmp / 'queue.db'}",
            "PORTAL_MAIL_OUTBOX_DIR": str(tmp / "outbox"),
            "MAIL_SERVER": "",
        }
    )
    with app.app_context():
        upgrade()
        users = [
            User(email=f"known-{n}@example.com", name=f"Known {n}", role=Role.CLIENT)
            for n in range(2 * ACCOUNTS)
        ]
        for user in users:
            user.password_hash = "-"  # never signs in
        db.session.add_all(users)
        db.session.commit()
    return app


def send(client, form: str, email: str):
    if form == "reset":
        return client.post("/reset-password", data={"email": email})
    return client.post(
        "/signup",
        data={
            "name": "Bench Visitor",
            "email": email,
            "password": PASSWORD,
            "confirm_password": PASSWORD,
            "timezone": "UTC",
        },
    )


def measure(app, form: str) -> dict:
    offset = 0 if form == "reset" else ACCOUNTS
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    with app.app_context():
        client = app.test_client()
        send(client, form, "warm-up@example.com")
        for n in range(ACCOUNTS):
            pair = [
                ("known", f"known-{offset + n}@example.com"),
                ("unknown", f"new-{form}-{n}@example.org"),
            ]
            for label, email in pair if n % 2 else reversed(pair):
                began = time.perf_counter()
                response = send(client, form, email)
                times[label].append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, response.status_code
        db.session.remove()

    def summary(values: list[float]) -> dict:
        ordered = sorted(values)
        return {
            "median_ms": round(statistics.median(ordered), 2),
            "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1], 2),
        }

    known, unknown = summary(times["known"]), summary(times["unknown"])
    return {
        "known": known,
        "unknown": unknown,
        "median_difference_ms": round(known["median_ms"] - unknown["median_ms"], 2),
    }


def run(url: str, name: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        app = make_app(url, tmp)
        figures = {"backend": name, "requests_per_address_kind": ACCOUNTS}
        for form in ("reset", "signup"):
            figures[form] = measure(app, form)
        kept = tmp / "outbox"
        figures["files_written_by_requests"] = len(list(kept.glob("*"))) if kept.exists() else 0
        with app.app_context():
            db.engine.dispose()
        return figures


if __name__ == "__main__":
    backends.main(run, "accounts-enumeration", __doc__)
