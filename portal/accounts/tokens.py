"""Signed, time-limited links for account emails (itsdangerous, one salt per purpose).

A token carries the user's id and a binding to the state it was issued for: the
password's fingerprint for a reset or an invitation, the address and its version (a
counter bumped on every change) for a verification or an email change, the version a
change produced for the old address's way back. Once that state moves on (the password
is set, the address verified or changed) the binding no longer matches and the link is
spent for good, even if the address comes back: single use without a table of used
tokens.
"""

from __future__ import annotations

from enum import StrEnum

from flask import current_app
from flask_babel import gettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class Purpose(StrEnum):
    VERIFY_EMAIL = "verify-email"
    PASSWORD_RESET = "password-reset"
    INVITATION = "invitation"
    EMAIL_CHANGE = "email-change"
    EMAIL_RESTORE = "email-restore"


# Config key of each purpose's lifetime, in seconds.
MAX_AGE_SETTINGS = {
    Purpose.VERIFY_EMAIL: "PORTAL_VERIFY_EMAIL_MAX_AGE",
    Purpose.PASSWORD_RESET: "PORTAL_PASSWORD_RESET_MAX_AGE",
    Purpose.INVITATION: "PORTAL_INVITATION_MAX_AGE",
    Purpose.EMAIL_CHANGE: "PORTAL_VERIFY_EMAIL_MAX_AGE",
    Purpose.EMAIL_RESTORE: "PORTAL_EMAIL_RESTORE_MAX_AGE",
}


class LinkProblem(StrEnum):
    EXPIRED = "expired"
    INVALID = "invalid"
    USED = "used"

    @property
    def message(self) -> str:
        return {
            LinkProblem.EXPIRED: gettext("This link has expired. Ask for a new one."),
            LinkProblem.INVALID: gettext(
                "This link is not valid. Check that you copied all of it."
            ),
            LinkProblem.USED: gettext(
                "This link has already been used, or the account changed since it was sent. "
                "Ask for a new one if you still need it."
            ),
        }[self]


class BadLink(Exception):
    def __init__(self, problem: LinkProblem):
        super().__init__(problem.message)
        self.problem = problem


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"portal.accounts.{purpose}"
    )


def make_token(purpose: Purpose, user_id: int, binding: str, **extra: str) -> str:
    return _serializer(purpose).dumps({"uid": user_id, "bind": binding, **extra})


def read_token(purpose: Purpose, token: str) -> dict:
    """The payload (uid, bind, extras) of a token this app signed for `purpose`, still
    within its age."""
    max_age = int(current_app.config[MAX_AGE_SETTINGS[purpose]])
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise BadLink(LinkProblem.EXPIRED) from exc
    except BadSignature as exc:
        raise BadLink(LinkProblem.INVALID) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("uid"), int):
        raise BadLink(LinkProblem.INVALID)
    return payload
