"""Account operations: each write is one unit of work and logs what it did.

Anything that answers a stranger (sign-up, password reset) does the same work and gives
the same answer whether or not the address has an account; only the email differs, and
only its owner reads it.
"""

from __future__ import annotations

import logging
import secrets
from functools import cache
from zoneinfo import available_timezones

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash

from .. import audit
from ..core.errors import InvalidInput
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..l10n import SUPPORTED_LOCALES
from ..models import AuditAction, NotificationKind, Role, User
from ..models.users import hash_password
from ..notifications import outbox
from ..notifications.links import external_url
from ..profiles import save_public_profile
from .passwords import password_problem
from .sessions import end_all_sessions
from .tokens import BadLink, LinkProblem, Purpose, make_token, read_token

log = logging.getLogger(__name__)

K = NotificationKind
A = AuditAction


def _audit(action: AuditAction, user: User, by: User | None = None, **values) -> None:
    """An account's entry. Addresses and names stay out of it: the log is append-only, and
    an erased client's personal data must not outlive them there."""
    audit.record(
        action,
        "user",
        user.id,
        client_id=user.id if user.role == Role.CLIENT else None,
        actor_id=by.id if by else None,
        after=values or None,
    )


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    """The account with that email, whatever its case or role."""
    return db.session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def _send(
    kind: NotificationKind,
    user: User,
    address: str,
    endpoint: str,
    *,
    facts: dict | None = None,
    **values,
) -> None:
    """Queue an account email in the caller's transaction; the worker renders and sends
    it. The link proves control of `address`, so it goes there even if the account's
    address changes before it is sent; it is built on PORTAL_BASE_URL, never on the
    request's Host header, which whoever asks for a reset could set to their own site."""
    url = external_url(endpoint, **values)
    outbox.notify(kind, user, address=address, url=url, **(facts or {}))


def require_acceptable_password(password: str, field: str = "password") -> None:
    problem = password_problem(password)
    if problem:
        raise InvalidInput(problem, field=field)


def _require_timezone(timezone: str) -> None:
    if timezone not in available_timezones():
        raise InvalidInput(
            gettext("Unknown timezone %(timezone)s.", timezone=repr(timezone)), field="timezone"
        )


