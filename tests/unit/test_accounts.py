"""Account operations without HTTP: the password policy, the one-time links, the
database's one-account-per-address rule, and who a waitlist passes over."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal import accounts, booking
from portal.accounts.tokens import Purpose, make_token
from portal.extensions import db
from portal.models import Booking, Role, User, WaitlistStatus
from tests.fixtures.client_portal import full_workshop
from tests.fixtures.concurrency import race
from tests.fixtures.factories import make_user

GOOD = "tidal-basin-47-heron"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short-1", "at least 10"),
        ("aaaaaaaaaaaa", "repetitive"),
        ("1234567890", "repetitive"),
        ("9876543210", "repetitive"),
        ("7890123456", "repetitive"),
        ("abcdefghijk", "repetitive"),
        ("abcabcabcabc", "repetitive"),
        ("ab12ab12ab12", "repetitive"),
        ("qwertyuiop", "repetitive"),
        ("tinkerbell", "most common"),
        ("Password123", "most common"),
        ("x" * 201, "at most"),
    ],
)
def test_the_policy_refuses_short_common_and_repetitive_passwords(password, problem):
    assert problem in accounts.password_problem(password)


@pytest.mark.parametrize("password", [GOOD, "correct horse battery", "Maré cheia às 7h"])
def test_the_policy_accepts_a_reasonable_passphrase(password):
    assert accounts.password_problem(password) is None


def test_every_path_that_sets_a_password_applies_the_policy(app, client_user, staff_user):
    weak = "1234567890"
    with pytest.raises(booking.InvalidInput, match="repetitive"):
        accounts.create_user("op@example.com", "Op", Role.STAFF, weak)
    with pytest.raises(booking.InvalidInput, match="repetitive"):
        accounts.sign_up("new@example.com", "New", weak, "UTC")
    with pytest.raises(booking.InvalidInput, match="repetitive"):
        accounts.change_password(client_user, weak)
    accounts.request_password_reset(client_user.email)
    token = make_token(Purpose.PASSWORD_RESET, client_user.id, client_user.password_fingerprint)
    with pytest.raises(booking.InvalidInput, match="repetitive"):
        accounts.reset_password(token, weak)
    invitee = accounts.invite_user("pia@example.com", "Pia", Role.PRACTITIONER)
    token = make_token(Purpose.INVITATION, invitee.id, invitee.password_fingerprint)
    with pytest.raises(booking.InvalidInput, match="repetitive"):
        accounts.accept_invitation(token, weak)
    assert (
        db.session.scalar(select(func.count(User.id)).where(User.email == "new@example.com")) == 0
    )


def test_the_database_refuses_a_second_account_for_an_address_in_another_case(app):
    db.session.add(User(email="ann@example.com", name="Ann", password_hash="x"))
    db.session.commit()
    db.session.add(User(email="ANN@Example.com", name="Ann again", password_hash="x"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.fixture
def app_config():
    # One connection per racer (tests/fixtures/concurrency.py).
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 12, "max_overflow": 0}}


def test_racing_sign_ups_for_one_address_make_one_account(app):
    """Ten sign-ups at once, in different cases: one account; the others are told by email."""
    spellings = [f"{'RACE' if n % 2 else 'race'}@Example.com" for n in range(10)]
    made = []
    lock = threading.Lock()

    def attempt(email):
        def run():
            user = accounts.sign_up(email, "Racer", GOOD, "UTC")
            with lock:
                made.append(user is not None)

        return run

    outcomes = race(app, [attempt(email) for email in spellings])
    assert outcomes == {"ok": 10}
    assert made.count(True) == 1
    count = select(func.count(User.id)).where(func.lower(User.email) == "race@example.com")
    assert db.session.scalar(count) == 1


def test_a_waitlist_passes_over_an_unconfirmed_address(app, practitioner):
    session, (holder,) = full_workshop(practitioner, seats=1)
    unconfirmed = accounts.sign_up("unconfirmed@example.com", "Una", GOOD, "UTC")
    confirmed = make_user()
    first = booking.join_waitlist(unconfirmed, session)
    second = booking.join_waitlist(confirmed, session)
    seat = db.session.scalar(
        select(Booking).where(
            Booking.user_id == holder.id, Booking.service_session_id == session.id
        )
    )

    booking.cancel_booking(seat, holder)

    db.session.refresh(first)
    db.session.refresh(second)
    assert first.status == WaitlistStatus.WAITING
    assert second.status == WaitlistStatus.OFFERED


def test_deactivating_yourself_is_refused(app, staff_user):
    with pytest.raises(booking.InvalidInput, match="your own account"):
        accounts.deactivate_user(staff_user, by=staff_user)
    db.session.refresh(staff_user)
    assert staff_user.is_active
