"""Memberships (#21): each paid period grants its credits once, by its invoice, as a pass
holding; credits are spent with the class pass's seat rules, wait while the membership is past
due or paused, roll over or expire by the plan's rule, and a refunded period loses its unused
credits. The clock is moved across periods with time-machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal import booking
from portal.booking.ledger import record_movement
from portal.booking.locks import lock_order
from portal.booking.memberships import (
    apply_subscription,
    grant_period,
    payment_failed,
    take_back_refunded,
)
from portal.extensions import db
from portal.models import (
    BillingPeriod,
    BookingStatus,
    ClassPass,
    MembershipPeriod,
    MembershipStatus,
    Notification,
    NotificationKind,
    Order,
    OrderStatus,
    Payment,
    PaymentKind,
)
from tests.fixtures.factories import make_user, seat_invariant_violations
from tests.fixtures.memberships import invoice, make_plan, membership_of, subscription
from tests.fixtures.passes import make_group_class

JAN = datetime(2027, 1, 1, tzinfo=UTC)
FEB = datetime(2027, 2, 1, tzinfo=UTC)
MAR = datetime(2027, 3, 1, tzinfo=UTC)
APR = datetime(2027, 4, 1, tzinfo=UTC)


@pytest.fixture
def yoga(practitioner):
    return make_group_class(practitioner, name="Yoga", cancellation_cutoff_hours=12)


def _class(service, when: datetime, **extra):
    return booking.create_session(service, start_time=when, **extra)


def _renew(client, plan, start, end, **extra):
    """Stripe's subscription and its paid invoice for the period, as the event applies them."""
    sub_extra = {k: extra.pop(k) for k in ("status", "sub_id") if k in extra}
    return grant_period(
        invoice(start, end, **extra), subscription(client, plan, start, end, **sub_extra), start
    )


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_paid_invoice_grants_its_period_once_even_delivered_twice(
    practitioner, client_user, yoga
):
    plan = make_plan(practitioner, credits=8, services=[yoga])
    paid = invoice(JAN, FEB, invoice_id="in_jan")
    sub = subscription(client_user, plan, JAN, FEB)

    assert grant_period(paid, sub, JAN).startswith("period granted")
    assert grant_period(paid, sub, JAN + timedelta(minutes=1)) == "period already granted"

    membership = membership_of(client_user)
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.current_period_end == FEB
    assert _count(MembershipPeriod) == 1
    holding = db.session.scalars(select(ClassPass)).one()
    assert (holding.credits, holding.expires_at) == (8, FEB)
    order = db.session.get(Order, holding.order_id)
    assert order.status == OrderStatus.PAID and order.total_cents == 9900
    # The money is one charge row (with its receipt), the notice one outbox row.
    assert _count(Payment) == 1
    renewed = select(func.count(Notification.id)).where(
        Notification.kind == NotificationKind.MEMBERSHIP_RENEWED
    )
    assert db.session.scalar(renewed) == 1
    assert booking.credits_left(membership, JAN + timedelta(days=1)) == 8


def test_the_database_refuses_a_second_grant_of_one_invoice(practitioner, client_user, yoga):
    plan = make_plan(practitioner, services=[yoga])
    _renew(client_user, plan, JAN, FEB, invoice_id="in_jan")
    period = db.session.scalars(select(MembershipPeriod)).one()
    db.session.add(
        MembershipPeriod(
            membership_id=period.membership_id,
            invoice_id="in_jan",
            order_id=period.order_id,
            class_pass_id=period.class_pass_id,
            period_start=JAN,
            period_end=FEB,
        )
    )
    with pytest.raises(Exception, match="invoice_id|UNIQUE|unique"):
        db.session.flush()
    db.session.rollback()


def test_periods_delivered_out_of_order_are_each_granted_once(practitioner, client_user, yoga):
    plan = make_plan(practitioner, credits=4, services=[yoga])
    # February's renewal arrives before January's first invoice (and the subscription event).
    _renew(client_user, plan, FEB, MAR, invoice_id="in_feb")
    _renew(client_user, plan, JAN, FEB, invoice_id="in_jan")
    _renew(client_user, plan, FEB, MAR, invoice_id="in_feb")

    assert _count(MembershipPeriod) == 2
    expiries = sorted(h.expires_at for h in db.session.scalars(select(ClassPass)))
    assert expiries == [FEB, MAR]


def test_unused_credits_expire_with_their_period(practitioner, client_user, yoga):
    plan = make_plan(practitioner, credits=2, services=[yoga])
    _renew(client_user, plan, JAN, FEB)
    membership = membership_of(client_user)
    with time_machine.travel(JAN + timedelta(days=3), tick=False):
        booking.book_with_membership(
            client_user, membership, _class(yoga, JAN + timedelta(days=5, hours=9))
        )
        assert booking.credits_left(membership, JAN + timedelta(days=3)) == 1
    with time_machine.travel(FEB + timedelta(days=1), tick=False):
        late = _class(yoga, FEB + timedelta(days=3, hours=9))
        with pytest.raises(booking.NotBookable, match="no credits left"):
            booking.book_with_membership(client_user, membership, late)


