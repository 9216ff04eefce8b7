from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import gettext
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import Model
from ..l10n import format_money
from .enums import (
    PAYMENTS_BACK,
    PAYMENTS_IN,
    CancelReason,
    FeeStatus,
    OrderStatus,
    PaymentKind,
    PaymentPolicy,
    enum_column,
)
from .fees import Fee
from .payments import Payment
from .services import Service
from .users import User

if TYPE_CHECKING:
    # bookings.py imports this module: the name is for annotations only.
    from .bookings import Booking


class Order(Model):
    """One payment; it pays for one or many bookings."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("total_cents >= 0", name="total_not_negative"),
        CheckConstraint(
            "deposit_cents IS NULL OR (deposit_cents > 0 AND deposit_cents <= total_cents)",
            name="deposit_within_total",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    total_cents: Mapped[int] = mapped_column(default=0)
    # The service's payment policy when the order was placed: its terms do not change after.
    payment_policy: Mapped[PaymentPolicy] = mapped_column(
        enum_column(PaymentPolicy, "order_payment_policy"),
        default=PaymentPolicy.IN_FULL,
        server_default=PaymentPolicy.IN_FULL.value,
    )
    # What must be paid before the booking is confirmed, when less than the total (a
    # deposit); NULL: the total. The rest is a balance due (Order.amount_due).
    deposit_cents: Mapped[int | None] = mapped_column(default=None)
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

    payments: Mapped[list[Payment]] = relationship(order_by="Payment.id", back_populates="order")
    fees: Mapped[list[Fee]] = relationship(order_by="Fee.id")

    def _sum(self, kinds) -> int:
        return sum(p.amount_cents for p in self.payments if p.kind in kinds)

    @property
    def confirmed_unpaid(self) -> bool:
        """Pay later: the bookings are confirmed while the order awaits its money."""
        return self.payment_policy == PaymentPolicy.PAY_LATER

    @property
    def amount_paid(self) -> int:
        """Paid toward the total (card charges and recorded payments), refunds aside."""
        return self._sum(PAYMENTS_IN)

    @property
    def amount_refunded(self) -> int:
        """Given back, refunds and disputes alike (less the disputes won back)."""
        return self._sum(PAYMENTS_BACK) - self._sum((PaymentKind.DISPUTE_WON,))

    @property
    def amount_fees(self) -> int:
        return self._sum((PaymentKind.FEE,))

    @property
    def amount_net(self) -> int:
        """What the practitioner keeps of this order."""
        return self.amount_paid + self.amount_fees - self.amount_refunded

    @property
    def amount_refundable(self) -> int:
        return max(self.amount_paid + self.amount_fees - self.amount_refunded, 0)

    @property
    def amount_due(self) -> int:
        """Still owed: nothing for an order that ended (canceled, expired, refunded)."""
        if self.status not in (OrderStatus.PENDING, OrderStatus.PAID):
            return 0
        return max(self.total_cents - self.amount_paid, 0)

    @property
    def fees_due(self) -> int:
        """Fees the card did not pay: owed whatever the order's own status."""
        return sum(f.amount_cents for f in self.fees if f.status == FeeStatus.DUE)

    @property
    def amount_due_at_booking(self) -> int:
        """What confirms the booking: the deposit, or else the total."""
        return self.total_cents if self.deposit_cents is None else self.deposit_cents

    @property
    def seats_priced_singly(self) -> bool:
        """Whether each seat carries its own part of the total (a workshop's seats), or the
        total is the whole's (a course or a bundle, whose seats are priced 0)."""
        return sum(b.price_charged_cents for b in self.bookings) == self.total_cents

    def money_display(self, cents: int) -> str:
        return format_money(cents, self.currency)

    @property
    def total_display(self) -> str:
        if self.total_cents == 0:
            return gettext("Free")
        return format_money(self.total_cents, self.currency)
