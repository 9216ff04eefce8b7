from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Index, String, text
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from ..database import UTCDateTime, utcnow
from ..extensions import Model
from .enums import Role, enum_column


def hash_password(password: str) -> str:
    """Werkzeug's default hasher (scrypt) unless PORTAL_PASSWORD_HASH_METHOD names another:
    tests choose a cheap one, since hashing every test user's password slowly was half the
    suite's CPU."""
    method = current_app.config.get("PORTAL_PASSWORD_HASH_METHOD") if has_app_context() else None
    if method:
        return generate_password_hash(password, method=method)
    return generate_password_hash(password)


def new_livekit_identity() -> str:
    return "u_" + secrets.token_hex(8)


class User(UserMixin, Model):
    __tablename__ = "users"
    __table_args__ = (
        # "Ann@x.org" and "ann@x.org" are one person: the database refuses the second account.
        Index("uq_users_email_lower", text("lower(email)"), unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"), default=Role.CLIENT)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # A formatting locale from l10n.SUPPORTED_LOCALES; None follows the browser.
    locale: Mapped[str | None] = mapped_column(String(16))
    # Stable across sessions so every room sees the same person under one identity.
    livekit_identity: Mapped[str] = mapped_column(
        String(40), unique=True, default=new_livekit_identity
    )
    is_active_account: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when the owner of the address clicked the link sent to it (README: "Accounts").
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set while staff's invitation waits for the invitee to choose a password.
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Counts the changes of address. Links about the address are bound to it too, so one
    # stays spent when an old address comes back (a@ -> z@ -> a@).
    email_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # "This was not me" links to an old address from changes up to this version are spent:
    # set when one of them is followed.
    email_restored_version: Mapped[int] = mapped_column(default=0, server_default="0")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sign-in to deactivated accounts
        return self.is_active_account

    @property
    def is_practitioner(self) -> bool:
        return self.role == Role.PRACTITIONER

    @property
    def is_staff(self) -> bool:
        return self.role == Role.STAFF

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT

    @property
    def email_verified(self) -> bool:
        """Whether mail may go to this address: waitlist offers and reminders need it."""
        return self.email_verified_at is not None

    @property
    def invitation_pending(self) -> bool:
        return self.invited_at is not None

    @property
    def password_fingerprint(self) -> str:
        """Changes whenever the password does: one-time links are bound to it."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    @property
    def address_binding(self) -> str:
        """Changes whenever the address does, and never comes back: verification and
        email-change links are bound to it."""
        return f"{self.email_version}:{self.email}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    # The key of the sign-in this request runs under (a SignIn); set by
    # accounts.record_sign_in and by the user loader, never stored on the user row.
    # (Typed by cast: an annotation would make SQLAlchemy map it as a column.)
    sign_in_key = cast(str | None, None)

    def get_id(self) -> str:
        """What the session and remember-me cookies name the user by: the user and the
        sign-in, so ending the sign-in refuses both cookies."""
        if self.sign_in_key is None:
            raise RuntimeError("sign in through accounts.record_sign_in")
        return f"{self.id}.{self.sign_in_key}"

    # UserMixin compares get_id(), which names a sign-in; a user is the same user
    # whichever browser it was loaded for.
    def __eq__(self, other: object) -> bool:
        if isinstance(other, User):
            return self.id == other.id
        return NotImplemented

    __hash__ = object.__hash__

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"
