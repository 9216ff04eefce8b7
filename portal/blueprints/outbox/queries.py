from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Notification, NotificationStatus

PAGE_SIZE = 100


def recent_messages(status: NotificationStatus | None) -> list[Notification]:
    query = select(Notification).options(selectinload(Notification.user))
    if status is not None:
        query = query.where(Notification.status == status)
    return db.session.scalars(query.order_by(Notification.id.desc()).limit(PAGE_SIZE)).all()


def counts_by_status() -> dict[NotificationStatus, int]:
    rows = db.session.execute(
        select(Notification.status, func.count(Notification.id)).group_by(Notification.status)
    ).all()
    found = dict(rows)
    return {status: found.get(status, 0) for status in NotificationStatus}
