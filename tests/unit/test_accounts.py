"""Account operations without HTTP: the password policy, the one-time links, the
database's one-account-per-address rule, and who a waitlist passes over."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal import accounts, api_tokens, booking
from portal.accounts.tokens import Purpose, make_token
from portal.calendar_feeds import owner_of, rotate_feed
from portal.extensions import db
from portal.models import (
    ApiToken,
    Booking,
    CalendarFeed,
    Notification,
    NotificationKind,
    Role,
    User,
    WaitlistStatus,
    WebhookEndpoint,
)
from portal.webhooks_out.endpoints import register_endpoint
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


# -- #18: guessable passwords, credentials that outlive a password, links that come back --------


@pytest.mark.parametrize("password", ["P@ssw0rd!!", "Summer2024!", "letmein123", "Estuary2026"])
def test_the_policy_refuses_common_passwords_with_small_changes(password):
    assert "too easy to guess" in accounts.password_problem(password)


@pytest.mark.parametrize("password", ["newcomer2024", "Newcomer1990!", "tidalbasin12"])
def test_the_policy_refuses_a_password_made_of_the_persons_name_or_address(password):
    person = {"name": "Nia Newcomer", "email": "nia.newcomer@tidalbasin.org"}
    assert accounts.password_problem(password) is None
    assert "too easy to guess" in accounts.password_problem(password, **person)


def test_every_path_measures_the_password_against_the_accounts_own_name(app):
    nia = accounts.create_user("nia.newcomer@tidalbasin.org", "Nia Newcomer", Role.CLIENT, GOOD)
    with pytest.raises(booking.InvalidInput, match="too easy to guess"):
        accounts.change_password(nia, "newcomer2024")
    token = make_token(Purpose.PASSWORD_RESET, nia.id, nia.password_fingerprint)
    with pytest.raises(booking.InvalidInput, match="too easy to guess"):
        accounts.reset_password(token, "Newcomer1990!")
    with pytest.raises(booking.InvalidInput, match="too easy to guess"):
        accounts.sign_up("nia@tidalbasin.org", "Nia Newcomer", "newcomer2024", "UTC")
    with pytest.raises(booking.InvalidInput, match="too easy to guess"):
        accounts.create_user("op@tidalbasin.org", "Op Erator", Role.STAFF, "tidalbasin12")
    db.session.refresh(nia)
    assert nia.check_password(GOOD)
    assert accounts.find_user_by_email("nia@tidalbasin.org") is None


def test_an_unconfirmed_account_creates_no_token_feed_or_webhook_endpoint(app):
    unconfirmed = accounts.sign_up("squatter@example.com", "Squatter", GOOD, "UTC")
    with pytest.raises(booking.AddressNotConfirmed):
        api_tokens.issue_token(unconfirmed, "waiting")
    with pytest.raises(booking.AddressNotConfirmed):
        rotate_feed(unconfirmed)
    unconfirmed.role = Role.PRACTITIONER
    db.session.commit()
    with pytest.raises(booking.AddressNotConfirmed):
        register_endpoint(unconfirmed, "https://127.0.0.1:9/hook", ["booking.created"])
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0
    assert db.session.scalar(select(func.count(CalendarFeed.id))) == 0
    assert db.session.scalar(select(func.count(WebhookEndpoint.id))) == 0


def _notices(kind: NotificationKind) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.kind == kind)))


@pytest.mark.parametrize("route", ["reset", "change"])
def test_a_new_password_revokes_every_token_and_the_feed_and_says_what_went(
    app, client_user, route
):
    kept_from_before, _raw = api_tokens.issue_token(client_user, "old script")
    api_tokens.revoke_token(kept_from_before)
    for name in ("phone sync", "backup"):
        api_tokens.issue_token(client_user, name)
    feed = rotate_feed(client_user)

    if route == "reset":
        token = make_token(Purpose.PASSWORD_RESET, client_user.id, client_user.password_fingerprint)
        accounts.reset_password(token, "another-fine-passphrase")
    else:
        accounts.change_password(client_user, "another-fine-passphrase")

    live = select(ApiToken).where(ApiToken.user_id == client_user.id, ApiToken.revoked_at.is_(None))
    assert db.session.scalars(live).all() == []
    assert owner_of(feed) is None
    (notice,) = _notices(NotificationKind.PASSWORD_CHANGED)
    assert notice.user_id == client_user.id and notice.address == client_user.email
    assert notice.payload["revoked_tokens"] == ["backup", "phone sync"]
    assert notice.payload["feed_retired"] is True
    assert notice.payload["reset"] is (route == "reset")


def _link_token(row: Notification) -> str:
    return row.payload["url"].rsplit("/", 1)[1].split("?")[0]


def test_a_verification_link_confirms_only_for_the_browser_that_signed_up(app):
    """Someone signs up first with another person's address; the owner follows the link
    from their own browser. They must neither land in an account whose password someone
    else chose, nor confirm it for that someone (who could then make API tokens)."""
    squatter = accounts.sign_up("owner@example.com", "Squatter", GOOD, "UTC", browser_key="sq")
    (row,) = _notices(NotificationKind.ACCOUNT_VERIFICATION)
    with pytest.raises(booking.NotPermitted, match="choose a new password"):
        accounts.verify_email(_link_token(row), browser_key="the owner's browser")
    with pytest.raises(booking.NotPermitted):
        accounts.verify_email(_link_token(row), signed_in_as=make_user())
    db.session.refresh(squatter)
    assert not squatter.email_verified


@pytest.mark.parametrize("proof", ["sign-up browser", "signed in"])
def test_the_sign_up_browser_or_the_signed_in_account_confirms(app, proof):
    user = accounts.sign_up("mine@example.com", "Mine", GOOD, "UTC", browser_key="k1")
    (row,) = _notices(NotificationKind.ACCOUNT_VERIFICATION)
    if proof == "sign-up browser":
        assert accounts.verify_email(_link_token(row), browser_key="k1") == user
    else:
        assert accounts.verify_email(_link_token(row), signed_in_as=user) == user
    assert user.email_verified


def _email_change_link(user: User, new_email: str) -> str:
    accounts.request_email_change(user, new_email)
    (row,) = [r for r in _notices(NotificationKind.EMAIL_CHANGE) if r.address == new_email]
    return _link_token(row)


def test_a_used_email_change_link_stays_spent_when_the_address_comes_back(app, client_user):
    original = client_user.email
    to_z = _email_change_link(client_user, "z@example.com")
    accounts.confirm_email_change(to_z)
    back_to_a = _email_change_link(client_user, original)
    accounts.confirm_email_change(back_to_a)
    assert client_user.email == original

    for used in (to_z, back_to_a):
        with pytest.raises(accounts.BadLink) as refused:
            accounts.confirm_email_change(used)
        assert refused.value.problem == accounts.LinkProblem.USED
    db.session.refresh(client_user)
    assert client_user.email == original


def test_the_old_address_is_told_and_can_take_the_account_back_once(app, client_user):
    original = client_user.email
    _token, raw = api_tokens.issue_token(client_user, "script")
    accounts.confirm_email_change(_email_change_link(client_user, "thief@example.com"))
    # Whoever changed it moves on again, so the first change's way back must still work.
    accounts.confirm_email_change(_email_change_link(client_user, "thief2@example.com"))

    told = {row.address: row for row in _notices(NotificationKind.EMAIL_CHANGED)}
    assert set(told) == {original, "thief@example.com"}
    assert told[original].payload["new_email"] == "thief@example.com"
    restore = _link_token(told[original])

    accounts.restore_email(restore)
    db.session.refresh(client_user)
    assert client_user.email == original and client_user.email_verified
    assert api_tokens.user_for_token(raw) is None
    with pytest.raises(accounts.BadLink):
        accounts.restore_email(restore)
    later = _link_token(told["thief@example.com"])
    with pytest.raises(accounts.BadLink):
        accounts.restore_email(later)
    db.session.refresh(client_user)
    assert client_user.email == original
