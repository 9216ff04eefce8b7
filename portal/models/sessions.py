from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from flask_babel import gettext
from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import Model
from .enums import SEAT_HOLDING, SessionStatus, SessionType, Visibility, enum_column
from .services import Service
from .users import User

if TYPE_CHECKING:
    # bookings.py imports this module: the name is for annotations only.
    from .bookings import Booking


def new_room_name() -> str:
    return "ses_" + secrets.token_hex(10)


class ServiceSession(Model):
    """A time slot: holds all the time data; bookings are seats in it."""

    __tablename__ = "service_sessions"
    __table_args__ = (
        CheckConstraint(
            "current_participants >= 0 AND current_participants <= max_participants",
            name="capacity",
        ),
        CheckConstraint("max_participants >= 1", name="max_participants_positive"),
        CheckConstraint("(start_time IS NULL) = (end_time IS NULL)", name="times_paired"),
        CheckConstraint("end_time > start_time", name="ends_after_start"),
        CheckConstraint(
            "status IN ('draft', 'canceled') OR start_time IS NOT NULL",
            name="scheduled_has_time",
        ),
        Index("ix_service_sessions_practitioner_start", "practitioner_id", "start_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    # Copied from the service so the database can refuse a practitioner's overlaps.
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    session_type: Mapped[SessionType] = mapped_column(enum_column(SessionType, "session_type"))
    visibility: Mapped[Visibility] = mapped_column(
        enum_column(Visibility, "visibility"), default=Visibility.PUBLIC
    )
    title: Mapped[str] = mapped_column(String(200), default="")
    sequence_number: Mapped[int | None] = mapped_column(default=None)
    start_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    actual_start_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    actual_end_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    max_participants: Mapped[int] = mapped_column(default=1)
    # Maintained by database triggers on bookings; never written by Python.
    current_participants: Mapped[int] = mapped_column(default=0)
    status: Mapped[SessionStatus] = mapped_column(
        enum_column(SessionStatus, "session_status"), default=SessionStatus.DRAFT
    )
    livekit_room_name: Mapped[str] = mapped_column(String(64), unique=True, default=new_room_name)
    # Bumped on every change a calendar subscriber should see (ICS SEQUENCE).
    revision: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    # Whether any enabled outbound webhook endpoint may receive this session's events:
    # the row locks load it in the same statement (portal/booking/locks.py), so a
    # change nobody listens to costs no extra query. None when not loaded.
    webhook_listeners: Mapped[bool | None] = query_expression()

    service: Mapped[Service] = relationship()
    practitioner: Mapped[User] = relationship()
    bookings: Mapped[list[Booking]] = relationship(  # noqa: F821
        back_populates="service_session", order_by="Booking.id"
    )

    @property
    def attendees(self) -> list[Booking]:  # noqa: F821
        """Who is coming: the bookings holding a seat (load `bookings` with the session)."""
        return [b for b in self.bookings if b.status in SEAT_HOLDING]

    @property
    def seats_left(self) -> int:
        return self.max_participants - self.current_participants

    @property
    def is_full(self) -> bool:
        return self.current_participants >= self.max_participants

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def display_title(self) -> str:
        if self.title:
            return self.title
        if self.sequence_number:
            return gettext(
                "%(service_name)s · session %(num)d",
                service_name=self.service.name,
                num=self.sequence_number,
            )
        return self.service.name

    def __repr__(self) -> str:
        return f"<ServiceSession {self.id} {self.session_type} {self.status} {self.start_time}>"
