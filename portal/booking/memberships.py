"""Memberships: a plan defined, a subscription started on Stripe Checkout, and each of
Stripe's reports about it recorded once.

A paid period grants its credits as a class pass holding (a ClassPass of the plan's service,
expiring when the plan's rollover ends), so a seat taken with a membership credit goes
through class_passes.book_with_pass: one rule for seats, limits and credits given back.
The period is granted by its invoice, once: the membership's row lock serialises two
appliers of one invoice, and membership_periods.invoice_id is unique besides. A period whose
invoice is refunded in full loses its unused credits (the holding expires at once).

What the membership is (active, past due, paused, canceled; its period; a cancel asked) is
always what Stripe said last: every event fetches the subscription again and records it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from flask_babel import gettext
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..core.errors import InvalidInput, NotBookable, NotPermitted
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import (
    BillingPeriod,
    Booking,
    ClassPass,
    Membership,
    MembershipPeriod,
    MembershipPlan,
    MembershipStatus,
    Order,
    OrderStatus,
    PaymentKind,
    Service,
    ServiceSession,
    ServiceType,
    User,
)
from . import notices
from .class_passes import book_with_pass, issue_pass
from .ledger import record_movement
from .services import MAX_PASS_CREDITS, PassTerms, save_service
from .stripe_billing import (
    StripeInvoice,
    StripeSubscription,
    change_plan,
    fetch_subscription,
    start_subscription,
    update_subscription,
)
from .stripe_provider import STRIPE

log = logging.getLogger(__name__)

# An unlimited plan's period holds more credits than a client can spend in it: the plan's
# limits per day and per week are what bound it.
UNLIMITED_CREDITS = MAX_PASS_CREDITS
MAX_ROLLOVER = 12
MAX_MINIMUM = 36
MAX_NOTICE_DAYS = 90

# One period on the calendar, as Stripe bills it.
PERIOD_STEP = {
    BillingPeriod.MONTH: relativedelta(months=1),
    BillingPeriod.FOUR_WEEKS: relativedelta(weeks=4),
    BillingPeriod.YEAR: relativedelta(years=1),
}


@dataclass
class PlanTerms:
    """How a plan bills and what its periods grant, beside its pass terms."""

    period: BillingPeriod
    unlimited: bool = False
    rollover_periods: int = 0
    minimum_periods: int = 1
    notice_days: int = 0


def _check_plan(terms: PlanTerms) -> None:
    for value, top, name in (
        (terms.rollover_periods, MAX_ROLLOVER, "rollover_periods"),
        (terms.minimum_periods - 1, MAX_MINIMUM - 1, "minimum_periods"),
        (terms.notice_days, MAX_NOTICE_DAYS, "notice_days"),
    ):
        if not 0 <= value <= top:
            raise InvalidInput(gettext("That number is out of range."), field=name)


@unit_of_work
def save_plan(
    practitioner: User,
    service: Service | None,
    pass_terms: PassTerms,
    plan_terms: PlanTerms,
    **fields,
) -> Service:
    """Create or edit a membership plan: a service of its own type, with pass terms (where
    and how often its credits are spent) and billing terms. A change applies to periods
    granted after it; Stripe keeps billing existing members their price until they change."""
    _check_plan(plan_terms)
    saved = save_service(
        practitioner,
        service,
        pass_terms=pass_terms,
        service_type=ServiceType.MEMBERSHIP,
        **fields,
    )
    plan = db.session.get(MembershipPlan, saved.id) or MembershipPlan(service_id=saved.id)
    plan.period = plan_terms.period
    plan.unlimited = plan_terms.unlimited
    plan.rollover_periods = plan_terms.rollover_periods
    plan.minimum_periods = plan_terms.minimum_periods
    plan.notice_days = plan_terms.notice_days
    db.session.add(plan)
    db.session.flush()
    log.info("membership plan saved: service %s by practitioner %s", saved.id, practitioner.id)
    return saved


def plan_of(service: Service) -> MembershipPlan | None:
    if service.service_type != ServiceType.MEMBERSHIP:
        return None
    return db.session.get(MembershipPlan, service.id)


def current_membership(user: User, plan_id: int) -> Membership | None:
    """The client's membership of the plan that is not over, if any."""
    return db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.plan_id == plan_id,
            Membership.status != MembershipStatus.CANCELED,
        )
    )


def subscribe(user: User, service: Service, *, key: str, success_url: str, cancel_url: str) -> str:
    """Where the client pays for the plan's first period (Stripe Checkout); the membership
    exists once Stripe's event says the subscription does."""
    plan = plan_of(service)
    if plan is None or not service.is_active:
        raise NotBookable(
            gettext("%(service_name)s is not currently offered.", service_name=service.name)
        )
    if current_membership(user, service.id) is not None:
        raise NotBookable(gettext("You are already a member of this plan."))
    db.session.rollback()  # no transaction held open across Stripe's answer
    return start_subscription(
        user, plan, key=f"subscribe-{user.id}-{key}", success_url=success_url, cancel_url=cancel_url
    )


