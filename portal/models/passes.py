"""Class passes: a service sold as N credits, each spent on a seat in an eligible group session.

A pass's terms sit beside its service (ClassPassTerms); what a client bought is a ClassPass,
one per order; each seat taken with it is a ClassPassUse. The database holds the count:
`credits_used` is moved only by conditional UPDATEs (portal/booking/pass_credits.py) and its
CHECK refuses a pass spent past its credits, as the capacity CHECK refuses an overfull session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import Model, db
from .bookings import Booking
from .orders import Order
from .records import TAG_MAX
from .services import Service
from .users import User

# The services a pass may be spent on by name (its other door is a tag).
class_pass_services = Table(
    "class_pass_services",
    db.metadata,
    Column(
        "pass_service_id",
        ForeignKey("class_pass_terms.service_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
)

# The services a sold pass may be spent on by name: its terms' list, copied at sale.
class_pass_eligible_services = Table(
    "class_pass_eligible_services",
    db.metadata,
    Column("class_pass_id", ForeignKey("class_passes.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
)


class ServiceTag(Model):
    """A word a practitioner puts on a service ("group class"), so a pass can name them all."""

    __tablename__ = "service_tags"

    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(TAG_MAX), primary_key=True, index=True)


class ClassPassTerms(Model):
    """What a class pass service grants: credits, where they may be spent, how often."""

    __tablename__ = "class_pass_terms"
    __table_args__ = (
        CheckConstraint("credits >= 1", name="pass_credits_positive"),
        CheckConstraint("per_day IS NULL OR per_day >= 1", name="pass_per_day_positive"),
        CheckConstraint("per_week IS NULL OR per_week >= 1", name="pass_per_week_positive"),
    )

    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    credits: Mapped[int]
    # Any service carrying this tag is eligible, besides the ones listed.
    eligible_tag: Mapped[str | None] = mapped_column(String(TAG_MAX))
    # At most this many seats per day / per week (the session's local calendar), if set.
    per_day: Mapped[int | None]
    per_week: Mapped[int | None]

    service: Mapped[Service] = relationship(foreign_keys=[service_id], back_populates="pass_terms")
    eligible_services: Mapped[list[Service]] = relationship(
        secondary=class_pass_services, order_by="Service.name"
    )


class ClassPass(Model):
    """One pass a client bought: its credits and how many are spent, and the terms it was sold
    on. The terms are copied at sale (credits, eligibility, limits): editing the pass later
    changes what the next buyer gets, never what an earlier one paid for."""

    __tablename__ = "class_passes"
    __table_args__ = (
        CheckConstraint("credits >= 1", name="class_pass_credits_positive"),
        CheckConstraint(
            "credits_used >= 0 AND credits_used <= credits", name="class_pass_credits_used"
        ),
        CheckConstraint("per_day IS NULL OR per_day >= 1", name="class_pass_per_day_positive"),
        CheckConstraint("per_week IS NULL OR per_week >= 1", name="class_pass_per_week_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    credits: Mapped[int]
    credits_used: Mapped[int] = mapped_column(default=0, server_default="0")
    eligible_tag: Mapped[str | None] = mapped_column(String(TAG_MAX))
    per_day: Mapped[int | None]
    per_week: Mapped[int | None]
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Granted by an unlimited membership plan: `credits` is then booking.UNLIMITED_CREDITS,
    # a bound no one reaches, and pages say "Unlimited classes" instead of counting.
    unlimited: Mapped[bool] = mapped_column(default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    order: Mapped[Order] = relationship()
    user: Mapped[User] = relationship()
    service: Mapped[Service] = relationship()
    eligible_services: Mapped[list[Service]] = relationship(
        secondary=class_pass_eligible_services, order_by="Service.name", viewonly=True
    )

    @property
    def credits_left(self) -> int:
        return self.credits - self.credits_used

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


class ClassPassUse(Model):
    """A seat taken with a pass credit. Returned (a cancel in time, a canceled session) gives
    the credit back; a late cancel or a no-show keeps it spent."""

    __tablename__ = "class_pass_uses"
    __table_args__ = (Index("ix_class_pass_uses_pass", "class_pass_id", "returned_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_pass_id: Mapped[int] = mapped_column(ForeignKey("class_passes.id"))
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    class_pass: Mapped[ClassPass] = relationship()
    booking: Mapped[Booking] = relationship()
