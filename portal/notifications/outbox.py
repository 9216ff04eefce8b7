"""The bottom floor: write a notification into the caller's transaction.

Nothing here renders or sends, and nothing imports the domain, so the booking
operations, the account emails and anything else can call `notify()` inside their own
unit of work: the row commits with the change that caused it, or not at all.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from ..extensions import db
from ..models import Channel, Notification, NotificationKind, User
from ..models.notifications import new_message_id

log = logging.getLogger(__name__)

# Set on the session when a row is added; the worker module wakes a worker after commit.
WRITTEN = "portal_outbox_written"


def notify(
    kind: NotificationKind,
    user: User | int | None,
    *,
    address: str | None = None,
    dedup_key: str | None = None,
    channel: Channel = Channel.EMAIL,
    **refs: int | str | bool | None,
) -> Notification:
    """Queue one message about `refs` (ids such as booking_id, session_id, order_id,
    waitlist_entry_id, plus facts only this moment knows, e.g. canceled_by) for `user`
    (an object, or just its id), or for a bare `address` when there is no account yet
    (an invitation)."""
    if user is None and not address:
        raise ValueError("a notification needs a recipient user or an address")
    if isinstance(user, User):
        user_id, recipient = user.id, address or user.email
    elif user is not None:
        # Only an id at hand: the INSERT reads the address itself, no query of ours.
        user_id = user
        recipient = address or select(User.email).where(User.id == user).scalar_subquery()
    else:
        user_id, recipient = None, address
    row = Notification(
        message_id=new_message_id(),
        kind=kind,
        channel=channel,
        user_id=user_id,
        address=recipient,
        payload=refs,
        dedup_key=dedup_key,
    )
    db.session.add(row)
    db.session.info[WRITTEN] = True
    log.info("queued %s %s for %s %s", kind.value, row.message_id, user_id or address, refs)
    return row
