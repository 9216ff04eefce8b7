"""Accounts through HTTP: sign-up and verification, password reset, email change,
invitations, deactivation, and the answers that must not tell who has an account."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from portal import accounts, api_tokens, booking
from portal.calendar_feeds import feed_of, rotate_feed
from portal.extensions import db
from portal.models import (
    Notification,
    NotificationKind,
    NotificationStatus,
    Order,
    Role,
    User,
)
from portal.notifications.outbox import LINK_WITHHELD
from tests.fixtures.client_portal import day_at
from tests.fixtures.factories import PASSWORD, make_service, make_user
from tests.fixtures.security import browser, sign_in

NEW_PASSWORD = "tidal-basin-47-heron"


@pytest.fixture
def app_config(smtp_server):
    return smtp_server.config


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sign_up(client, email: str, path: str = "/signup", **extra):
    data = {
        "name": "Nia Newcomer",
        "email": email,
        "password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
        "timezone": "Europe/Lisbon",
        **extra,
    }
    return client.post(path, data=data)


def signed_in_name(client) -> str | None:
    page = client.get("/").get_data(as_text=True)
    found = re.search(r'<span class="who">([^·<]+)·', page)
    return found.group(1).strip() if found else None


# -- sign-up and verification ---------------------------------------------------------------


def test_sign_up_then_the_emailed_link_confirms_and_signs_in(app, mailbox):
    visitor = browser(app)
    response = sign_up(visitor, "Nia@Example.com", path="/signup?next=/book/")
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    user = accounts.find_user_by_email("nia@example.com")
    assert user.email == "nia@example.com" and user.role == Role.CLIENT
    assert not user.email_verified and user.timezone == "Europe/Lisbon"
    assert signed_in_name(visitor) is None

    link = path_of(mailbox.link("nia@example.com"))
    assert mailbox.last("nia@example.com")["Subject"] == "Confirm your email address"
    # Opening the link changes nothing (mail scanners open links); the button does.
    assert "Confirm" in visitor.get(link).get_data(as_text=True)
    db.session.refresh(user)
    assert not user.email_verified

    confirmed = visitor.post(link)
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/book/"
    db.session.refresh(user)
    assert user.email_verified
    assert signed_in_name(visitor) == "Nia Newcomer"

    again = browser(app).get(link)
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)


def test_an_account_keeps_the_language_its_browser_signed_up_in(app, mailbox):
    """No browser asks for an email's language: the account's sign-up does, once (#24)."""
    spanish = browser(app)
    spanish.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-ES,es;q=0.9,en;q=0.5"
    page = sign_up(spanish, "lucia@example.com").get_data(as_text=True)
    assert "Revisa tu correo" in page and '<html lang="es"' in page
    assert accounts.find_user_by_email("lucia@example.com").locale == "es_ES"
    assert mailbox.last("lucia@example.com")["Subject"] == "Confirma tu dirección de correo"
    assert "Confirma que lucia@example.com es tuya" in mailbox.text("lucia@example.com")
    html = mailbox.last("lucia@example.com").get_body(("html",)).get_content()
    assert '<html lang="es">' in html

    sign_up(browser(app), "nia@example.com")  # a browser that asks for nothing
    assert accounts.find_user_by_email("nia@example.com").locale is None
    assert mailbox.last("nia@example.com")["Subject"] == "Confirm your email address"


def test_sign_up_with_an_existing_address_tells_its_owner_not_the_form(app, mailbox, client_user):
    response = sign_up(browser(app), client_user.email.upper())
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    count = select(func.count(User.id)).where(func.lower(User.email) == client_user.email)
    assert db.session.scalar(count) == 1
    notice = mailbox.last(client_user.email)
    assert notice["Subject"] == "Signing up to Estuary"
    assert "already has an account" in mailbox.text(client_user.email)
    assert path_of(mailbox.link(client_user.email)) == "/reset-password"


def test_a_time_taken_while_the_visitor_signs_up_says_so_with_the_picker_and_no_order(
    app, mailbox, practitioner
):
    service = make_service(practitioner, name="Consultation")
    start = day_at(4, 10)
    choice = f"/book/services/{service.id}/confirm?{urlencode({'start': start.isoformat()})}"
    visitor = browser(app)
    assert "/auth/login" in visitor.get(choice).headers["Location"]
    sign_up(visitor, "nia@example.com", path=f"/signup?{urlencode({'next': choice})}")

    booking.book_individual_session(make_user(), service, start)  # someone else is quicker

    confirmed = visitor.post(path_of(mailbox.link("nia@example.com")))
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == choice
    back = visitor.get(choice)
    assert back.status_code == 409
    assert "That time is no longer free; please pick another." in back.text
    assert 'id="slot-picker"' in back.text
    nia = accounts.find_user_by_email("nia@example.com")
    assert db.session.scalars(select(Order).where(Order.user_id == nia.id)).all() == []


def test_sign_up_refuses_a_weak_password_and_an_unknown_timezone(app, mailbox):
    visitor = browser(app)
    weak = sign_up(
        visitor, "w@example.com", password="aaaaaaaaaaaa", confirm_password="aaaaaaaaaaaa"
    )
    assert "too repetitive" in weak.get_data(as_text=True)
    common = sign_up(visitor, "w@example.com", password="tinkerbell", confirm_password="tinkerbell")
    assert "most common" in common.get_data(as_text=True)
    zone = sign_up(visitor, "w@example.com", timezone="Mars/Olympus")
    assert "Not a valid choice" in zone.get_data(as_text=True)
    assert accounts.find_user_by_email("w@example.com") is None
    assert mailbox.messages() == []


def test_the_sign_up_page_pre_selects_the_browser_zone_by_script_only(app):
    page = browser(app).get("/signup").get_data(as_text=True)
    assert 'data-browser-timezone="unchosen"' in page
    assert '<option selected value="UTC">' in page
    assert "/static/js/timezone.js" in page


def _answer_shape(response, email: str) -> tuple[int, bytes]:
    body = response.get_data().replace(email.encode(), b"ADDRESS")
    # The session's CSRF token differs between any two visitors; nothing else may.
    body = re.sub(rb'"X-CSRFToken": "[^"]+"', b"", body)
    return response.status_code, body


def _outbox_rows() -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).order_by(Notification.id)))


