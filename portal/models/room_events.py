from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, utcnow
from ..extensions import db


class ProcessedRoomEvent(db.Model):
    """A LiveKit webhook event id already applied.

    LiveKit resends an event with the same id when a delivery fails; the unique id,
    written in the same transaction as the event's effects, makes each count once.
    """

    __tablename__ = "processed_room_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event: Mapped[str] = mapped_column(String(40))
    room_name: Mapped[str] = mapped_column(String(64), index=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
