"""Each person's choice of optional messages, and a practitioner's reminder times."""

from __future__ import annotations

import logging

from ..core.transactions import unit_of_work
from ..extensions import db
from ..models import DEFAULT_REMINDER_OFFSETS, NotificationPreferences, Preference, User

log = logging.getLogger(__name__)

# Offsets are minutes before the session; a month is the furthest a reminder reaches.
MAX_OFFSET_MINUTES = 30 * 24 * 60
MAX_OFFSETS = 5


def preferences_of(user: User) -> NotificationPreferences:
    """The saved choices, or the defaults (not saved) when there are none."""
    found = db.session.get(NotificationPreferences, user.id)
    if found is not None:
        return found
    return NotificationPreferences(
        user_id=user.id,
        reminders=True,
        practitioner_notices=True,
        daily_agenda=False,
        reminder_offsets=list(DEFAULT_REMINDER_OFFSETS),
    )


def _row_of(user_id: int) -> NotificationPreferences:
    row = db.session.get(NotificationPreferences, user_id, with_for_update=True)
    if row is None:
        row = NotificationPreferences(user_id=user_id)
        db.session.add(row)
    return row


@unit_of_work
def save_preferences(
    user: User, choices: dict[Preference, bool], reminder_offsets: list[int] | None = None
) -> None:
    row = _row_of(user.id)
    for preference, wanted in choices.items():
        setattr(row, preference.value, bool(wanted))
    if reminder_offsets is not None and user.is_practitioner:
        row.reminder_offsets = sorted(set(reminder_offsets), reverse=True)
    log.info("user %s saved notification preferences %s", user.id, choices)


@unit_of_work
def turn_off(user_id: int, preference: Preference) -> None:
    """The one-click unsubscribe: only ever turns one kind of optional message off."""
    if db.session.get(User, user_id) is None:
        return
    setattr(_row_of(user_id), preference.value, False)
    log.info("user %s unsubscribed from %s", user_id, preference.value)