@pytest.mark.parametrize(
    "form, known_kind, unknown_kind",
    [
        ("signup", NotificationKind.SIGNUP_EXISTING, NotificationKind.ACCOUNT_VERIFICATION),
        ("reset", NotificationKind.PASSWORD_RESET, NotificationKind.PASSWORD_RESET),
    ],
)
def test_sign_up_and_reset_answer_alike_for_known_and_unknown_addresses(
    app, smtp_server, mailbox, form, known_kind, unknown_kind
):
    """The same page byte for byte (the typed address aside), and the same work in the
    request: one outbox row either way, and no mail rendered, sent or written to a file
    there; the worker decides what goes out. How long each takes is measured by
    bench/accounts_enumeration.py, not here."""
    known, unknown = make_user().email, "nobody@example.com"
    visitor = browser(app)

    def send(email):
        if form == "signup":
            return sign_up(visitor, email)
        return visitor.post("/reset-password", data={"email": email})

    answers = {}
    for email in (known, unknown):
        answers[email] = _answer_shape(send(email), email)
        assert answers[email][0] == 200
        # The request wrote a row and nothing else: no mail reached the server or the disk.
        assert smtp_server.messages == []
        assert not Path(app.config["PORTAL_MAIL_OUTBOX_DIR"]).exists()
    assert answers[known] == answers[unknown]
    written = {(r.address, r.kind, r.status) for r in _outbox_rows()}
    assert written == {
        (known, known_kind, NotificationStatus.PENDING),
        (unknown, unknown_kind, NotificationStatus.PENDING),
    }

    # Once the worker delivers, the account's owner has the link.
    expected = "/reset-password" if form == "signup" else "/reset-password/"
    assert path_of(mailbox.link(known)).startswith(expected)
    assert len(mailbox.messages(known)) == 1
    if form == "reset":  # and nobody else has anything
        assert mailbox.messages(unknown) == []
        (row,) = [r for r in _outbox_rows() if r.address == unknown]
        assert (row.status, row.last_error) == (
            NotificationStatus.SKIPPED,
            "no account has this address",
        )


