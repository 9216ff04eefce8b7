"""Benchmark: a seat taken with a class pass credit against a seat bought with money (#21).

Builds a fresh migrated database (SQLite in a temporary folder, or PostgreSQL with
--postgres URL: a database of its own, dropped after), then takes SEATS seats one after
another through each path, as one web worker would: `book_workshop_seat` (an order at the
workshop's price, held while it is paid) and `book_with_pass` (one credit of a paid pass).
Rounds alternate between the paths so neither gets a warmer cache. Reports seats per
second (wall and per CPU-second) and SQL statements per seat, and the credit path's rate
as a share of the money path's (the goal: within 10%).

    .venv/bin/python bench/class_passes.py
    .venv/bin/python bench/class_passes.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Run by hand; nothing in the suite asserts a time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal import booking  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import ClassPass, Role, Service, ServiceSession, User  # noqa: E402
from tests.fixtures.app import make_app  # noqa: E402
from tests.fixtures.database import _migrate  # noqa: E402
from tests.fixtures.factories import future, make_user  # noqa: E402
from tests.fixtures.passes import held_pass, make_class_pass, make_group_class  # noqa: E402

ROUNDS = 4


def _timed(work) -> tuple[float, float, int]:
    statements = []
    listener = lambda *args: statements.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    event.remove(db.engine, "before_cursor_execute", listener)
    return wall, cpu, len(statements)


def run(url: str, seats: int) -> list[str]:
    _migrate(url)
    app = make_app(url, SERVER_NAME=None)
    per_round = seats // ROUNDS
    totals = {"money": [0.0, 0.0, 0], "credit": [0.0, 0.0, 0]}
    with app.app_context():
        practitioner = make_user(Role.PRACTITIONER)
        paid_class = make_group_class(practitioner, price_cents=3000, max_participants=per_round)
        pass_class = make_group_class(practitioner, price_cents=3000, max_participants=per_round)
        pass_service = make_class_pass(
            practitioner, services=[pass_class], credits=5, price_cents=0
        )
        class_ids = paid_class.id, pass_class.id, pass_service.id
        for n in range(ROUNDS):
            paid_class, pass_class, pass_service = (db.session.get(Service, i) for i in class_ids)
            money_session = booking.create_session(paid_class, start_time=future(days=2 + n))
            credit_session = booking.create_session(pass_class, start_time=future(days=20 + n))
            buyers = [make_user().id for _ in range(per_round)]
            holders = [
                (u.id, held_pass(u, pass_service).id)
                for u in (make_user() for _ in range(per_round))
            ]
            ids = money_session.id, credit_session.id
            db.session.commit()
            db.session.expunge_all()

            def with_money(buyers=buyers, ids=ids):
                for user_id in buyers:
                    booking.book_workshop_seat(
                        db.session.get(User, user_id), db.session.get(ServiceSession, ids[0])
                    )
                    db.session.expunge_all()

            def with_credit(holders=holders, ids=ids):
                for user_id, pass_id in holders:
                    booking.book_with_pass(
                        db.session.get(User, user_id),
                        db.session.get(ClassPass, pass_id),
                        db.session.get(ServiceSession, ids[1]),
                    )
                    db.session.expunge_all()

            for name, work in (("money", with_money), ("credit", with_credit)):
                wall, cpu, statements = _timed(work)
                totals[name][0] += wall
                totals[name][1] += cpu
                totals[name][2] += statements
        db.session.remove()
        db.engine.dispose()
    count = per_round * ROUNDS
    lines = []
    for name, (wall, cpu, statements) in totals.items():
        lines.append(
            f"{name}: {count / wall:,.0f} seats/s ({count / cpu:,.0f} per CPU-second), "
            f"{statements / count:.1f} SQL statements per seat"
        )
    share = (count / totals["credit"][0]) / (count / totals["money"][0])
    lines.append(f"credit path at {share:.0%} of the money path's rate")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", type=int, default=800)
    parser.add_argument("--postgres", help="a PostgreSQL URL; SQLite when not given")
    args = parser.parse_args()
    if args.postgres:
        admin_url = make_url(args.postgres).set(drivername="postgresql+psycopg")
        name = f"portal_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = admin_url.set(database=name).render_as_string(hide_password=False)
            figures = run(url, args.seats)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            admin.dispose()
        backend = "postgresql"
    else:
        with tempfile.TemporaryDirectory() as folder:
            figures = run(f"sqlite:///{folder}/bench.db", args.seats)
        backend = "sqlite"
    print(f"{backend}: {args.seats} seats")
    for line in figures:
        print("  " + line)


if __name__ == "__main__":
    main()
