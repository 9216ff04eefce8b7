"""Account operations: creating users and changing passwords, each one unit of work."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .booking.errors import InvalidInput
from .booking.transactions import unit_of_work
from .extensions import db
from .models import Role, User


@unit_of_work
def create_user(email: str, name: str, role: Role, password: str, timezone: str = "UTC") -> User:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("Give the person's name.", field="name")
    if timezone not in available_timezones():
        raise InvalidInput(f"Unknown timezone {timezone!r}.", field="timezone")
    email = email.strip().lower()
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise InvalidInput(f"{email} already has an account.", field="email")
    user = User(email=email, name=name, role=role, timezone=timezone)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


@unit_of_work
def change_password(user: User, new_password: str) -> None:
    user.set_password(new_password)


@cache
def _stand_in_hash() -> str:
    return generate_password_hash("no account has this password")


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
            func.lower(User.email) == email.strip().lower(), User.role == Role.CLIENT
        )
    )


def practitioners() -> list[User]:
    """Every practitioner by name: staff pick one to read their calendar or report."""
    return list(
        db.session.scalars(select(User).where(User.role == Role.PRACTITIONER).order_by(User.name))
    )