def test_a_reset_for_a_deactivated_account_sends_nothing(app, mailbox, client_user):
    accounts.deactivate_user(client_user)
    response = browser(app).post("/reset-password", data={"email": client_user.email})
    assert response.status_code == 200 and "Check your email" in response.text
    assert mailbox.messages() == []
    (row,) = _outbox_rows()
    assert (row.status, row.last_error) == (
        NotificationStatus.SKIPPED,
        "the account is deactivated",
    )


def test_staff_see_account_mail_in_the_outbox_without_its_link(
    app, mailbox, client_user, staff_user, caplog
):
    caplog.set_level(logging.INFO)
    link = request_reset(app, mailbox, client_user)
    token = link.rsplit("/", 1)[1]
    (row,) = _outbox_rows()
    assert row.status == NotificationStatus.SENT

    staff = sign_in(app, staff_user)
    listing = staff.get("/staff/outbox/").get_data(as_text=True)
    assert client_user.email in listing and "password reset" in listing
    page = staff.get(f"/staff/outbox/{row.id}").get_data(as_text=True)
    assert "Reset your password" in page and LINK_WITHHELD in page
    assert token not in page
    # Nor does the link reach the logs, which more people read than the recipient.
    assert token not in caplog.text
    # The recipient's copy has it, and it works.
    assert "Choose a new password" in browser(app).get(link).get_data(as_text=True)


# -- #18: taking an address back from whoever signed up with it first ------------------------


def test_whoever_signs_up_first_with_an_address_keeps_nothing_its_owner_does_not_give(
    app, mailbox, staff_user
):
    squatter = browser(app)
    sign_up(squatter, "owner@example.com")
    squatter.post("/auth/login", data={"email": "owner@example.com", "password": NEW_PASSWORD})
    # Keys that would outlive the owner's password reset: refused while the address is
    # unconfirmed.
    made = squatter.post("/settings/tokens/", data={"name": "waiting"})
    assert made.status_code == 200 and "Confirm your email address first" in made.text
    feed = squatter.post("/feeds/rotate", follow_redirects=True)
    assert "Confirm your email address first" in feed.text
    account = accounts.find_user_by_email("owner@example.com")
    assert api_tokens.tokens_of(account) == [] and feed_of(account) is None

    # The owner follows the verification link in their own browser: no sign-in to an
    # account whose password they did not choose, and no confirming it for the squatter.
    owner = browser(app)
    link = path_of(mailbox.link("owner@example.com"))
    followed = owner.post(link)
    assert followed.status_code == 302 and followed.headers["Location"].startswith("/auth/login")
    assert signed_in_name(owner) is None
    db.session.refresh(account)
    assert not account.email_verified

    # The documented way out: a reset. The squatter is out; the owner is in, confirmed.
    choose(owner, request_reset(app, mailbox, account), "owner-chose-this-one-42")
    assert signed_in_name(owner) == "Nia Newcomer"
    assert signed_in_name(squatter) is None
    assert "Your password was changed" in mailbox.last("owner@example.com")["Subject"]


def test_a_password_reset_ends_the_tokens_and_feed_made_before_and_lists_them(
    app, mailbox, client_user, practitioner
):
    _token, raw = api_tokens.issue_token(client_user, "calendar sync")
    feed = rotate_feed(client_user)
    bearer = {"Authorization": f"Bearer {raw}"}
    assert browser(app).get("/api/v1/services/", headers=bearer).status_code == 200

    choose(browser(app), request_reset(app, mailbox, client_user))

    assert browser(app).get("/api/v1/services/", headers=bearer).status_code == 401
    service = make_service(practitioner, name="Consultation")
    bought = browser(app).post(
        "/api/v1/orders",
        json={"service_id": service.id, "start_time": day_at(3, 10).isoformat()},
        headers=bearer,
    )
    assert bought.status_code == 401
    assert browser(app).get(f"/feeds/{feed}.ics").status_code == 404
    notice = mailbox.text(client_user.email)
    assert "API token “calendar sync”" in notice and "calendar feed" in notice
    assert mailbox.last(client_user.email)["Subject"] == "Your password was changed"