# -- What Stripe reports -----------------------------------------------------------------


def _lock_membership(subscription_id: str) -> Membership | None:
    return db.session.scalars(
        select(Membership)
        .where(Membership.stripe_subscription_id == subscription_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def record_subscription(sub: StripeSubscription, now: datetime) -> Membership | None:
    """The membership as Stripe reports it now, made on first sight; None when the
    subscription is not one of ours (no client or plan in its metadata)."""
    if sub.user_id is None or sub.plan_id is None:
        return None
    # A plan that is not (or no longer) a membership plan, or a client gone: not ours to
    # record, and answered so, rather than an event failing on every run.
    if (
        db.session.get(MembershipPlan, sub.plan_id) is None
        or db.session.get(User, sub.user_id) is None
    ):
        return None
    spelling = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    # Two first events of one subscription at once: one row, whoever inserts it.
    db.session.execute(
        spelling.insert(Membership)
        .values(
            user_id=sub.user_id,
            plan_id=sub.plan_id,
            stripe_subscription_id=sub.subscription_id,
            stripe_customer_id=sub.customer_id,
            status=sub.status,
            created_at=now,
            cancel_at_period_end=False,
            price_cents=sub.price_cents,
            currency=sub.currency,
        )
        .on_conflict_do_nothing(index_elements=["stripe_subscription_id"])
    )
    membership = _lock_membership(sub.subscription_id)
    assert membership is not None
    was = membership.status
    membership.plan_id = sub.plan_id
    membership.status = sub.status
    membership.stripe_customer_id = sub.customer_id
    membership.current_period_start = sub.period_start
    membership.current_period_end = sub.period_end
    membership.cancel_at_period_end = sub.cancel_at_period_end or sub.cancel_at is not None
    membership.cancel_at = sub.cancel_at
    membership.price_cents = sub.price_cents
    membership.currency = sub.currency
    if sub.status == MembershipStatus.CANCELED and membership.canceled_at is None:
        membership.canceled_at = now
    db.session.flush()
    if was != sub.status:
        log.info(
            "membership %s (%s): %s -> %s", membership.id, sub.subscription_id, was, sub.status
        )
    return membership


@unit_of_work
def apply_subscription(sub: StripeSubscription, now: datetime) -> str:
    membership = record_subscription(sub, now)
    return "not ours" if membership is None else f"membership {membership.status.value}"


def _granted_credits(plan: MembershipPlan) -> int:
    terms = plan.service.pass_terms
    assert terms is not None  # a plan is saved with its terms
    return UNLIMITED_CREDITS if plan.unlimited else terms.credits


@unit_of_work
def grant_period(invoice: StripeInvoice, sub: StripeSubscription, now: datetime) -> str:
    """A paid invoice's period: its order (the money, with its receipt) and its credits, once."""
    membership = record_subscription(sub, now)
    if membership is None:
        return "not ours"
    if not invoice.paid:
        return "invoice not paid"
    if invoice.period_start is None or invoice.period_end is None:
        # Only proration lines (a plan change invoiced at once): money, but no period.
        return "no period billed"
    granted = db.session.scalar(
        select(MembershipPeriod.id).where(MembershipPeriod.invoice_id == invoice.invoice_id)
    )
    if granted is not None:
        return "period already granted"
    plan = db.session.get_one(MembershipPlan, membership.plan_id)
    order = Order(
        user_id=membership.user_id,
        service_id=plan.service_id,
        total_cents=invoice.amount_cents,
        currency=invoice.currency,
        status=OrderStatus.PAID,
        payment_provider=STRIPE,
        created_at=now,
        paid_at=now,
    )
    db.session.add(order)
    db.session.flush()
    if invoice.charge_id is not None:
        record_movement(
            order,
            PaymentKind.CHARGE,
            invoice.amount_cents,
            provider=STRIPE,
            now=now,
            provider_object_id=invoice.charge_id,
            provider_payment_intent_id=invoice.payment_intent_id,
            reason="membership period",
        )
    terms = plan.service.pass_terms
    assert terms is not None  # a plan is saved with its terms
    holding = issue_pass(
        order,
        membership.user_id,
        plan.service,
        terms,
        credits=_granted_credits(plan),
        unlimited=plan.unlimited,
        # Rolled over: usable until the end of the plan's Nth period after its own.
        expires_at=invoice.period_end + PERIOD_STEP[plan.period] * plan.rollover_periods,
        now=now,
    )
    db.session.add(
        MembershipPeriod(
            membership_id=membership.id,
            invoice_id=invoice.invoice_id,
            order_id=order.id,
            class_pass_id=holding.id,
            period_start=invoice.period_start,
            period_end=invoice.period_end,
            created_at=now,
        )
    )
    db.session.flush()
    notices.membership_renewed(order)
    log.info(
        "membership period granted: membership %s, invoice %s, order %s, %s credits until %s",
        membership.id,
        invoice.invoice_id,
        order.id,
        holding.credits,
        holding.expires_at,
    )
    return f"period granted: order {order.id}"


@unit_of_work
def payment_failed(invoice: StripeInvoice, sub: StripeSubscription, now: datetime) -> str:
    """A renewal declined: the membership is what Stripe says (past due while it retries)
    and the client is told."""
    membership = record_subscription(sub, now)
    if membership is None:
        return "not ours"
    notices.membership_payment_failed(membership.user_id, membership.id, membership.plan.name)
    log.info("membership %s renewal failed: invoice %s", membership.id, invoice.invoice_id)
    return f"payment failed: membership {membership.status.value}"


def take_back_refunded(order: Order, now: datetime) -> bool:
    """Under the order's lock, after its refunds are recorded: a period's invoice refunded
    in full takes back the period's unused credits (its seats already taken stay)."""
    if order.amount_refundable > 0:
        return False
    period = db.session.scalar(
        select(MembershipPeriod).where(
            MembershipPeriod.order_id == order.id, MembershipPeriod.revoked_at.is_(None)
        )
    )
    if period is None:
        return False
    period.revoked_at = now
    db.session.execute(
        update(ClassPass)
        .where(
            ClassPass.id == period.class_pass_id,
            (ClassPass.expires_at.is_(None)) | (ClassPass.expires_at > now),
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    log.info("membership period %s refunded: its unused credits taken back", period.id)
    return True


# -- The client ---------------------------------------------------------------------------


def holdings_of(memberships: list[Membership], now: datetime) -> dict[int, list[ClassPass]]:
    """Each membership's credit holdings still usable, the soonest to expire first: one
    query however many memberships a page shows."""
    found: dict[int, list[ClassPass]] = {m.id: [] for m in memberships}
    if not found:
        return found
    rows = db.session.execute(
        select(MembershipPeriod.membership_id, ClassPass)
        .join(MembershipPeriod, MembershipPeriod.class_pass_id == ClassPass.id)
        .where(
            MembershipPeriod.membership_id.in_(found),
            MembershipPeriod.revoked_at.is_(None),
            ClassPass.credits_used < ClassPass.credits,
            (ClassPass.expires_at.is_(None)) | (ClassPass.expires_at > now),
        )
        .order_by(ClassPass.expires_at, ClassPass.id)
    )
    for membership_id, held in rows:
        found[membership_id].append(held)
    return found


def holdings(membership: Membership, now: datetime) -> list[ClassPass]:
    """The membership's credit holdings still usable, the soonest to expire first."""
    return holdings_of([membership], now)[membership.id]


def credits_left(membership: Membership, now: datetime) -> int:
    return sum(h.credits_left for h in holdings(membership, now))


def book_with_membership(
    user: User, membership: Membership, session: ServiceSession, *, now: datetime | None = None
) -> Booking:
    """A seat paid by the membership's credit that expires soonest."""
    now = now or utcnow()
    if membership.user_id != user.id:
        raise NotPermitted(gettext("This membership is not yours."))
    usable = holdings(membership, now)
    if not usable:
        raise NotBookable(gettext("Your membership has no credits left this period."))
    return book_with_pass(user, usable[0], session, now=now)


def _owned(user: User, membership: Membership) -> None:
    if membership.user_id != user.id:
        raise NotPermitted(gettext("This membership is not yours."))
    if membership.status == MembershipStatus.CANCELED:
        raise NotBookable(gettext("This membership has ended."))


def cancel_takes_effect(membership: Membership, plan: MembershipPlan, now: datetime) -> datetime:
    """The period end a cancel asked now lands on: the first one past the notice and past
    the minimum term."""
    end = membership.current_period_end or now
    step = PERIOD_STEP[plan.period]
    # A day's slack: Stripe's first period starts when Checkout completed, a moment after
    # the membership's row may have been written.
    earliest = max(
        now + timedelta(days=plan.notice_days),
        membership.created_at + step * plan.minimum_periods - timedelta(days=1),
    )
    while end < earliest:
        end += step
    return end


def cancel_membership(user: User, membership: Membership, *, now: datetime | None = None) -> None:
    """Ask Stripe to end the subscription at the end of a period (the plan's notice and
    minimum term decide which); the membership records it when Stripe's event comes."""
    now = now or utcnow()
    _owned(user, membership)
    plan = db.session.get_one(MembershipPlan, membership.plan_id)
    ends = cancel_takes_effect(membership, plan, now)
    if membership.current_period_end is not None and ends <= membership.current_period_end:
        params: dict = {"cancel_at_period_end": True}
    else:
        params = {"cancel_at": int(ends.timestamp())}
    sub_id = membership.stripe_subscription_id
    db.session.rollback()
    update_subscription(sub_id, params, key=f"cancel-{sub_id}-{int(ends.timestamp())}")
    log.info("membership %s: cancel asked, effective %s", membership.id, ends)


def keep_membership(user: User, membership: Membership) -> None:
    """Take back a cancel asked before it took effect."""
    _owned(user, membership)
    sub_id = membership.stripe_subscription_id
    db.session.rollback()
    update_subscription(
        sub_id,
        {"cancel_at_period_end": False, "cancel_at": ""},
        key=f"keep-{sub_id}-{int(utcnow().timestamp())}",
    )


def pause_membership(user: User, membership: Membership) -> None:
    """Stop billing (Stripe voids the invoices while paused); credits wait meanwhile."""
    _owned(user, membership)
    if membership.status != MembershipStatus.ACTIVE:
        raise NotBookable(gettext("Only an active membership can be paused."))
    sub_id = membership.stripe_subscription_id
    db.session.rollback()
    update_subscription(
        sub_id,
        {"pause_collection": {"behavior": "void"}},
        key=f"pause-{sub_id}-{int(utcnow().timestamp())}",
    )


def resume_membership(user: User, membership: Membership) -> None:
    _owned(user, membership)
    if membership.status != MembershipStatus.PAUSED:
        raise NotBookable(gettext("This membership is not paused."))
    sub_id = membership.stripe_subscription_id
    db.session.rollback()
    update_subscription(
        sub_id, {"pause_collection": ""}, key=f"resume-{sub_id}-{int(utcnow().timestamp())}"
    )


def switch_plan(user: User, membership: Membership, service: Service) -> None:
    """Another plan of the same practitioner; Stripe prorates the difference."""
    _owned(user, membership)
    plan = plan_of(service)
    current = db.session.get_one(Service, membership.plan_id)
    if (
        plan is None
        or not service.is_active
        or service.primary_practitioner_id != current.primary_practitioner_id
        or service.id == current.id
    ):
        raise NotBookable(gettext("That plan cannot be chosen."))
    sub_id = membership.stripe_subscription_id
    db.session.rollback()
    item_id = fetch_subscription(sub_id).item_id
    if item_id is None:
        raise NotBookable(gettext("That plan cannot be chosen."))
    change_plan(sub_id, item_id, plan, key=f"switch-{sub_id}-{service.id}")


# -- The practitioner's figures -------------------------------------------------------------

# A period's price as a month's share of it (a year is 12 months; 4 weeks, 13 a year).
MONTHLY_SHARE = {
    BillingPeriod.MONTH: (1, 1),
    BillingPeriod.FOUR_WEEKS: (13, 12),
    BillingPeriod.YEAR: (1, 12),
}
CHURN_WINDOW = timedelta(days=30)


@dataclass
class MemberFigures:
    members: list[Membership]
    active: int
    past_due: int
    paused: int
    # Monthly recurring revenue per currency, hundredths of the unit: what the memberships
    # that still renew (active or past due) bill, as a month's share of their period.
    mrr: dict[str, int]
    canceled_recently: int
    # Canceled in the last 30 days, over those members plus the ones still in (a fraction).
    churn: float


def member_figures(practitioner: User, now: datetime) -> MemberFigures:
    rows = list(
        db.session.execute(
            select(Membership, MembershipPlan.period)
            .join(Service, Service.id == Membership.plan_id)
            .join(MembershipPlan, MembershipPlan.service_id == Service.id)
            .where(Service.primary_practitioner_id == practitioner.id)
            .order_by(Membership.status, Membership.created_at.desc(), Membership.id.desc())
        )
    )
    by_status = {status: 0 for status in MembershipStatus}
    mrr: dict[str, int] = {}
    recent = 0
    for membership, period in rows:
        by_status[membership.status] += 1
        if membership.status in (MembershipStatus.ACTIVE, MembershipStatus.PAST_DUE):
            times, per = MONTHLY_SHARE[period]
            mrr[membership.currency] = (
                mrr.get(membership.currency, 0) + membership.price_cents * times // per
            )
        if membership.canceled_at is not None and membership.canceled_at >= now - CHURN_WINDOW:
            recent += 1
    still_in = len(rows) - by_status[MembershipStatus.CANCELED]
    return MemberFigures(
        members=[m for m, _period in rows],
        active=by_status[MembershipStatus.ACTIVE],
        past_due=by_status[MembershipStatus.PAST_DUE],
        paused=by_status[MembershipStatus.PAUSED],
        mrr=mrr,
        canceled_recently=recent,
        churn=recent / (still_in + recent) if still_in + recent else 0.0,
    )
