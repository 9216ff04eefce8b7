"""In-process cost of one workshop-seat purchase (POST /api/v1/orders through the test
client, a distinct client and API token each time), on the data bench/run.py seeds:
milliseconds per purchase, wall and CPU (median of ROUNDS rounds), the statements of
one purchase, and with --profile where the time goes (cProfile, cumulative).

    .venv/bin/python bench/purchase.py                 # SQLite, plus PostgreSQL if
                                                       # TEST_DATABASE_URL is set
    .venv/bin/python bench/purchase.py --profile 25    # and the 25 costliest functions

Run by hand; nothing here is a test.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import run as harness  # noqa: E402
from bench.backends import save_results  # noqa: E402
from bench.noshow_report import postgres_database  # noqa: E402
from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402

ROUNDS = int(os.environ.get("PURCHASE_ROUNDS", "7"))
PER_ROUND = 100


def measure(url: str, backend: str, profile: int) -> dict:
    harness.BOOKINGS = ROUNDS * PER_ROUND + 50
    harness.CLIENT_ACCOUNTS = harness.BOOKINGS + harness.WARMUP + 100
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": harness.SECRET_KEY,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        seeded = harness.seed(1000, today)
        tokens = iter(harness.issue_tokens(seeded["clients"]))
        session_id = seeded["portal_session"]
        figures = {"backend": backend}
        figures["statements"] = harness.booking_statements(app, session_id, 2, next(tokens))
        client = app.test_client()
        body = {"service_id": 2, "service_session_id": session_id}

        def buy() -> None:
            headers = {"Authorization": f"Bearer {next(tokens)}"}
            response = client.post("/api/v1/orders", json=body, headers=headers)
            assert response.status_code == 201, response.get_data(as_text=True)

        for _ in range(20):  # warm
            buy()
        rounds, cpu = [], []
        for _ in range(ROUNDS):
            started, started_cpu = time.perf_counter(), time.process_time()
            for _ in range(PER_ROUND):
                buy()
            rounds.append((time.perf_counter() - started) * 1000 / PER_ROUND)
            cpu.append((time.process_time() - started_cpu) * 1000 / PER_ROUND)
        figures["ms_per_purchase"] = round(statistics.median(rounds), 2)
        # CPU time of this process: what a busy machine inflates least.
        figures["cpu_ms_per_purchase"] = round(statistics.median(cpu), 2)
        figures["rounds_ms"] = [round(r, 2) for r in rounds]
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(100):
                buy()
            profiler.disable()
            profiler.dump_stats(f"/tmp/purchase-{backend}.prof")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(profile)
        db.session.remove()
        db.engine.dispose()
    log = figures["statements"].pop("log")
    print(
        f"[{backend}] {figures['ms_per_purchase']} ms per purchase "
        f"({figures['cpu_ms_per_purchase']} ms CPU); statements:"
    )
    for statement in log:
        print("   ", statement)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--profile", type=int, default=0, help="print N costliest functions")
    args = parser.parse_args()
    results = []
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(measure(f"sqlite:///{tmp}/bench.db", "sqlite", args.profile))
    if args.postgres:
        url, drop = postgres_database(args.postgres)
        try:
            results.append(measure(url, "postgresql", args.profile))
        finally:
            drop()
    print(json.dumps(results, indent=2))
    save_results("purchase", results)


if __name__ == "__main__":
    main()
