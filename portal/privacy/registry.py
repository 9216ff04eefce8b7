"""What holds personal data about a person: one `Holder` per place, registered here.

A data export asks every holder for its part; an erasure asks every holder to erase or
anonymise its part, in registration order, inside one unit of work. A feature that keeps
something about a person (intake forms, uploads) joins both with one `register()` line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import inspect

from ..models import User


@dataclass(frozen=True)
class Erasure:
    """The person being erased, as they were: holders match rows by these values (a
    LiveKit identity, an address a message went to) before the account row forgets them."""

    user: User
    name: str
    email: str
    livekit_identity: str
    # The placeholder that stands for the person where a row must keep someone.
    tombstone_name: str
    # The identity that replaces theirs in video rooms and on the account.
    tombstone_identity: str
    now: datetime


@dataclass(frozen=True)
class Holder:
    # The key of its part in the export's JSON.
    name: str
    # Its part of the export (JSON-able), or None when it keeps nothing the person gave
    # or should see (sign-in keys, say).
    export: Callable[[User], Any] | None = None
    # Erase or anonymise its part. None: nothing personal is left once the account row is
    # a tombstone (orders keep amounts and an id, which then names no one).
    erase: Callable[[Erasure], object] | None = None
    # Delete what it keeps about a client for a practitioner whose last session together
    # started before the cut-off (the retention period, portal/privacy/retention.py);
    # returns how many rows went. None: kept as long as the account.
    expire: Callable[[datetime], int] | None = None


HOLDERS: list[Holder] = []


def register(holder: Holder) -> Holder:
    if any(existing.name == holder.name for existing in HOLDERS):
        raise ValueError(f"a personal data holder named {holder.name!r} is registered already")
    HOLDERS.append(holder)
    return holder


def plain(value: Any) -> Any:
    """A column value as JSON keeps it: instants as ISO 8601 (UTC), enums as their values."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def columns(row: object, *, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every column of a row by name, as JSON keeps it (`leave_out`: secrets, ciphertexts)."""
    return {
        attr.key: plain(getattr(row, attr.key))
        for attr in inspect(row).mapper.column_attrs
        if attr.key not in leave_out
    }
