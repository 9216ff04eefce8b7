from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import Model
from .enums import BookingStatus, CancelReason, enum_column
from .orders import Order
from .services import Service
from .sessions import ServiceSession
from .users import User


class Booking(Model):
    """A seat in a ServiceSession; its times are read from the session."""

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("price_charged_cents >= 0", name="price_not_negative"),
        # One live seat per person per session; canceled rows stay as history.
        Index(
            "uq_bookings_active_seat",
            "user_id",
            "service_session_id",
            unique=True,
            sqlite_where=text("status <> 'canceled'"),
            postgresql_where=text("status <> 'canceled'"),
        ),
        Index("ix_bookings_session_status", "service_session_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    service_session_id: Mapped[int] = mapped_column(ForeignKey("service_sessions.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    status: Mapped[BookingStatus] = mapped_column(
        enum_column(BookingStatus, "booking_status"), default=BookingStatus.DRAFT
    )
    price_charged_cents: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    pending_payment_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[CancelReason | None] = mapped_column(
        enum_column(CancelReason, "booking_cancel_reason", length=200)
    )
    # What the person who canceled typed, if anything: shown and sent, never compared.
    cancel_note: Mapped[str] = mapped_column(String(200), default="", server_default="")
    canceled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Canceled by the client after the service's cut-off: not a no-show, not refunded.
    late_cancel: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    service: Mapped[Service] = relationship()
    service_session: Mapped[ServiceSession] = relationship(back_populates="bookings")
    order: Mapped[Order] = relationship(back_populates="bookings")
    canceled_by: Mapped[User | None] = relationship(foreign_keys=[canceled_by_id])

    def get_start_time(self) -> datetime | None:
        return self.service_session.start_time

    def get_end_time(self) -> datetime | None:
        return self.service_session.end_time

    @property
    def hold_expired(self) -> bool:
        return self.cancel_reason == CancelReason.HOLD_EXPIRED

    @property
    def is_unscheduled(self) -> bool:
        return self.service_session.start_time is None

    def __repr__(self) -> str:
        return f"<Booking {self.id} {self.status} session={self.service_session_id}>"
