"""The bottom floor: write a notification into the caller's transaction.

Nothing here renders or sends, and nothing imports the domain, so the booking
operations, the account emails and anything else can call `notify()` inside their own
unit of work: the row commits with the change that caused it, or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import insert

from ..database import execute_write, with_defaults
from ..extensions import db
from ..models import Channel, Notification, NotificationKind, User
from ..models.notifications import new_message_id

log = logging.getLogger(__name__)

# Set on the session when a row is added; the worker module wakes a worker after commit.
WRITTEN = "portal_outbox_written"

_INSERT = insert(Notification.__table__).returning(Notification.__table__.c.id)


@dataclass(frozen=True)
class Notice:
    """One message to write: its kind, its recipient (a user, a user's id, or None with
    an address), and the ids and facts it is about."""

    kind: NotificationKind
    user: User | int | None
    refs: dict = field(default_factory=dict)
    address: str | None = None
    dedup_key: str | None = None
    channel: Channel = Channel.EMAIL

    def row(self) -> dict:
        if self.user is None and not self.address:
            raise ValueError("a notification needs a recipient user or an address")
        return {
            "message_id": new_message_id(),
            "kind": self.kind,
            "channel": self.channel,
            # A user's address is read when the message is sent: no query here, and
            # the message goes where they receive mail by then.
            "user_id": self.user.id if isinstance(self.user, User) else self.user,
            "address": self.address,
            "payload": self.refs,
            "dedup_key": self.dedup_key,
        }


LINK_WITHHELD = "[link withheld: only its recipient may see it]"


def without_link(payload: dict) -> dict:
    """The payload fit for a log line: an account mail's link lets its holder in (a
    password reset signs in), so no one but the recipient sees it."""
    return {key: LINK_WITHHELD if key == "url" else value for key, value in payload.items()}


def withhold_link(payload: dict, text: str) -> str:
    """`text` (a message as staff read it) with the payload's link taken out."""
    url = payload.get("url")
    return text.replace(url, LINK_WITHHELD) if url else text


def notify_all(notices: Iterable[Notice]) -> list[str]:
    """Write several messages in one INSERT; returns their message ids."""
    rows = [notice.row() for notice in notices]
    if not rows:
        return []
    # On the table and the connection: the ORM's bulk INSERT, even its execute path, does
    # several times the Python work, and no object is wanted back (every purchase writes
    # two of these). With RETURNING, SQLAlchemy sends the rows as one multi-row INSERT
    # ("insertmanyvalues"); without it psycopg sends a list as a pipeline, whose syncs cost
    # round trips inside the purchase's seat lock (#19). The ids are not wanted.
    execute_write(_INSERT, rows)
    _written(rows)
    return [row["message_id"] for row in rows]


def queued(notices: Iterable[Notice]) -> list[dict]:
    """The outbox rows of `notices`, every column given, for a caller that writes them
    inside a statement of its own in this transaction (the express seat's, on
    PostgreSQL: booking/express.py). They count as written, as notify_all's are."""
    rows = [with_defaults(Notification.__table__, notice.row()) for notice in notices]
    _written(rows)
    return rows


def _written(rows: list[dict]) -> None:
    # The worker is woken after the commit (portal/worker.py).
    db.session.info[WRITTEN] = True
    for row in rows:
        log.info(
            "queued %s %s for %s %s",
            row["kind"].value,
            row["message_id"],
            row["user_id"] or row["address"],
            without_link(row["payload"]),
        )


def notify(
    kind: NotificationKind,
    user: User | int | None,
    *,
    address: str | None = None,
    dedup_key: str | None = None,
    channel: Channel = Channel.EMAIL,
    **refs: int | str | bool | list | None,
) -> str:
    """Queue one message about `refs` (ids such as booking_id, session_id, order_id,
    waitlist_entry_id, plus facts only this moment knows, e.g. canceled_by) for `user`
    (an object, or just its id), or for a bare `address` when there is no account yet
    (an invitation). Returns its message id."""
    (message_id,) = notify_all([Notice(kind, user, refs, address, dedup_key, channel)])
    return message_id
