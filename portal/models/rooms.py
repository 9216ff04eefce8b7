from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import Model
from .enums import ParticipantKind, enum_column
from .sessions import ServiceSession
from .users import User


class Room(Model):
    """One lifetime of a ServiceSession's LiveKit room, created when LiveKit first reports it.

    LiveKit closes an empty room and opens it again, under the same name and a new sid,
    when someone comes back: a session has a row per room sid (the practitioner's camera
    check before the start, the session itself, a reopening after everyone dropped).
    """

    __tablename__ = "rooms"
    __table_args__ = (
        UniqueConstraint("service_session_id", "livekit_sid", name="uq_rooms_lifetime"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The session's livekit_room_name, shared by all its lifetimes.
    name: Mapped[str] = mapped_column(String(64))
    service_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_sessions.id"), index=True
    )
    # "" for events that named no sid (LiveKit always sends one).
    livekit_sid: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    service_session: Mapped[ServiceSession | None] = relationship()
    participants: Mapped[list[RoomParticipant]] = relationship(
        back_populates="room", order_by="RoomParticipant.id"
    )


class RoomParticipant(Model):
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
    participant_kind: Mapped[ParticipantKind] = mapped_column(
        enum_column(ParticipantKind, "participant_kind", length=16),
        default=ParticipantKind.UNBOOKED,
    )
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[int | None] = mapped_column()

    room: Mapped[Room] = relationship(back_populates="participants")
    user: Mapped[User | None] = relationship()