def test_an_email_change_tells_the_old_address_which_can_put_it_back(app, mailbox, client_user):
    old = client_user.email
    owner = sign_in(app, client_user)
    owner.post("/settings/email", data={"email": "z@example.com", "current_password": PASSWORD})
    to_z = path_of(mailbox.link("z@example.com"))
    assert browser(app).post(to_z).status_code == 302
    # Back to the old address, by the book.
    again = sign_in(app, client_user)
    again.post("/settings/email", data={"email": old, "current_password": PASSWORD})
    assert browser(app).post(path_of(mailbox.link(old))).status_code == 302
    db.session.refresh(client_user)
    assert client_user.email == old

    # The first link, once used, stays used although the address it was bound to is back.
    replay = browser(app).post(to_z)
    assert replay.status_code == 400 and "already been used" in replay.text
    db.session.refresh(client_user)
    assert client_user.email == old

    told = [m for m in mailbox.messages(old) if m["Subject"] == "Your email address was changed"]
    assert len(told) == 1 and "z@example.com" in told[0].get_body(("plain",)).get_content()


# -- password reset -------------------------------------------------------------------------


def request_reset(app, mailbox, user) -> str:
    response = browser(app).post("/reset-password", data={"email": user.email})
    assert response.status_code == 200
    return path_of(mailbox.link(user.email))


def choose(client, link: str, password: str = NEW_PASSWORD):
    return client.post(link, data={"password": password, "confirm_password": password})


def test_password_reset_end_to_end_and_the_link_works_once(app, mailbox, client_user):
    signed_in_before = sign_in(app, client_user)
    link = request_reset(app, mailbox, client_user)
    assert mailbox.last(client_user.email)["Subject"] == "Reset your password"

    visitor = browser(app)
    assert "Choose a new password" in visitor.get(link).get_data(as_text=True)
    weak = choose(visitor, link, "1234567890")
    assert weak.status_code == 200 and "too repetitive" in weak.get_data(as_text=True)
    done = choose(visitor, link)
    assert done.status_code == 302
    assert signed_in_name(visitor) == client_user.name
    db.session.refresh(client_user)
    assert client_user.check_password(NEW_PASSWORD)
    # The sessions signed in with the old password have ended.
    assert signed_in_name(signed_in_before) is None

    for reuse in (browser(app).get(link), choose(browser(app), link, "another-fine-passphrase")):
        assert reuse.status_code == 400
        assert "already been used" in reuse.get_data(as_text=True)
    db.session.refresh(client_user)
    assert client_user.check_password(NEW_PASSWORD)


def test_an_expired_reset_link_is_refused(app, mailbox, client_user, monkeypatch):
    link = request_reset(app, mailbox, client_user)
    lifetime = app.config["PORTAL_PASSWORD_RESET_MAX_AGE"]
    later = time.time() + lifetime + 5
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    for response in (browser(app).get(link), choose(browser(app), link)):
        assert response.status_code == 400
        assert "expired" in response.get_data(as_text=True)
    db.session.refresh(client_user)
    assert client_user.check_password(PASSWORD)


def test_a_reset_link_dies_when_the_password_changes(app, mailbox, client_user):
    link = request_reset(app, mailbox, client_user)
    accounts.change_password(client_user, "changed-in-between-77")
    response = choose(browser(app), link)
    assert response.status_code == 400
    assert "already been used, or the account changed" in response.get_data(as_text=True)
    db.session.refresh(client_user)
    assert client_user.check_password("changed-in-between-77")


