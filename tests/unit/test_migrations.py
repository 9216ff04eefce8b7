"""The Alembic migrations build exactly the schema the models declare, plus the
triggers and constraints that only migrations carry."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from portal.extensions import db


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
    from flask_migrate import downgrade, upgrade

    from tests.fixtures.app import make_app

    app = make_app(f"sqlite:///{tmp_path / 'fresh.db'}")
    with app.app_context():
        upgrade()
        assert "bookings" in inspect(db.engine).get_table_names()
        downgrade(revision="base")
        assert "bookings" not in inspect(db.engine).get_table_names()
        upgrade()
        assert "bookings" in inspect(db.engine).get_table_names()
        db.engine.dispose()
