"""Account operations: each write is one unit of work and logs what it did.

Anything that answers a stranger (sign-up, password reset) does the same work and gives
the same answer whether or not the address has an account; only the email differs, and
only its owner reads it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from functools import cache

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash

from .. import api_tokens, audit
from ..calendar_feeds import revoke_feed
from ..core.errors import InvalidInput, NotPermitted
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..l10n import SUPPORTED_LOCALES, canonical_zone
from ..models import AuditAction, NotificationKind, Role, User
from ..models.users import hash_password
from ..notifications import outbox
from ..notifications.links import external_url
from ..profiles import save_public_profile
from .passwords import password_problem
from .sign_ins import sign_out_everywhere
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


def require_acceptable_password(
    password: str, field: str = "password", *, name: str = "", email: str = ""
) -> None:
    """Refuse a weak password; `name` and `email` (the account's) are easy guesses too."""
    problem = password_problem(password, name=name, email=email)
    if problem:
        raise InvalidInput(problem, field=field)


def _require_timezone(timezone: str) -> str:
    """The zone as stored: an offered one, an old alias replaced by what it stands for."""
    canonical = canonical_zone(timezone)
    if canonical is None:
        raise InvalidInput(
            gettext("Unknown timezone %(timezone)s.", timezone=repr(timezone)), field="timezone"
        )
    return canonical


@unit_of_work
def create_user(email: str, name: str, role: Role, password: str, timezone: str = "UTC") -> User:
    """An operator's account (CLI, demo seed): the operator vouches for the address."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(gettext("Give the person's name."), field="name")
    timezone = _require_timezone(timezone)
    email = normalize_email(email)
    if find_user_by_email(email):
        raise InvalidInput(gettext("%(email)s already has an account.", email=email), field="email")
    require_acceptable_password(password, name=name, email=email)
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


def _retire_credentials(user: User) -> dict:
    """End every sign-in and revoke what acts without the password (API tokens, the
    calendar feed): whoever knew an old password, or signed up first with this address,
    keeps none of it. What went, for the notice."""
    sign_out_everywhere(user)
    revoked = api_tokens.revoke_all(user)
    feed_retired = revoke_feed(user)
    log.info(
        "credentials retired: user %s, %s API tokens, feed %s",
        user.id,
        len(revoked),
        "retired" if feed_retired else "none",
    )
    return {"revoked_tokens": revoked, "feed_retired": feed_retired}


def _password_replaced(user: User, *, reset: bool) -> None:
    """Everything the old password vouched for ends, and the owner is told what went."""
    facts = {**_retire_credentials(user), "reset": reset}
    _send(K.PASSWORD_CHANGED, user, user.email, "accounts.request_password_reset", facts=facts)


def _require_acceptable_password_for(user: User, password: str, field: str) -> None:
    require_acceptable_password(password, field, name=user.name, email=user.email)


@unit_of_work
def change_password(user: User, new_password: str) -> None:
    _require_acceptable_password_for(user, new_password, "new_password")
    user.set_password(new_password)
    # Whoever knew the old password may hold a sign-in: every one ends, the caller's too.
    _password_replaced(user, reset=False)
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
    user = find_user_by_email(email)
    return user if user is not None and user.role == Role.CLIENT else None


def practitioners() -> list[User]:
    """Every practitioner by name: staff pick one to read their calendar or report."""
    return list(
        db.session.scalars(select(User).where(User.role == Role.PRACTITIONER).order_by(User.name))
    )


# -- sign-up and verification -------------------------------------------------------------


def browser_digest(browser_key: str) -> str:
    return hashlib.sha256(browser_key.encode()).hexdigest()


def sign_up(
    email: str,
    name: str,
    password: str,
    timezone: str,
    *,
    next_path: str | None = None,
    browser_key: str | None = None,
    locale: str | None = None,
) -> User | None:
    """A client's own sign-up. The new account, or None when the address had one (its
    owner is told by email). Two sign-ups racing for one address: the unique index on
    lower(email) refuses the second, which is then answered as "had one". `next_path`
    (a checked local path) is where the verification link leads after confirming.
    `browser_key` is a secret the signing-up browser keeps: the link signs in only a
    browser that has it, the one whose user chose the password. `locale` is the one the
    browser asked for: the account keeps it, as it keeps the browser's timezone, so the
    emails, which no browser asks for, are in the language the person signed up in."""
    args = (email, name, password, timezone, next_path, browser_key, locale)
    try:
        return _register_client(*args)
    except IntegrityError:
        return _register_client(*args)


@unit_of_work
def _register_client(
    email: str,
    name: str,
    password: str,
    timezone: str,
    next_path: str | None,
    browser_key: str | None,
    locale: str | None,
) -> User | None:
    timezone = _require_timezone(timezone)
    email = normalize_email(email)
    require_acceptable_password(password, name=name, email=email)
    # Hashed on both paths: the slow hash is what a timing probe would notice.
    password_hash = hash_password(password)
    existing = find_user_by_email(email)
    if existing is not None:
        _send(K.SIGNUP_EXISTING, existing, existing.email, "accounts.request_password_reset")
        log.info("sign-up named an existing account: user %s told by email", existing.id)
        return None
    user = User(email=email, name=name.strip(), role=Role.CLIENT, timezone=timezone)
    user.locale = locale if locale in SUPPORTED_LOCALES else None
    user.password_hash = password_hash
    db.session.add(user)
    db.session.flush()
    _send_verification(user, next_path, browser_key)
    _audit(A.ACCOUNT_CREATED, user, user, role=Role.CLIENT, how="sign_up")
    log.info("client signed up: user %s (unverified)", user.id)
    return user


def _send_verification(
    user: User, next_path: str | None = None, browser_key: str | None = None
) -> None:
    # Only a digest of the browser's secret: the link is read by whoever has the mailbox.
    extra = {"browser": browser_digest(browser_key)} if browser_key else {}
    token = make_token(Purpose.VERIFY_EMAIL, user.id, user.address_binding, **extra)
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
    # A deactivated account's links die with it, like its sign-ins.
    if user is None or not user.is_active:
        raise BadLink(LinkProblem.INVALID)
    return user, payload


def verification_user(token: str) -> User:
    """Whose address the link confirms; BadLink if it cannot (any more)."""
    user, payload = _token_user(Purpose.VERIFY_EMAIL, token)
    if user.email_verified or user.address_binding != payload["bind"]:
        raise BadLink(LinkProblem.USED)
    return user


@unit_of_work
def verify_email(
    token: str, *, browser_key: str | None = None, signed_in_as: User | None = None
) -> User:
    """Confirm the address, for the browser that signed up (it holds `browser_key`, and
    may be signed in) or for the account itself, signed in. Following the link proves the
    mailbox, not the password: whoever signed up first with another person's address must
    neither get that person into the account they set up, nor have them confirm it for
    them. The owner of the address takes such an account over by a password reset."""
    user = verification_user(token)
    expected = read_token(Purpose.VERIFY_EMAIL, token).get("browser")
    from_sign_up = bool(
        browser_key
        and isinstance(expected, str)
        and hmac.compare_digest(expected, browser_digest(browser_key))
    )
    if not from_sign_up and (signed_in_as is None or signed_in_as.id != user.id):
        raise NotPermitted(
            gettext(
                "Sign in to confirm this address, in the browser you signed up in or with "
                "your password. If you did not sign up, choose a new password instead: "
                "the account is then yours."
            )
        )
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
    _require_acceptable_password_for(user, new_password, "password")
    user.set_password(new_password)
    # The documented way out of an account someone else set up with this address: what
    # they created while waiting (tokens, a feed) goes with their password.
    _password_replaced(user, reset=True)
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
    timezone = _require_timezone(timezone)
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
    token = make_token(Purpose.EMAIL_CHANGE, user.id, user.address_binding, new_email=new_email)
    _send(K.EMAIL_CHANGE, user, new_email, "accounts.confirm_email_change", token=token)
    log.info("email change link sent: user %s", user.id)


def email_change(token: str) -> tuple[User, str]:
    """(account, new address) of an email-change link; spent once the address changed."""
    user, payload = _token_user(Purpose.EMAIL_CHANGE, token)
    new_email = payload.get("new_email")
    if not isinstance(new_email, str) or user.address_binding != payload["bind"]:
        raise BadLink(LinkProblem.USED)
    return user, new_email


def _move_address(user: User, email: str) -> None:
    """The one way an account's address changes: the new one is proven by the link that
    led here, and every link bound to the old state is spent for good."""
    if find_user_by_email(email) not in (None, user):
        raise InvalidInput(gettext("Another account has taken that address since."), field="email")
    user.email = email
    user.email_version += 1
    user.email_verified_at = utcnow()


@unit_of_work
def confirm_email_change(token: str) -> User:
    user, new_email = email_change(token)
    old_email = user.email
    _move_address(user, new_email)
    # The old address hears of it, with a way back in case it was not its owner's doing.
    restore = make_token(
        Purpose.EMAIL_RESTORE, user.id, str(user.email_version), old_email=old_email
    )
    facts = {"new_email": new_email}
    endpoint = "accounts.restore_email"
    _send(K.EMAIL_CHANGED, user, old_email, endpoint, facts=facts, token=restore)
    _audit(A.ACCOUNT_EMAIL_CHANGED, user, user, how="changed")
    log.info("email changed: user %s, version %s", user.id, user.email_version)
    return user


def email_restore(token: str) -> tuple[User, str]:
    """(account, old address) of a "put this address back" link. Good for any later state
    of the account, since whoever changed the address may have changed it again, until one
    such link is followed: then every one sent before is spent."""
    user, payload = _token_user(Purpose.EMAIL_RESTORE, token)
    old_email = payload.get("old_email")
    version = payload["bind"]
    if not (isinstance(old_email, str) and isinstance(version, str) and version.isdigit()):
        raise BadLink(LinkProblem.INVALID)
    if int(version) <= user.email_restored_version:
        raise BadLink(LinkProblem.USED)
    return user, old_email


@unit_of_work
def restore_email(token: str) -> User:
    """The owner of the old address takes the account back: the address returns, every
    sign-in ends and what acts without the password is revoked; a password reset (to
    that address) then locks out whoever changed it."""
    user, old_email = email_restore(token)
    _move_address(user, old_email)
    user.email_restored_version = user.email_version
    _retire_credentials(user)
    _audit(A.ACCOUNT_EMAIL_CHANGED, user, user, how="restored")
    log.info("email restored: user %s, version %s", user.id, user.email_version)
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
    timezone = _require_timezone(timezone)
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
    _require_acceptable_password_for(user, password, "password")
    user.set_password(password)
    user.invited_at = None
    user.email_verified_at = utcnow()
    _audit(A.ACCOUNT_PASSWORD_CHANGED, user, user, how="invitation_accepted")
    log.info("invitation accepted: user %s", user.id)
    return user


@unit_of_work
def deactivate_user(user: User, *, by: User | None = None) -> None:
    """Signing in, sign-ins, API tokens and the calendar feed stop at once: each of them
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