def test_rollover_keeps_unused_credits_for_the_plan_s_periods(practitioner, client_user, yoga):
    plan = make_plan(practitioner, credits=2, services=[yoga], rollover_periods=1)
    _renew(client_user, plan, JAN, FEB)
    _renew(client_user, plan, FEB, MAR)
    membership = membership_of(client_user)

    with time_machine.travel(FEB + timedelta(days=2), tick=False):
        # January's two roll into February beside February's own two; the oldest go first.
        assert booking.credits_left(membership, FEB + timedelta(days=2)) == 4
        seat = booking.book_with_membership(
            client_user, membership, _class(yoga, FEB + timedelta(days=4, hours=9))
        )
        jan_holding = db.session.scalars(select(ClassPass).order_by(ClassPass.id)).first()
        db.session.refresh(jan_holding)
        assert jan_holding.credits_used == 1
        assert seat.status == BookingStatus.CONFIRMED
    _renew(client_user, plan, MAR, APR)
    with time_machine.travel(MAR + timedelta(days=2), tick=False):
        # January's last credit is gone (one period of rollover); February's two roll over.
        assert booking.credits_left(membership, MAR + timedelta(days=2)) == 4


def test_past_due_and_paused_stop_spending_until_paid(practitioner, client_user, yoga):
    plan = make_plan(practitioner, services=[yoga])
    _renew(client_user, plan, JAN, FEB)
    membership = membership_of(client_user)
    holding = db.session.scalars(select(ClassPass)).one()
    with time_machine.travel(JAN + timedelta(days=2), tick=False):
        session = _class(yoga, JAN + timedelta(days=6, hours=9))
        payment_failed(
            invoice(JAN, FEB, paid=False),
            subscription(client_user, plan, JAN, FEB, status=MembershipStatus.PAST_DUE),
            JAN + timedelta(days=2),
        )
        for spend in (
            lambda: booking.book_with_membership(client_user, membership, session),
            # The holding's own door (the pass page) is shut too: one rule, in the pass.
            lambda: booking.book_with_pass(client_user, holding, session),
        ):
            with pytest.raises(booking.NotBookable, match="paid up"):
                spend()
        failed = select(func.count(Notification.id)).where(
            Notification.kind == NotificationKind.MEMBERSHIP_PAYMENT_FAILED
        )
        assert db.session.scalar(failed) == 1

        apply_subscription(
            subscription(client_user, plan, JAN, FEB, status=MembershipStatus.PAUSED),
            JAN + timedelta(days=2),
        )
        with pytest.raises(booking.NotBookable, match="paid up"):
            booking.book_with_membership(client_user, membership, session)

        apply_subscription(subscription(client_user, plan, JAN, FEB), JAN + timedelta(days=2))
        booking.book_with_membership(client_user, membership, session)
    assert seat_invariant_violations() == []


def test_a_refunded_period_loses_its_unused_credits(practitioner, client_user, yoga):
    plan = make_plan(practitioner, credits=3, services=[yoga])
    _renew(client_user, plan, JAN, FEB, charge_id="ch_jan")
    membership = membership_of(client_user)
    now = JAN + timedelta(days=2)
    with time_machine.travel(now, tick=False):
        seat = booking.book_with_membership(
            client_user, membership, _class(yoga, JAN + timedelta(days=6, hours=9))
        )
        order = lock_order(db.session.scalars(select(MembershipPeriod)).one().order_id)
        record_movement(
            order, PaymentKind.REFUND, 5000, provider="stripe", now=now, provider_object_id="re_1"
        )
        assert not take_back_refunded(order, now)  # half refunded: the credits stay
        record_movement(
            order, PaymentKind.REFUND, 4900, provider="stripe", now=now, provider_object_id="re_2"
        )
        assert take_back_refunded(order, now)
        db.session.commit()
        assert booking.credits_left(membership, now) == 0
        db.session.refresh(seat)
        assert seat.status == BookingStatus.CONFIRMED  # the seat already taken stays


def test_a_cancel_in_time_gives_the_membership_credit_back(practitioner, client_user, yoga):
    plan = make_plan(practitioner, credits=3, services=[yoga])
    _renew(client_user, plan, JAN, FEB)
    membership = membership_of(client_user)
    with time_machine.travel(JAN + timedelta(days=1), tick=False):
        seats = [
            booking.book_with_membership(
                client_user, membership, _class(yoga, JAN + timedelta(days=4 + n, hours=9))
            )
            for n in range(3)
        ]
        assert booking.credits_left(membership, JAN + timedelta(days=1)) == 0
        booking.cancel_booking(seats[1], client_user, client_requested=True)
        assert booking.credits_left(membership, JAN + timedelta(days=1)) == 1


