"""Memberships: a plan billed every period by Stripe, and the clients who subscribe to it.

A plan is a service of type `membership`: its price is the period's price, and its
ClassPassTerms say where its credits are spent and how often, exactly as a class pass's do.
Each paid period (one Stripe invoice) grants its credits once, as a ClassPass holding of the
membership (MembershipPeriod.invoice_id is unique: a renewal delivered twice grants once), so
a seat taken with a membership credit is a seat taken with a pass credit: the same lock, the
same capacity CHECK, the same credit given back on a timely cancel.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext
from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import Model
from .enums import StrEnum, enum_column, set_labels
from .orders import Order
from .passes import ClassPass
from .services import Service
from .users import User


class BillingPeriod(StrEnum):
    MONTH = "month"
    FOUR_WEEKS = "four_weeks"
    YEAR = "year"


set_labels(
    BillingPeriod,
    {
        BillingPeriod.MONTH: lazy_gettext("month"),
        BillingPeriod.FOUR_WEEKS: lazy_gettext("4 weeks"),
        BillingPeriod.YEAR: lazy_gettext("year"),
    },
)


class MembershipStatus(StrEnum):
    # Paid up: credits may be spent.
    ACTIVE = "active"
    # A renewal failed and Stripe is retrying it: credits wait until it is paid.
    PAST_DUE = "past_due"
    # Billing paused by the client: no invoices, no spending.
    PAUSED = "paused"
    CANCELED = "canceled"


set_labels(
    MembershipStatus,
    {
        MembershipStatus.ACTIVE: lazy_gettext("active"),
        MembershipStatus.PAST_DUE: lazy_gettext("payment overdue"),
        MembershipStatus.PAUSED: lazy_gettext("paused"),
        MembershipStatus.CANCELED: lazy_gettext("canceled"),
    },
)


class MembershipPlan(Model):
    """What a membership service bills and grants, beside its service and its pass terms."""

    __tablename__ = "membership_plans"
    __table_args__ = (
        CheckConstraint("rollover_periods >= 0", name="plan_rollover_not_negative"),
        CheckConstraint("minimum_periods >= 1", name="plan_minimum_positive"),
        CheckConstraint("notice_days >= 0", name="plan_notice_not_negative"),
    )

    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[BillingPeriod] = mapped_column(enum_column(BillingPeriod, "billing_period"))
    # Unlimited: as many seats as the pass terms' limits (per day, per week) let through.
    unlimited: Mapped[bool] = mapped_column(default=False)
    # Unused credits stay usable this many periods after their own period ends.
    rollover_periods: Mapped[int] = mapped_column(default=0)
    # Billed at least this many periods before a cancel takes effect.
    minimum_periods: Mapped[int] = mapped_column(default=1)
    # A cancel asked fewer days than this before the renewal takes effect a period later.
    notice_days: Mapped[int] = mapped_column(default=0)

    # Templates read a plan's terms from its service (service.membership_plan).
    service: Mapped[Service] = relationship(backref=backref("membership_plan", uselist=False))


class Membership(Model):
    """A client's subscription to a plan, as Stripe last reported it."""

    __tablename__ = "memberships"
    __table_args__ = (Index("ix_memberships_plan_status", "plan_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    stripe_subscription_id: Mapped[str] = mapped_column(String(255), unique=True)
    stripe_customer_id: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[MembershipStatus] = mapped_column(
        enum_column(MembershipStatus, "membership_status")
    )
    current_period_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    current_period_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    # When a cancel asked takes effect (a period's end, later if the notice or minimum term
    # says so); None while the membership renews.
    cancel_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The price Stripe bills each period, in hundredths (a plan change moves it).
    price_cents: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
    plan: Mapped[Service] = relationship()

    @property
    def may_spend(self) -> bool:
        return self.status == MembershipStatus.ACTIVE


class MembershipPeriod(Model):
    """One paid period: its invoice (unique: granted once), the order that holds its money
    and the pass holding its credits."""

    __tablename__ = "membership_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    invoice_id: Mapped[str] = mapped_column(String(255), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    class_pass_id: Mapped[int] = mapped_column(ForeignKey("class_passes.id"), unique=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The invoice was refunded: the period's unused credits were taken back.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    membership: Mapped[Membership] = relationship()
    order: Mapped[Order] = relationship()
    class_pass: Mapped[ClassPass] = relationship()
