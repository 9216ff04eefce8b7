from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import Model
from .bookings import Booking
from .enums import StrEnum, enum_column, set_labels
from .users import User


class AttendanceStatus(StrEnum):
    ATTENDED = "attended"
    NO_SHOW = "no_show"


set_labels(
    AttendanceStatus,
    {
        AttendanceStatus.ATTENDED: lazy_gettext("attended"),
        AttendanceStatus.NO_SHOW: lazy_gettext("no show"),
    },
)


class AttendanceOutcome(Model):
    """The recorded attendance of one confirmed booking of a completed session.

    `computed_outcome` is what the room data says and is refreshed on every
    recomputation; `outcome` is what counts, and differs from it only when a
    practitioner or staff member overrode it (who, when and why are kept).
    """

    __tablename__ = "attendance_outcomes"
    __table_args__ = (
        CheckConstraint("total_seconds >= 0", name="total_not_negative"),
        CheckConstraint(
            "(overridden_by_id IS NULL) = (overridden_at IS NULL)", name="override_complete"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)
    outcome: Mapped[AttendanceStatus] = mapped_column(
        enum_column(AttendanceStatus, "attendance_outcome")
    )
    computed_outcome: Mapped[AttendanceStatus] = mapped_column(
        enum_column(AttendanceStatus, "attendance_computed_outcome")
    )
    total_seconds: Mapped[int] = mapped_column(default=0)
    first_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    overridden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    overridden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    override_reason: Mapped[str] = mapped_column(String(500), default="")

    booking: Mapped[Booking] = relationship()
    overridden_by: Mapped[User | None] = relationship()

    @property
    def is_overridden(self) -> bool:
        return self.overridden_by_id is not None

    def __repr__(self) -> str:
        return f"<AttendanceOutcome booking={self.booking_id} {self.outcome}>"