def test_an_unlimited_plan_is_bound_by_its_daily_cap(practitioner, client_user, yoga):
    plan = make_plan(practitioner, services=[yoga], unlimited=True, per_day=1)
    _renew(client_user, plan, JAN, FEB)
    membership = membership_of(client_user)
    with time_machine.travel(JAN + timedelta(days=1), tick=False):
        day = JAN + timedelta(days=5)
        booking.book_with_membership(
            client_user, membership, _class(yoga, day + timedelta(hours=9))
        )
        with pytest.raises(booking.NotBookable, match="a day"):
            booking.book_with_membership(
                client_user, membership, _class(yoga, day + timedelta(hours=17))
            )
        booking.book_with_membership(
            client_user, membership, _class(yoga, day + timedelta(days=1, hours=9))
        )
        assert booking.credits_left(membership, JAN + timedelta(days=1)) == (
            booking.UNLIMITED_CREDITS - 2
        )


def test_a_subscription_not_ours_is_ignored(practitioner, client_user, yoga):
    plan = make_plan(practitioner, services=[yoga])
    sub = subscription(client_user, plan, JAN, FEB)
    stranger = type(sub)(**{**sub.__dict__, "user_id": None})
    assert grant_period(invoice(JAN, FEB), stranger, JAN) == "not ours"
    # Metadata naming a service that is no membership plan grants nothing either.
    not_a_plan = type(sub)(**{**sub.__dict__, "plan_id": yoga.id})
    assert grant_period(invoice(JAN, FEB), not_a_plan, JAN) == "not ours"
    assert _count(MembershipPeriod) == 0


def test_a_cancel_lands_on_the_period_end_past_notice_and_minimum_term(
    practitioner, client_user, yoga
):
    plan = make_plan(
        practitioner, services=[yoga], minimum_periods=3, notice_days=7, rollover_periods=0
    )
    _renew(client_user, plan, JAN, FEB)
    membership = membership_of(client_user)
    membership.created_at = JAN
    plan_row = booking.plan_of(plan)
    # The minimum term (three periods) carries it to the third period's end.
    assert booking.cancel_takes_effect(membership, plan_row, JAN + timedelta(days=2)) >= MAR
    plan_row.minimum_periods = 1
    # Notice: asked 3 days before the renewal, it lands a period later.
    assert booking.cancel_takes_effect(membership, plan_row, FEB - timedelta(days=3)) > FEB
    assert booking.cancel_takes_effect(membership, plan_row, JAN + timedelta(days=2)) == FEB


def test_member_figures_count_mrr_churn_and_past_due(practitioner, yoga):
    monthly = make_plan(practitioner, services=[yoga], price_cents=10000)
    yearly = make_plan(
        practitioner,
        services=[yoga],
        price_cents=120000,
        period=BillingPeriod.YEAR,
        name="Yearly",
    )
    now = JAN + timedelta(days=10)
    members = [make_user() for _ in range(4)]
    for n, (who, plan, status) in enumerate(
        [
            (members[0], monthly, MembershipStatus.ACTIVE),
            (members[1], yearly, MembershipStatus.ACTIVE),
            (members[2], monthly, MembershipStatus.PAST_DUE),
            (members[3], monthly, MembershipStatus.CANCELED),
        ]
    ):
        sub = subscription(who, plan, JAN, FEB, status=status, sub_id=f"sub_{n}")
        sub = type(sub)(**{**sub.__dict__, "price_cents": plan.price_cents})
        apply_subscription(sub, now)

    figures = booking.member_figures(practitioner, now)
    assert (figures.active, figures.past_due, figures.canceled_recently) == (2, 1, 1)
    # 100 + 1200/12 + 100 (past due still renews) a month.
    assert figures.mrr == {"USD": 30000}
    assert figures.churn == pytest.approx(1 / 4)
    assert booking.member_figures(make_user(), now).members == []


def test_a_client_s_data_export_holds_their_memberships(practitioner, client_user, yoga):
    from portal.privacy.registry import HOLDERS

    plan = make_plan(practitioner, services=[yoga])
    _renew(client_user, plan, JAN, FEB, invoice_id="in_jan")
    (holder,) = [h for h in HOLDERS if h.name == "memberships"]

    (exported,) = holder.export(client_user)
    assert exported["plan"] == "Monthly membership"
    assert exported["status"] == "active"
    assert [p["invoice_id"] for p in exported["periods"]] == ["in_jan"]
    assert holder.export(make_user()) == []
