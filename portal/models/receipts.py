"""Receipts: one per money movement a client is owed a record of (a payment in, a fee, a
refund), numbered in sequence per practitioner.

The number comes from the practitioner's counter row, incremented in the transaction that
writes the movement (an upsert takes the row's lock until the commit), so a rolled-back
payment gives its number back and two payments never share one; the UNIQUE below is the
database's last word on it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import Model
from .enums import PAYMENTS_BACK, PAYMENTS_IN, PaymentKind
from .orders import Order
from .payments import Payment
from .users import User


class ReceiptCounter(Model):
    """The last receipt number a practitioner issued."""

    __tablename__ = "receipt_counters"
    __table_args__ = (CheckConstraint("last_number > 0", name="receipt_counter_positive"),)

    practitioner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    last_number: Mapped[int]


class Receipt(Model):
    __tablename__ = "receipts"
    __table_args__ = (
        UniqueConstraint("practitioner_id", "number", name="uq_receipts_practitioner_number"),
        CheckConstraint("number > 0", name="receipt_number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # One receipt per movement: a webhook applied twice cannot issue a second.
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), unique=True)
    # Who issues it: the practitioner the order pays (its service's primary practitioner).
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    number: Mapped[int]
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="receipt")
    practitioner: Mapped[User] = relationship()

    # What the receipt shows is read as of its movement (the order's rows up to it), so a
    # receipt printed a year later says what it said the day it was issued. The order's
    # payments and bookings are loaded by the caller (one query each).

    @property
    def order(self) -> Order:
        return self.payment.order

    def _to_date(self, kinds) -> int:
        return sum(
            p.amount_cents
            for p in self.order.payments
            if p.id <= self.payment_id and p.kind in kinds
        )

    @property
    def paid_to_date(self) -> int:
        return self._to_date(PAYMENTS_IN)

    @property
    def fees_to_date(self) -> int:
        return self._to_date((PaymentKind.FEE,))

    @property
    def refunded_to_date(self) -> int:
        return self._to_date(PAYMENTS_BACK) - self._to_date((PaymentKind.DISPUTE_WON,))

    @property
    def due_after(self) -> int:
        """What was still owed once this movement was made."""
        return max(self.order.total_cents - self.paid_to_date, 0)

    @property
    def is_refund(self) -> bool:
        return self.payment.kind in PAYMENTS_BACK

    @property
    def reference(self) -> str:
        """The number as printed: the issuer's id, then their own sequence."""
        return f"{self.practitioner_id}-{self.number:05d}"
