"""Benchmark: workshop-seat purchases per second through one and through two instances.

Each layout gets a fresh migrated PostgreSQL database next to the one named by the URL
(dropped afterwards) with one workshop session large enough for every purchase and one
client (with an API token) per purchase. The instances are separate gunicorn processes
started with the repository's gunicorn.conf.py, sharing the database and Redis (the
rate limits' store), exactly as when the portal is scaled out. CLIENTS concurrent
clients send PURCHASES `POST /api/v1/orders`, spread round-robin over the instances.

Layouts: one instance with W workers, two instances with W workers each, and one
instance with 2W workers (the same process count as two instances, to tell what the
second instance adds from what more processes add).

    .venv/bin/python bench/scale_out.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/scale_out.py --purchases 500      # a quick look

Run by hand; prints a table and writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bench.noshow_report import postgres_database, user_rows  # noqa: E402
from bench.run import drive, issue_tokens  # noqa: E402
from portal import booking, create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Service, ServiceType, User  # noqa: E402
from tests.fixtures.factories import seat_invariant_violations  # noqa: E402
from tests.fixtures.gunicorn import gunicorn_instances  # noqa: E402

SECRET_KEY = "bench-scale-out"
CLIENTS = 32
WARMUP = 32


def seed(url: str, purchases: int) -> dict:
    """A migrated database with one big workshop session and one token per buyer."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        upgrade(directory=str(ROOT / "portal" / "migrations"))
        now = datetime.now(UTC)
        db.session.execute(insert(User), user_rows(1, purchases + WARMUP, "UTC", now))
        db.session.commit()
        service = Service(
            name="Scale-out workshop",
            service_type=ServiceType.WORKSHOP,
            price_cents=2_500,
            duration_minutes=60,
            max_participants=purchases + WARMUP,
            primary_practitioner_id=1,
        )
        db.session.add(service)
        db.session.commit()
        session = booking.create_session(service, start_time=now + timedelta(days=30))
        tokens = issue_tokens(list(range(2, purchases + WARMUP + 2)))
        seeded = {"service_id": service.id, "session_id": session.id, "tokens": tokens}
        db.session.remove()
        db.engine.dispose()
    return seeded


def post(base: str, body: str, token: str) -> tuple[int | str, float]:
    parts = urlsplit(base)
    started = time.perf_counter()
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        conn.request(
            "POST",
            "/api/v1/orders",
            body=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    except OSError as exc:
        return type(exc).__name__, time.perf_counter() - started
    finally:
        conn.close()


def load(bases: list[str], body: str, tokens: list[str]) -> dict:
    """Every token buys one seat, from CLIENTS threads, round-robin over the instances."""

    def buy(item: tuple[int, str]) -> tuple[int | str, float]:
        n, token = item
        return post(bases[n % len(bases)], body, token)

    result = drive(list(enumerate(tokens)), buy, CLIENTS)
    return {
        "purchases": result["requests"],
        "seconds": round(result["seconds"], 2),
        **{key: round(result[key], 1) for key in ("per_second", "p50_ms", "p99_ms")},
        "statuses": result["statuses"],
    }


def check_invariant(url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        wrong = seat_invariant_violations()
        db.session.remove()
        db.engine.dispose()
    if wrong:
        raise SystemExit(f"seat counter out of step after the load: {wrong[:10]}")


def run_layout(postgres: str, redis: str, instances: int, workers: int, purchases: int) -> dict:
    url, drop = postgres_database(postgres)
    try:
        seeded = seed(url, purchases)
        env = {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET_KEY,
            "REDIS_URL": redis,
            "RATELIMIT_KEY_PREFIX": f"bench-{uuid.uuid4().hex}",
            "GUNICORN_TIMEOUT": "120",
        }
        body = json.dumps(
            {"service_id": seeded["service_id"], "service_session_id": seeded["session_id"]}
        )
        tokens = seeded["tokens"]
        with gunicorn_instances(env, count=instances, workers=workers) as bases:
            load(bases, body, tokens[:WARMUP])
            result = load(bases, body, tokens[WARMUP:])
        check_invariant(url)
    finally:
        drop()
    result.update(instances=instances, workers_each=workers)
    print(
        f"{instances} instance(s) x {workers} workers: {result['per_second']:.0f} purchases/s "
        f"(p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms) {result['statuses']}",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument(
        "--redis", default=os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/14"
    )
    parser.add_argument("--purchases", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    args = parser.parse_args()
    if not args.postgres:
        raise SystemExit("give --postgres URL or set TEST_DATABASE_URL")
    layouts = [(1, args.workers), (2, args.workers), (1, 2 * args.workers)]
    results = [
        run_layout(args.postgres, args.redis, instances, workers, args.purchases)
        for instances, workers in layouts
    ]
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"scale_out-{stamp}.json").write_text(json.dumps(results, indent=1))
    one, two = results[0]["per_second"], results[1]["per_second"]
    print(f"two instances / one instance: {two / one:.2f}")


if __name__ == "__main__":
    main()
