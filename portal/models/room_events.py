from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, utcnow
from ..extensions import Model


class ProcessedRoomEvent(Model):
    """A LiveKit webhook event taken in: stored as it arrived, applied soon after.

    The webhook stores the event and answers at once (LiveKit retries a slow answer);
    a worker, or the next reader of attendance, applies the pending events of each room
    in order (booking.rooms). LiveKit resends an event with the same id when a delivery
    fails; the unique id makes each count once.
    """

    __tablename__ = "processed_room_events"
    __table_args__ = (
        # The applier's queue: each room's pending events in the order they happened.
        Index(
            "ix_processed_room_events_pending",
            "service_session_id",
            "occurred_at",
            "id",
            sqlite_where=text("applied_at IS NULL"),
            postgresql_where=text("applied_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event: Mapped[str] = mapped_column(String(40))
    room_name: Mapped[str] = mapped_column(String(64), index=True)
    # When it arrived.
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The event itself (rows from before 0017 were applied on arrival and keep none of it).
    service_session_id: Mapped[int | None] = mapped_column(ForeignKey("service_sessions.id"))
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    room_sid: Mapped[str] = mapped_column(String(64), default="")
    room_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    participant_sid: Mapped[str | None] = mapped_column(String(64))
    participant_identity: Mapped[str | None] = mapped_column(String(128))
    participant_name: Mapped[str] = mapped_column(String(200), default="")
    participant_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # NULL while pending; set in the transaction that applies it.
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
