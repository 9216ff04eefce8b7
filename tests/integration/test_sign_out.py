"""Signing out ends the sign-in on the server: cookies copied before are refused after."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import SignIn
from tests.fixtures.factories import PASSWORD
from tests.fixtures.security import browser, csrf_token_of, sign_in

COOKIES = ("session", "remember_token")


def remembered(app, user):
    client = browser(app)
    response = client.post(
        "/auth/login", data={"email": user.email, "password": PASSWORD, "remember_me": "y"}
    )
    assert response.status_code == 302
    return client


def copy_of(app, client, names=COOKIES):
    """Another browser holding what an attacker captured of `client`'s cookies."""
    thief = browser(app)
    for name in names:
        value = client.get_cookie(name, domain="portal.test").value
        thief.set_cookie(name, value, domain="portal.test")
    return thief


def signed_in(client) -> bool:
    return client.get("/auth/password").status_code == 200


@pytest.mark.parametrize("captured", [("session",), ("remember_token",), COOKIES])
def test_cookies_captured_before_sign_out_are_refused_after(app, client_user, captured):
    client = remembered(app, client_user)
    thief = copy_of(app, client, captured)
    assert signed_in(thief)

    assert client.post("/auth/logout").status_code == 302

    assert not signed_in(thief)


def test_signing_out_ends_only_that_sign_in(app, client_user):
    laptop, phone = remembered(app, client_user), remembered(app, client_user)
    laptop.post("/auth/logout")
    assert not signed_in(laptop) and signed_in(phone)


def test_sign_out_everywhere_ends_every_sign_in(app, client_user, practitioner):
    laptop, phone = remembered(app, client_user), remembered(app, client_user)
    stolen = copy_of(app, phone)
    someone_else = remembered(app, practitioner)

    response = laptop.post("/auth/sign-out-everywhere")

    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert not any(signed_in(c) for c in (laptop, phone, stolen))
    assert signed_in(someone_else)
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 1


def test_password_change_ends_the_other_sign_ins_and_keeps_this_one(app, client_user):
    laptop, phone = remembered(app, client_user), remembered(app, client_user)
    before = copy_of(app, laptop)
    response = laptop.post(
        "/auth/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a-new-password",
            "confirm_password": "a-new-password",
        },
    )
    assert response.status_code == 302
    assert signed_in(laptop) and signed_in(copy_of(app, laptop, ("remember_token",)))
    assert not signed_in(phone) and not signed_in(before)


def test_a_cookie_naming_another_users_sign_in_key_is_refused(app, client_user, practitioner):
    client = remembered(app, client_user)
    with client.session_transaction() as session:
        key = session["_user_id"].partition(".")[2]
        session["_user_id"] = f"{practitioner.id}.{key}"
    client.delete_cookie("remember_token", domain="portal.test")
    assert not signed_in(client)


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_sign_out_everywhere_is_a_csrf_protected_form_on_the_password_page(app, client_user):
    client = sign_in(app, client_user, csrf=True)
    assert client.post("/auth/sign-out-everywhere").status_code == 400
    assert signed_in(client)
    page = client.get("/auth/password").get_data(as_text=True)
    assert 'action="/auth/sign-out-everywhere"' in page
    response = client.post("/auth/sign-out-everywhere", data={"csrf_token": csrf_token_of(page)})
    assert response.status_code == 302
    assert not signed_in(client)
