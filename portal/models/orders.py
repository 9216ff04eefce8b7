from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..l10n import format_money
from .enums import CancelReason, OrderStatus, enum_column
from .services import Service
from .users import User


class Order(db.Model):
    """One payment; it pays for one or many bookings."""

    __tablename__ = "orders"
    __table_args__ = (CheckConstraint("total_cents >= 0", name="total_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    total_cents: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    status: Mapped[OrderStatus] = mapped_column(
        enum_column(OrderStatus, "order_status"), default=OrderStatus.PENDING
    )
    payment_provider: Mapped[str] = mapped_column(String(32), default="manual")
    payment_reference: Mapped[str] = mapped_column(String(120), default="")
    # While pending, the order's seats are held until this moment.
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[CancelReason | None] = mapped_column(
        enum_column(CancelReason, "order_cancel_reason", length=200)
    )

    user: Mapped[User] = relationship()
    service: Mapped[Service] = relationship()
    bookings: Mapped[list[Booking]] = relationship(  # noqa: F821
        back_populates="order", order_by="Booking.id"
    )

    @property
    def total_display(self) -> str:
        if self.total_cents == 0:
            return gettext("Free")
        return format_money(self.total_cents, self.currency)