def test_a_tampered_reset_link_is_refused(app, mailbox, client_user):
    link = request_reset(app, mailbox, client_user)
    response = browser(app).get(link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB"))
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


# -- profile and email change -----------------------------------------------------------------


def test_profile_changes_name_and_timezone(app, client_user):
    owner = sign_in(app, client_user)
    page = owner.get("/settings/profile").get_data(as_text=True)
    assert "/auth/password" in page
    response = owner.post(
        "/settings/profile", data={"name": "Renamed Person", "timezone": "Asia/Tokyo"}
    )
    assert response.status_code == 302
    db.session.refresh(client_user)
    assert (client_user.name, client_user.timezone) == ("Renamed Person", "Asia/Tokyo")


@pytest.mark.parametrize(
    ("given", "stored"), [("US/Eastern", "America/New_York"), ("Factory", None)]
)
def test_a_profile_zone_is_stored_canonical_and_a_raw_key_is_refused(
    app, client_user, given, stored
):
    owner = sign_in(app, client_user)
    response = owner.post("/settings/profile", data={"name": client_user.name, "timezone": given})
    db.session.refresh(client_user)
    if stored is None:
        assert response.status_code == 200 and 'id="timezone-error"' in response.text
        assert client_user.timezone == "Europe/London"
    else:
        assert response.status_code == 302 and client_user.timezone == stored


def test_the_accounts_refuse_a_zone_no_one_lives_in(app, client_user):
    with pytest.raises(booking.InvalidInput):
        accounts.update_profile(client_user, client_user.name, "Factory")
    db.session.rollback()
    accounts.update_profile(client_user, client_user.name, "Asia/Calcutta")
    assert client_user.timezone == "Asia/Kolkata"


def test_an_email_change_takes_effect_only_through_the_link(app, mailbox, client_user):
    owner = sign_in(app, client_user)
    old = client_user.email
    wrong = owner.post(
        "/settings/email", data={"email": "moved@example.com", "current_password": "nope"}
    )
    assert "not your current password" in wrong.get_data(as_text=True)
    asked = owner.post(
        "/settings/email", data={"email": "Moved@Example.com", "current_password": PASSWORD}
    )
    assert asked.status_code == 302
    db.session.refresh(client_user)
    assert client_user.email == old
    link = path_of(mailbox.link("moved@example.com"))

    assert "moved@example.com" in browser(app).get(link).get_data(as_text=True)
    assert browser(app).post(link).status_code == 302
    db.session.refresh(client_user)
    assert client_user.email == "moved@example.com" and client_user.email_verified
    assert browser(app).post(link).status_code == 400


def test_an_email_change_to_a_taken_address_sends_no_link_and_says_the_same(
    app, mailbox, client_user
):
    taken = make_user().email
    owner = sign_in(app, client_user)
    asked = owner.post("/settings/email", data={"email": taken, "current_password": PASSWORD})
    assert asked.status_code == 302
    assert mailbox.messages() == []
    db.session.refresh(client_user)
    assert client_user.email != taken


def test_an_unconfirmed_client_can_ask_for_the_link_again(app, mailbox):
    user = accounts.sign_up("late@example.com", "Late", NEW_PASSWORD, "UTC")
    client = browser(app)
    client.post("/auth/login", data={"email": user.email, "password": NEW_PASSWORD})
    assert "not confirmed yet" in client.get("/settings/profile").get_data(as_text=True)
    assert client.post("/settings/verify-email").status_code == 302
    assert len(mailbox.messages("late@example.com")) == 2
    assert client.post(path_of(mailbox.link("late@example.com"))).status_code == 302
    db.session.refresh(user)
    assert user.email_verified


# -- staff: invitations and deactivation --------------------------------------------------------


def test_staff_invite_a_practitioner_who_chooses_a_password(app, mailbox, staff_user):
    staff = sign_in(app, staff_user)
    response = staff.post(
        "/staff/users/invite",
        data={
            "name": "Ines Invited",
            "email": "ines@example.com",
            "role": "practitioner",
            "timezone": "Europe/Lisbon",
        },
    )
    assert response.status_code == 302
    invitee = accounts.find_user_by_email("ines@example.com")
    assert invitee.role == Role.PRACTITIONER and invitee.invitation_pending
    assert "Invited" in staff.get("/staff/users/").get_data(as_text=True)
    first_link = path_of(mailbox.link("ines@example.com"))
    assert f"{staff_user.name} invited you" in mailbox.text("ines@example.com")

    # Sent again: the first link no longer works.
    assert staff.post(f"/staff/users/{invitee.id}/resend-invitation").status_code == 302
    second_link = path_of(mailbox.link("ines@example.com"))
    assert choose(browser(app), first_link).status_code == 400

    invited = browser(app)
    assert "Welcome to Estuary, Ines Invited" in invited.get(second_link).get_data(as_text=True)
    assert choose(invited, second_link).status_code == 302
    assert signed_in_name(invited) == "Ines Invited"
    db.session.refresh(invitee)
    assert not invitee.invitation_pending and invitee.email_verified
    assert choose(browser(app), second_link).status_code == 400


def test_deactivation_ends_sessions_tokens_and_feed_at_once(app, staff_user, client_user):
    session = sign_in(app, client_user)
    _token, raw = api_tokens.issue_token(client_user, "script")
    feed = rotate_feed(client_user)
    bearer = {"Authorization": f"Bearer {raw}"}
    assert session.get("/bookings/").status_code == 200
    assert browser(app).get("/api/v1/services/", headers=bearer).status_code == 200
    assert browser(app).get(f"/feeds/{feed}.ics").status_code == 200

    staff = sign_in(app, staff_user)
    assert staff.post(f"/staff/users/{client_user.id}/deactivate").status_code == 302

    assert session.get("/bookings/").status_code == 302
    assert signed_in_name(session) is None
    assert browser(app).get("/api/v1/services/", headers=bearer).status_code == 401
    assert browser(app).get(f"/feeds/{feed}.ics").status_code == 404
    refused = browser(app).post(
        "/auth/login", data={"email": client_user.email, "password": PASSWORD}
    )
    assert "deactivated" in refused.get_data(as_text=True)

    assert staff.post(f"/staff/users/{client_user.id}/reactivate").status_code == 302
    assert sign_in(app, client_user).get("/bookings/").status_code == 200


def test_staff_cannot_deactivate_themselves(app, staff_user):
    staff = sign_in(app, staff_user)
    response = staff.post(f"/staff/users/{staff_user.id}/deactivate", follow_redirects=True)
    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    db.session.refresh(staff_user)
    assert staff_user.is_active


# -- operator commands ---------------------------------------------------------------------------


def test_operator_commands_list_invite_deactivate_and_reactivate(app, runner, mailbox):
    invited = runner.invoke(args=["invite-user", "Op@Example.com", "--role", "staff"])
    assert invited.exit_code == 0, invited.output
    link = mailbox.link("op@example.com")
    # No request to take a host from: the link is built on PORTAL_BASE_URL.
    assert link.startswith(app.config["PORTAL_BASE_URL"] + "/invitation/")
    listed = runner.invoke(args=["list-users"])
    assert re.search(r"staff\s+invited\s+op@example.com", listed.output), listed.output

    assert runner.invoke(args=["deactivate-user", "op@example.com"]).exit_code == 0
    assert "deactivated  op@example.com" in runner.invoke(args=["list-users"]).output
    assert runner.invoke(args=["reactivate-user", "OP@example.com"]).exit_code == 0
    assert accounts.find_user_by_email("op@example.com").is_active
    missing = runner.invoke(args=["deactivate-user", "nobody@example.com"])
    assert missing.exit_code != 0 and "no account" in missing.output
    weak = runner.invoke(
        args=[
            "create-user",
            "w@example.com",
            "--name",
            "Weak Password",
            "--password",
            "aaaaaaaaaaaa",
        ]
    )
    assert weak.exit_code != 0 and "too repetitive" in weak.output
