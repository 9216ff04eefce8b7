from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import worker
from portal.database import utcnow
from portal.extensions import db
from portal.models import (
    AttendanceOutcome,
    Booking,
    Order,
    ProcessedRoomEvent,
    Service,
    ServiceSession,
    ServiceType,
    User,
)
from portal.notifications.links import external_url
from tests.fixtures.factories import seat_invariant_violations


def counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (User, Service, ServiceSession, Booking, Order)
    )


def test_seed_demo_loads_every_pattern_once(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "demo data created" in first.output
    assert "practitioner@estuary-demo.example.com" in first.output
    after_first = counts()

    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and "already present" in second.output
    assert counts() == after_first

    kinds = set(db.session.scalars(select(Service.service_type)))
    assert kinds == set(ServiceType)
    assert db.session.scalar(select(func.count(Booking.id))) > 0
    assert seat_invariant_violations() == []
    # The past workshop's room was replayed: one client came, the other is a no-show.
    outcomes = sorted(db.session.scalars(select(AttendanceOutcome.outcome)))
    assert [str(o) for o in outcomes] == ["attended", "no_show"]


def printed_passwords(output: str) -> dict[str, str]:
    return {
        line.split()[1]: line.split("password: ")[1]
        for line in output.splitlines()
        if "password: " in line
    }


def test_demo_logins_work(runner, client):
    result = runner.invoke(args=["seed-demo"])
    passwords = printed_passwords(result.output)
    response = client.post(
        "/auth/login",
        data={
            "email": "practitioner@estuary-demo.example.com",
            "password": passwords["practitioner@estuary-demo.example.com"],
        },
    )
    assert response.status_code == 302


def test_demo_passwords_are_generated_per_account_and_printed_once(runner):
    first = runner.invoke(args=["seed-demo"])
    passwords = printed_passwords(first.output)
    assert len(passwords) == 4 and len(set(passwords.values())) == 4
    assert all(len(p) >= 16 for p in passwords.values())
    staff = db.session.scalar(select(User).where(User.email.startswith("staff@")))
    assert staff.check_password(passwords[staff.email])
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and printed_passwords(second.output) == {}


def test_demo_password_from_the_option_or_the_environment(runner):
    result = runner.invoke(args=["seed-demo"], env={"PORTAL_DEMO_PASSWORD": "a-chosen-one-42"})
    assert result.exit_code == 0, result.output
    assert set(printed_passwords(result.output).values()) == {"a-chosen-one-42"}
    staff = db.session.scalar(select(User).where(User.email.startswith("staff@")))
    assert staff.check_password("a-chosen-one-42")


def test_seed_demo_refuses_a_database_with_real_accounts_unless_forced(runner):
    runner.invoke(
        args=[
            "create-user",
            "real@example.com",
            "--name",
            "Real Person",
            "--password",
            "pw-123456-ok",
        ]
    )
    before = counts()
    refused = runner.invoke(args=["seed-demo"])
    assert refused.exit_code != 0
    assert "not demo accounts" in refused.output and "--force" in refused.output
    assert counts() == before
    forced = runner.invoke(args=["seed-demo", "--force", "--password", "forced-pass-123"])
    assert forced.exit_code == 0, forced.output
    assert counts()[0] == before[0] + 4


def test_create_user_with_role_and_password_option(runner):
    result = runner.invoke(
        args=[
            "create-user",
            "New@Example.com",
            "--role",
            "staff",
            "--name",
            "Nia Staff",
            "--password",
            "s3cret-enough",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "new@example.com"))
    assert user.role.value == "staff"
    assert user.check_password("s3cret-enough")
    assert user.password_hash != "s3cret-enough"


def test_create_user_asks_for_a_name_and_refuses_a_blank_one(runner):
    prompted = runner.invoke(
        args=["create-user", "c@example.com", "--password", "pw-123456-ok"], input="Cleo Client\n"
    )
    assert prompted.exit_code == 0, prompted.output
    assert "Full name" in prompted.output
    assert db.session.scalar(select(User.name).where(User.email == "c@example.com")) == (
        "Cleo Client"
    )
    blank = runner.invoke(
        args=["create-user", "d@example.com", "--name", "  ", "--password", "pw-123456-ok"]
    )
    assert blank.exit_code != 0 and "Give the person's name" in blank.output
    assert db.session.scalar(select(User.id).where(User.email == "d@example.com")) is None


def test_create_user_refuses_a_duplicate_and_a_bad_timezone(runner):
    named = ["--name", "Ada Example", "--password", "pw-123456-ok"]
    runner.invoke(args=["create-user", "a@example.com", *named])
    duplicate = runner.invoke(args=["create-user", "A@example.com", *named])
    assert duplicate.exit_code != 0 and "already has an account" in duplicate.output
    bad_zone = runner.invoke(
        args=["create-user", "b@example.com", *named, "--timezone", "Mars/Olympus"]
    )
    assert bad_zone.exit_code != 0 and "Unknown timezone" in bad_zone.output
    assert db.session.scalar(select(func.count(User.id))) == 1


def add_processed_events(**ages_in_days: int) -> None:
    now = utcnow()
    db.session.add_all(
        ProcessedRoomEvent(
            event_id=f"EV_{name}",
            event="room_started",
            room_name="room",
            processed_at=now - timedelta(days=days),
            applied_at=now - timedelta(days=days),
        )
        for name, days in ages_in_days.items()
    )
    db.session.commit()


def test_prune_room_events_reports_what_it_removed(app, runner):
    add_processed_events(old=45, new=1)

    result = runner.invoke(args=["prune-room-events"])

    assert result.exit_code == 0, result.output
    assert result.output == "removed 1 processed room event id(s) older than 30 day(s)\n"
    assert set(db.session.scalars(select(ProcessedRoomEvent.event_id))) == {"EV_new"}
    again = runner.invoke(args=["prune-room-events"])
    assert "removed 0 processed room event id(s)" in again.output


def test_prune_room_events_refuses_a_retention_under_a_day(app, runner):
    app.config["PORTAL_ROOM_EVENT_RETENTION_DAYS"] = 0

    result = runner.invoke(args=["prune-room-events"])

    assert result.exit_code != 0
    assert "PORTAL_ROOM_EVENT_RETENTION_DAYS must be at least 1" in result.output


class TestRetentionFromTheEnvironment:
    @pytest.fixture
    def app_config(self, monkeypatch):
        # Set the way an operator sets it: in the environment the config is read from.
        monkeypatch.setenv("PORTAL_ROOM_EVENT_RETENTION_DAYS", "7")
        return {}

    def test_prune_room_events_uses_it(self, app, runner):
        add_processed_events(week_old=8, days_old=6)

        result = runner.invoke(args=["prune-room-events"])

        assert "removed 1 processed room event id(s) older than 7 day(s)" in result.output
        assert set(db.session.scalars(select(ProcessedRoomEvent.event_id))) == {"EV_days_old"}


def test_expire_holds_reports_what_it_released(runner):
    result = runner.invoke(args=["expire-holds"])
    assert result.exit_code == 0
    assert "released 0 booking(s)" in result.output


class TestDevServer:
    """`flask --app portal dev`: messages link to the address the server was given."""

    @pytest.fixture
    def started(self, app, runner, monkeypatch):
        """Run `dev` with its server and worker process replaced by recorders."""
        started = {}

        class Child:
            def __init__(self, args, env):
                started["worker_env"] = env

            def terminate(self):
                pass

            def wait(self, timeout):
                pass

        def run_simple(host, port, served_app, **options):
            started["served"] = (host, port, served_app.config["PORTAL_BASE_URL"])

        monkeypatch.setattr(worker, "run_simple", run_simple)
        monkeypatch.setattr(worker.subprocess, "Popen", Child)
        monkeypatch.setattr(worker.signal, "signal", lambda *args: None)
        monkeypatch.delenv("PORTAL_BASE_URL", raising=False)

        def start(*args: str):
            result = runner.invoke(args=["dev", *args])
            assert result.exit_code == 0, result.output
            return started

        return start

    def test_links_go_to_the_port_it_serves(self, app, started, caplog):
        run = started("--port", "5123")
        assert run["served"] == ("127.0.0.1", 5123, "http://127.0.0.1:5123")
        assert run["worker_env"]["PORTAL_BASE_URL"] == "http://127.0.0.1:5123"
        with app.app_context():
            assert external_url("auth.login") == "http://127.0.0.1:5123/auth/login"
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

    def test_an_address_it_is_not_reached_at_is_warned_of(self, app, started, caplog, monkeypatch):
        monkeypatch.setenv("PORTAL_BASE_URL", "http://127.0.0.1:5000")
        run = started("--port", "5123")
        assert run["worker_env"]["PORTAL_BASE_URL"] == "http://127.0.0.1:5000"
        (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert "http://127.0.0.1:5123" in warning and "http://127.0.0.1:5000" in warning
        caplog.clear()
        client = app.test_client()
        client.get("/", base_url="http://localhost:5123")
        client.get("/", base_url="http://localhost:5123")
        (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert "came to localhost:5123" in warning