@unit_of_work
def create_user(email: str, name: str, role: Role, password: str, timezone: str = "UTC") -> User:
    """An operator's account (CLI, demo seed): the operator vouches for the address."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(gettext("Give the person's name."), field="name")
    _require_timezone(timezone)
    email = normalize_email(email)
    if find_user_by_email(email):
        raise InvalidInput(gettext("%(email)s already has an account.", email=email), field="email")
    require_acceptable_password(password)
    user = User(email=email, name=name, role=role, timezone=timezone, email_verified_at=utcnow())
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    if role == Role.PRACTITIONER:
        # Their public page exists from the start, under an address made from their name.
        save_public_profile(user)
    _audit(A.ACCOUNT_CREATED, user, role=role, how="operator")
    log.info("account created: user %s, role %s", user.id, role.value)
    return user


@unit_of_work
def change_password(user: User, new_password: str) -> None:
    require_acceptable_password(new_password, field="new_password")
    user.set_password(new_password)
    # Whoever knew the old password may hold a sign-in: every one ends, the caller's too.
    end_all_sessions(user)
    _audit(A.ACCOUNT_PASSWORD_CHANGED, user, how="changed")
    log.info("password changed: user %s", user.id)


@cache
def _stand_in_hash() -> str:
    return hash_password("no account has this password")


def password_matches(user: User | None, password: str) -> bool:
    """The sign-in check. Without a user it does the same slow hashing and says no, so
    answer times do not tell which emails have accounts."""
    if user is None:
        check_password_hash(_stand_in_hash(), password)
        return False
    return user.check_password(password)


def find_client(email: str) -> User | None:
    """The client account with that email, whatever its case."""
    return db.session.scalar(
        select(User).where(
            func.lower(User.email) == normalize_email(email), User.role == Role.CLIENT
        )
    )


def practitioners() -> list[User]:
    """Every practitioner by name: staff pick one to read their calendar or report."""
    return list(
        db.session.scalars(select(User).where(User.role == Role.PRACTITIONER).order_by(User.name))
    )


# -- sign-up and verification -------------------------------------------------------------


def sign_up(
    email: str, name: str, password: str, timezone: str, *, next_path: str | None = None
) -> User | None:
    """A client's own sign-up. The new account, or None when the address had one (its
    owner is told by email). Two sign-ups racing for one address: the unique index on
    lower(email) refuses the second, which is then answered as "had one". `next_path`
    (a checked local path) is where the verification link leads after confirming."""
    try:
        return _register_client(email, name, password, timezone, next_path)
    except IntegrityError:
        return _register_client(email, name, password, timezone, next_path)


@unit_of_work
def _register_client(
    email: str, name: str, password: str, timezone: str, next_path: str | None
) -> User | None:
    _require_timezone(timezone)
    require_acceptable_password(password)
    email = normalize_email(email)
    # Hashed on both paths: the slow hash is what a timing probe would notice.
    password_hash = hash_password(password)
    existing = find_user_by_email(email)
    if existing is not None:
        _send(K.SIGNUP_EXISTING, existing, existing.email, "accounts.request_password_reset")
        log.info("sign-up named an existing account: user %s told by email", existing.id)
        return None
    user = User(email=email, name=name.strip(), role=Role.CLIENT, timezone=timezone)
    user.password_hash = password_hash
    db.session.add(user)
    db.session.flush()
    _send_verification(user, next_path)
    _audit(A.ACCOUNT_CREATED, user, user, role=Role.CLIENT, how="sign_up")
    log.info("client signed up: user %s (unverified)", user.id)
    return user


def _send_verification(user: User, next_path: str | None = None) -> None:
    token = make_token(Purpose.VERIFY_EMAIL, user.id, user.email)
    endpoint = "accounts.verify_email"
    _send(K.ACCOUNT_VERIFICATION, user, user.email, endpoint, token=token, next=next_path)


@unit_of_work
def resend_verification(user: User) -> None:
    if user.email_verified:
        raise InvalidInput(gettext("Your address is already confirmed."))
    _send_verification(user)


def _token_user(purpose: Purpose, token: str) -> tuple[User, dict]:
    payload = read_token(purpose, token)
    user = db.session.get(User, payload["uid"])
    # A deactivated account's links die with it, like its sessions.
    if user is None or not user.is_active:
        raise BadLink(LinkProblem.INVALID)
    return user, payload


def verification_user(token: str) -> User:
    """Whose address the link confirms; BadLink if it cannot (any more)."""
    user, payload = _token_user(Purpose.VERIFY_EMAIL, token)
    if user.email_verified or user.email != payload["bind"]:
        raise BadLink(LinkProblem.USED)
    return user


@unit_of_work
def verify_email(token: str) -> User:
    user = verification_user(token)
    user.email_verified_at = utcnow()
    log.info("email verified: user %s", user.id)
    return user


# -- password reset -------------------------------------------------------------------------


@unit_of_work
def request_password_reset(email: str) -> None:
    """Send a reset link if an active account has the address; say nothing either way."""
    user = find_user_by_email(email)
    if user is not None and user.is_active:
        token = make_token(Purpose.PASSWORD_RESET, user.id, user.password_fingerprint)
        _send(K.PASSWORD_RESET, user, user.email, "accounts.reset_password", token=token)
        log.info("password reset link sent: user %s", user.id)
        return
    # The work of a real request (sign a link, write one row, commit, wake the worker),
    # so the answer's time does not tell whether the address has an account: the worker,
    # not this request, finds there is nobody to send it to, and marks the row skipped.
    make_token(Purpose.PASSWORD_RESET, 0, "")
    outbox.notify(K.PASSWORD_RESET, user, address=normalize_email(email))
    log.info("password reset asked for an address without an active account")


def reset_user(token: str) -> User:
    """Whose password the link may set; spent once the password changed (this reset too)."""
    user, payload = _token_user(Purpose.PASSWORD_RESET, token)
    if payload["bind"] != user.password_fingerprint:
        raise BadLink(LinkProblem.USED)
    return user


@unit_of_work
def reset_password(token: str, new_password: str) -> User:
    user = reset_user(token)
    require_acceptable_password(new_password)
    user.set_password(new_password)
    end_all_sessions(user)
    # The link came to the address: it is proven, and a pending invitation is answered.
    user.email_verified_at = user.email_verified_at or utcnow()
    user.invited_at = None
    _audit(A.ACCOUNT_PASSWORD_CHANGED, user, user, how="reset")
    log.info("password reset: user %s", user.id)
    return user


# -- profile ------------------------------------------------------------------------------------


@unit_of_work
def update_profile(user: User, name: str, timezone: str, locale: str | None = None) -> None:
    """Name, zone and formatting locale (None follows the browser)."""
    _require_timezone(timezone)
    if locale is not None and locale not in SUPPORTED_LOCALES:
        raise InvalidInput(
            gettext("Unknown formats %(locale)s.", locale=repr(locale)), field="locale"
        )
    user.name = name.strip()
    user.timezone = timezone
    user.locale = locale
    log.info("profile updated: user %s", user.id)


@unit_of_work
def request_email_change(user: User, new_email: str) -> None:
    """Send a confirmation link to the new address; the account keeps its address until
    the link is followed. An address another account has gets no link, and the answer
    is the same, so the form tells no one which addresses have accounts."""
    new_email = normalize_email(new_email)
    if new_email == user.email:
        raise InvalidInput(gettext("That is already your address."), field="email")
    if find_user_by_email(new_email) is not None:
        log.info("email change asked to a taken address: user %s, no link sent", user.id)
        return
    token = make_token(Purpose.EMAIL_CHANGE, user.id, user.email, new_email=new_email)
    _send(K.EMAIL_CHANGE, user, new_email, "accounts.confirm_email_change", token=token)
    log.info("email change link sent: user %s", user.id)


def email_change(token: str) -> tuple[User, str]:
    """(account, new address) of an email-change link; spent once the address changed."""
    user, payload = _token_user(Purpose.EMAIL_CHANGE, token)
    new_email = payload.get("new_email")
    if not isinstance(new_email, str) or user.email != payload["bind"]:
        raise BadLink(LinkProblem.USED)
    return user, new_email


@unit_of_work
def confirm_email_change(token: str) -> User:
    user, new_email = email_change(token)
    if find_user_by_email(new_email) is not None:
        raise InvalidInput(gettext("Another account has taken that address since."), field="email")
    user.email = new_email
    user.email_verified_at = utcnow()
    _audit(A.ACCOUNT_EMAIL_CHANGED, user, user)
    log.info("email changed: user %s", user.id)
    return user


# -- staff: invitations and deactivation --------------------------------------------------------


def _placeholder_password(user: User) -> None:
    # Nobody knows it, so nobody signs in until the invitee chooses theirs; a new one
    # also changes the fingerprint, which spends every invitation link sent before.
    user.set_password(secrets.token_urlsafe(32))


def _send_invitation(user: User, invited_by: User | None = None) -> None:
    token = make_token(Purpose.INVITATION, user.id, user.password_fingerprint)
    facts = {"inviter": invited_by.name} if invited_by else None
    _send(K.INVITATION, user, user.email, "accounts.accept_invitation", facts=facts, token=token)


@unit_of_work
def invite_user(
    email: str, name: str, role: Role, *, timezone: str = "UTC", invited_by: User | None = None
) -> User:
    _require_timezone(timezone)
    email = normalize_email(email)
    if find_user_by_email(email):
        raise InvalidInput(gettext("%(email)s already has an account.", email=email), field="email")
    user = User(email=email, name=name.strip(), role=role, timezone=timezone, invited_at=utcnow())
    _placeholder_password(user)
    db.session.add(user)
    db.session.flush()
    _send_invitation(user, invited_by)
    _audit(A.ACCOUNT_CREATED, user, invited_by, role=role, how="invitation")
    log.info(
        "invitation sent: user %s, role %s, by %s",
        user.id,
        role.value,
        invited_by.id if invited_by else "the operator",
    )
    return user


@unit_of_work
def resend_invitation(user: User) -> None:
    if not user.invitation_pending:
        raise InvalidInput(
            gettext("%(email)s has already accepted the invitation.", email=user.email)
        )
    _placeholder_password(user)
    user.invited_at = utcnow()
    _send_invitation(user)
    log.info("invitation sent again: user %s", user.id)


def invitation_user(token: str) -> User:
    user, payload = _token_user(Purpose.INVITATION, token)
    if not user.invitation_pending or payload["bind"] != user.password_fingerprint:
        raise BadLink(LinkProblem.USED)
    return user


@unit_of_work
def accept_invitation(token: str, password: str) -> User:
    user = invitation_user(token)
    require_acceptable_password(password)
    user.set_password(password)
    user.invited_at = None
    user.email_verified_at = utcnow()
    _audit(A.ACCOUNT_PASSWORD_CHANGED, user, user, how="invitation_accepted")
    log.info("invitation accepted: user %s", user.id)
    return user


@unit_of_work
def deactivate_user(user: User, *, by: User | None = None) -> None:
    """Sign-in, sessions, API tokens and the calendar feed stop at once: each of them
    checks the account is active on every request."""
    if by is not None and by.id == user.id:
        raise InvalidInput(gettext("You cannot deactivate your own account."))
    user.is_active_account = False
    _audit(A.ACCOUNT_DEACTIVATED, user, by)
    log.info("account deactivated: user %s, by %s", user.id, by.id if by else "the operator")


@unit_of_work
def reactivate_user(user: User, *, by: User | None = None) -> None:
    user.is_active_account = True
    _audit(A.ACCOUNT_REACTIVATED, user, by)
    log.info("account reactivated: user %s, by %s", user.id, by.id if by else "the operator")


def list_users(role: Role | None = None) -> list[User]:
    query = select(User).order_by(User.role, func.lower(User.name), User.id)
    if role is not None:
        query = query.where(User.role == role)
    return list(db.session.scalars(query))
