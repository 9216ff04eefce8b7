"""The Alembic migrations build exactly the schema the models declare, plus the
triggers and constraints that only migrations carry."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

import portal
from portal.extensions import db
from tests.fixtures.app import make_app
from tests.fixtures.database import postgres_url

MIGRATIONS = Path(portal.__file__).parent / "migrations"

# SQLite's reflection cannot read an index on an expression (users' lower(email)): the
# comparisons here skip it there, and tests/unit/test_accounts.py proves it refuses.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based"),
]


def test_migrated_schema_matches_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_the_invariant_triggers_exist(app):
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            names = set(
                conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
                .scalars()
                .all()
            )
            assert {
                "bookings_seat_insert",
                "bookings_seat_update",
                "bookings_seat_delete",
                "service_sessions_no_overlap_insert",
                "service_sessions_no_overlap_update",
            } <= names
        else:
            names = set(
                conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
                .scalars()
                .all()
            )
            assert "bookings_seat_count" in names
            constraints = set(
                conn.execute(text("SELECT conname FROM pg_constraint WHERE contype = 'x'"))
                .scalars()
                .all()
            )
            assert "service_sessions_no_overlap" in constraints


def test_db_upgrade_builds_the_schema_from_empty_and_downgrade_removes_it(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'fresh.db'}")
    with app.app_context():
        upgrade()
        assert "bookings" in inspect(db.engine).get_table_names()
        downgrade(revision="base")
        assert "bookings" not in inspect(db.engine).get_table_names()
        upgrade()
        assert "bookings" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def test_the_migrations_have_exactly_one_head():
    assert len(_scripts().get_heads()) == 1


def test_migration_ids_ascend_from_base_to_head_and_name_their_files():
    chain = list(reversed(list(_scripts().walk_revisions("base", "heads"))))
    ids = [script.revision for script in chain]
    assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
    for script in chain:
        assert Path(script.path).name.startswith(f"{script.revision}_"), script.path


@pytest.fixture
def empty_database_url(tmp_path):
    """A database with nothing in it, on the backend the suite runs against."""
    base_url = postgres_url()
    if base_url is None:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    admin_url = make_url(base_url).set(drivername="postgresql+psycopg")
    name = f"portal_stamp_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_services_made_before_the_seat_setting_keep_showing_their_counts(empty_database_url):
    """0019 adds services.show_seats_left: existing services keep showing how many seats are
    left (as every service did before), and the column goes again on downgrade."""
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision="0018")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, email, name, password_hash, role, timezone, "
                    "livekit_identity, is_active_account, created_at) VALUES (1, "
                    "'maya@example.com', 'Maya', 'x', 'practitioner', 'UTC', 'lk-1', true, "
                    "'2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO services (id, name, description, service_type, price_cents, "
                    "currency, duration_minutes, max_participants, primary_practitioner_id, "
                    "is_active, cancellation_cutoff_hours, created_at) VALUES (1, 'Breathwork', "
                    "'', 'workshop', 0, 'USD', 60, 10, 1, true, 24, '2026-01-01 00:00:00')"
                )
            )
        upgrade(revision="0019")
        with db.engine.connect() as conn:
            shown = conn.execute(text("SELECT show_seats_left FROM services")).scalars().all()
        assert [bool(value) for value in shown] == [True]
        downgrade(revision="0018")
        columns = {c["name"] for c in inspect(db.engine).get_columns("services")}
        assert "show_seats_left" not in columns
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM services")).scalars().all() == ["Breathwork"]
        db.engine.dispose()


def _triggers(conn) -> list[str]:
    if conn.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    return sorted(conn.execute(text(query)).scalars())


def test_typed_cancel_words_move_from_the_reason_to_the_note(empty_database_url):
    """0031: cancel_reason keeps only CancelReason members (NULL until a cancel); words a
    person typed there move to cancel_note, and the CHECK then refuses any other text.
    SQLite rebuilds bookings to add the CHECK: its seat triggers survive."""
    from portal import booking
    from portal.models import Booking, BookingStatus, Role
    from tests.fixtures.factories import make_user, make_workshop

    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        practitioner = make_user(Role.PRACTITIONER)
        session = make_workshop(practitioner)
        typed, plain, kept = (
            booking.purchase(make_user(), session.service, session=session).bookings[0]
            for _ in range(3)
        )
        booking.cancel_booking(typed, practitioner, note="moving house")
        booking.cancel_booking(plain, practitioner)
        ids = typed.id, plain.id, kept.id
        db.session.remove()
        with db.engine.connect() as conn:
            triggers = _triggers(conn)
        downgrade(revision="0026")
        with db.engine.connect() as conn:
            old = dict(conn.execute(text("SELECT id, cancel_reason FROM bookings")).all())
        assert [old[i] for i in ids] == ["moving house", "canceled", ""]

        upgrade()
        with db.engine.begin() as conn:
            rows = {
                row.id: (row.cancel_reason, row.cancel_note)
                for row in conn.execute(text("SELECT id, cancel_reason, cancel_note FROM bookings"))
            }
            assert [rows[i] for i in ids] == [
                ("canceled", "moving house"),
                ("canceled", ""),
                (None, ""),
            ]
            assert _triggers(conn) == triggers
        with pytest.raises(Exception, match="(?i)check"), db.engine.begin() as conn:
            conn.execute(text("UPDATE bookings SET cancel_reason = 'moving house'"))
        assert db.session.get(Booking, ids[2]).status == BookingStatus.PENDING_PAYMENT
        db.session.remove()
        db.engine.dispose()


def test_passes_sold_before_0043_are_given_their_terms(empty_database_url):
    """0043: a sold pass keeps its own copy of the terms; passes sold before it get their pass's
    terms (services, tag, limits) as they stood, and the copy goes again on downgrade."""
    from portal import booking
    from portal.database import utcnow
    from portal.models import ClassPass, Role
    from tests.fixtures.factories import make_user
    from tests.fixtures.passes import held_pass, make_class_pass, make_group_class

    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        practitioner = make_user(Role.PRACTITIONER)
        breathwork = make_group_class(practitioner, name="Breathwork")
        yoga = make_group_class(practitioner, name="Yoga")
        limited = make_class_pass(
            practitioner, services=[breathwork, yoga], tag="group", per_day=1, per_week=3
        )
        plain = make_class_pass(practitioner, services=[yoga], name="Yoga pass")
        ids = [held_pass(make_user(), service).id for service in (limited, plain, limited)]
        expected_services = {
            (ids[0], breathwork.id),
            (ids[0], yoga.id),
            (ids[1], yoga.id),
            (ids[2], breathwork.id),
            (ids[2], yoga.id),
        }
        db.session.remove()
        downgrade(revision="0040")
        assert "class_pass_eligible_services" not in inspect(db.engine).get_table_names()
        columns = {c["name"] for c in inspect(db.engine).get_columns("class_passes")}
        assert not columns & {"eligible_tag", "per_day", "per_week"}

        upgrade()
        with db.engine.connect() as conn:
            terms = {
                row.id: (row.eligible_tag, row.per_day, row.per_week)
                for row in conn.execute(
                    text("SELECT id, eligible_tag, per_day, per_week FROM class_passes")
                )
            }
            services = set(
                conn.execute(
                    text("SELECT class_pass_id, service_id FROM class_pass_eligible_services")
                ).all()
            )
        assert [terms[i] for i in ids] == [("group", 1, 3), (None, None, None), ("group", 1, 3)]
        assert services == expected_services
        # The backfilled copy is the one the seat's path reads.
        yoga_pass = db.session.get(ClassPass, ids[1])
        start = utcnow() + timedelta(days=7)
        booking.book_with_pass(
            yoga_pass.user, yoga_pass, booking.create_session(yoga, start_time=start)
        )
        with pytest.raises(booking.NotBookable, match="cannot be used"):
            booking.book_with_pass(
                yoga_pass.user,
                yoga_pass,
                booking.create_session(breathwork, start_time=start + timedelta(hours=3)),
            )
        db.session.remove()
        db.engine.dispose()


def test_unlimited_periods_granted_before_0046_are_marked(empty_database_url):
    """0046: a period of an unlimited plan granted before the column existed is marked
    unlimited; a limited plan's period and a class pass of as many credits are not."""
    from portal.booking.memberships import grant_period
    from portal.models import Role
    from tests.fixtures.factories import make_user
    from tests.fixtures.memberships import invoice, make_plan, subscription
    from tests.fixtures.passes import held_pass, make_class_pass, make_group_class

    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        practitioner = make_user(Role.PRACTITIONER)
        yoga = make_group_class(practitioner, name="Yoga")
        start = datetime.now(UTC) - timedelta(days=1)
        ids = []
        for n, plan in enumerate(
            (
                make_plan(practitioner, unlimited=True, services=[yoga], name="Unlimited"),
                make_plan(practitioner, credits=1000, services=[yoga], name="A thousand"),
            )
        ):
            client, sub_id = make_user(), f"sub_0046_{n}"
            end = start + timedelta(days=30)
            grant_period(
                invoice(start, end, sub_id=sub_id),
                subscription(client, plan, start, end, sub_id=sub_id),
                start,
            )
            ids.append(
                db.session.scalar(
                    text("SELECT max(id) FROM class_passes WHERE user_id = :u"), {"u": client.id}
                )
            )
        thousand = make_class_pass(practitioner, services=[yoga], credits=1000, name="Big pass")
        ids.append(held_pass(make_user(), thousand).id)
        db.session.remove()
        downgrade(revision="0045")
        columns = {c["name"] for c in inspect(db.engine).get_columns("class_passes")}
        assert "unlimited" not in columns

        upgrade()
        with db.engine.connect() as conn:
            marked = dict(conn.execute(text("SELECT id, unlimited FROM class_passes")).all())
        assert [bool(marked[i]) for i in ids] == [True, False, False]
        db.session.remove()
        db.engine.dispose()
