from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db
from .sessions import ServiceSession
from .users import User


class Room(db.Model):
    """The LiveKit room of one ServiceSession, created when LiveKit first reports it."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    service_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_sessions.id"), unique=True
    )
    livekit_sid: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    service_session: Mapped[ServiceSession | None] = relationship()
    participants: Mapped[list[RoomParticipant]] = relationship(
        back_populates="room", order_by="RoomParticipant.id"
    )


class RoomParticipant(db.Model):
    """One LiveKit participant sid in a room: a person who rejoins gets a new row."""

    __tablename__ = "room_participants"
    __table_args__ = (
        UniqueConstraint("room_id", "participant_sid", name="uq_room_participants_sid"),
        CheckConstraint(
            "duration_seconds IS NULL OR duration_seconds >= 0", name="duration_not_negative"
        ),
        # A stay ends after it begins, and nothing ends that did not begin.
        CheckConstraint(
            "left_at IS NULL OR (joined_at IS NOT NULL AND left_at >= joined_at)",
            name="left_after_joined",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    identity: Mapped[str] = mapped_column(String(128))
    participant_sid: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    # host: the session's practitioner; booked: a user with a booking; unbooked: anyone else.
    participant_kind: Mapped[str] = mapped_column(String(16), default="unbooked")
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[int | None] = mapped_column()

    room: Mapped[Room] = relationship(back_populates="participants")
    user: Mapped[User | None] = relationship()
