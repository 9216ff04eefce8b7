"""Memberships on Stripe Billing (#21), end to end through the signed webhook: Subscribe opens
Checkout in subscription mode; the subscription and its invoices live in localstripe (created
as Checkout would, renewed by an invoice for the next period, refunded there); each event is
fetched again and applied once. What localstripe lacks (Checkout, pause_collection, cancel_at,
a price on a subscription item) is answered by BillingFake (tests/fixtures/stripe_billing.py)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal import booking
from portal.extensions import db
from portal.models import (
    ClassPass,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    Notification,
    NotificationKind,
    Order,
    PaymentEvent,
)
from tests.fixtures.factories import future
from tests.fixtures.memberships import make_plan
from tests.fixtures.passes import make_group_class
from tests.fixtures.stripe_billing import renewal_invoice, subscribe_at_stripe
from tests.fixtures.stripe_server import signed_event, stripe_client, stripe_config


@pytest.fixture
def app_config(billing_fake):
    return stripe_config(billing_fake.url)


@pytest.fixture
def yoga(practitioner):
    return make_group_class(practitioner, name="Yoga", cancellation_cutoff_hours=12)


@pytest.fixture
def plan(practitioner, yoga):
    return make_plan(practitioner, credits=3, services=[yoga], price_cents=9900)


def _deliver(client, event_type: str, object_id: str, obj: str, event_id: str | None = None):
    body, headers = signed_event(event_type, {"id": object_id, "object": obj}, event_id=event_id)
    answer = client.post("/webhooks/stripe", data=body, headers=headers)
    assert answer.status_code == 200
    return answer.get_json()["status"]


def _membership() -> Membership:
    db.session.expire_all()
    return db.session.scalars(select(Membership)).one()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_subscribe_opens_checkout_in_subscription_mode(signed_in, client_user, plan, billing_fake):
    web = signed_in(client_user)
    page = web.get(f"/book/services/{plan.id}").text
    assert "Subscribe to Monthly membership" in page

    answer = web.post(f"/book/memberships/{plan.id}/subscribe")
    again = web.post(f"/book/memberships/{plan.id}/subscribe")

    assert answer.status_code == 200
    [link] = re.findall(r'href="(https://checkout\.stripe\.com/c/pay/cs_test_[^"]+)"', answer.text)
    assert link in again.text  # one key: one session
    [(form, headers), _] = billing_fake.created
    assert form["mode"] == "subscription"
    assert form["subscription_data[metadata][user_id]"] == str(client_user.id)
    assert form["subscription_data[metadata][plan_id]"] == str(plan.id)
    assert form["line_items[0][price_data][unit_amount]"] == "9900"
    assert form["line_items[0][price_data][recurring][interval]"] == "month"
    assert form["customer_email"] == client_user.email
    assert "/memberships?returned=1" in form["success_url"]
    # Nothing is written before Stripe's event says the subscription exists.
    assert _count(Membership) == 0


def test_the_first_invoice_and_renewals_grant_once_each(
    client, client_user, plan, yoga, localstripe_url
):
    sub_id, first_invoice = subscribe_at_stripe(localstripe_url, client_user, plan)
    # Stripe may deliver the invoice before the subscription, and twice under two ids.
    _deliver(client, "invoice.paid", first_invoice, "invoice")
    _deliver(client, "invoice.paid", first_invoice, "invoice")
    _deliver(client, "customer.subscription.created", sub_id, "subscription")
    booking.apply_payment_events()

    membership = _membership()
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.price_cents == 9900
    assert _count(MembershipPeriod) == 1
    first_order = db.session.scalars(select(Order)).one()
    assert first_order.amount_paid == 9900  # the invoice's charge, fetched from Stripe
    assert booking.credits_left(membership, membership.created_at) == 3

    renewal = renewal_invoice(localstripe_url, sub_id)
    status = _deliver(client, "invoice.paid", renewal, "invoice", event_id="evt_renewal")
    assert status == "accepted"
    # The same event retried by Stripe is stored once.
    assert _deliver(client, "invoice.paid", renewal, "invoice", event_id="evt_renewal") == (
        "ignored"
    )
    booking.apply_payment_events()
    assert _count(MembershipPeriod) == 2
    renewed = select(func.count(Notification.id)).where(
        Notification.kind == NotificationKind.MEMBERSHIP_RENEWED
    )
    assert db.session.scalar(renewed) == 2
    assert (
        db.session.scalar(
            select(func.count(PaymentEvent.id)).where(PaymentEvent.applied_at.is_(None))
        )
        == 0
    )


def test_a_refund_of_the_period_s_charge_takes_back_its_credits(
    client, client_user, plan, yoga, localstripe_url
):
    sub_id, first_invoice = subscribe_at_stripe(localstripe_url, client_user, plan)
    _deliver(client, "invoice.paid", first_invoice, "invoice")
    booking.apply_payment_events()
    membership = _membership()
    seat = booking.book_with_membership(
        client_user, membership, booking.create_session(yoga, start_time=future(days=3))
    )

    stripe = stripe_client(localstripe_url)
    charge = stripe.v1.invoices.retrieve(first_invoice).charge
    charge_id = charge if isinstance(charge, str) else charge.id
    stripe.v1.refunds.create({"charge": charge_id})
    _deliver(client, "charge.refunded", charge_id, "charge")
    booking.apply_payment_events()

    membership = _membership()
    assert booking.credits_left(membership, db.session.get(Order, seat.order_id).created_at) == 0
    assert db.session.scalars(select(MembershipPeriod)).one().revoked_at is not None
    holding = db.session.scalars(select(ClassPass)).one()
    assert holding.credits_used == 1  # the seat taken before the refund stays


def test_a_declined_renewal_pauses_credits_until_stripe_recovers_it(
    client, client_user, plan, yoga, localstripe_url, billing_fake
):
    sub_id, first_invoice = subscribe_at_stripe(localstripe_url, client_user, plan)
    _deliver(client, "invoice.paid", first_invoice, "invoice")
    booking.apply_payment_events()
    session = booking.create_session(yoga, start_time=future(days=3))

    unpaid = renewal_invoice(localstripe_url, sub_id, pay=False)
    billing_fake.set_status(sub_id, "past_due")
    _deliver(client, "invoice.payment_failed", unpaid, "invoice")
    booking.apply_payment_events()
    membership = _membership()
    assert membership.status == MembershipStatus.PAST_DUE
    failed = select(func.count(Notification.id)).where(
        Notification.kind == NotificationKind.MEMBERSHIP_PAYMENT_FAILED
    )
    assert db.session.scalar(failed) == 1
    with pytest.raises(booking.NotBookable, match="paid up"):
        booking.book_with_membership(client_user, membership, session)

    # Stripe's retry goes through: the invoice is paid and the subscription active again.
    stripe_client(localstripe_url).v1.invoices.pay(unpaid)
    billing_fake.set_status(sub_id, None)
    _deliver(client, "invoice.paid", unpaid, "invoice")
    booking.apply_payment_events()
    membership = _membership()
    assert membership.status == MembershipStatus.ACTIVE
    assert _count(MembershipPeriod) == 2
    booking.book_with_membership(client_user, membership, session)


def test_pause_resume_and_cancel_are_asked_of_stripe_and_recorded_from_its_events(
    client, signed_in, client_user, plan, localstripe_url, billing_fake
):
    sub_id, first_invoice = subscribe_at_stripe(localstripe_url, client_user, plan)
    _deliver(client, "customer.subscription.created", sub_id, "subscription")
    _deliver(client, "invoice.paid", first_invoice, "invoice")
    booking.apply_payment_events()
    membership_id = _membership().id
    web = signed_in(client_user)
    assert "Pause" in web.get("/memberships").text

    web.post(f"/memberships/{membership_id}/pause")
    # Asked, not yet told: the page still shows what Stripe last said.
    assert _membership().status == MembershipStatus.ACTIVE
    _deliver(client, "customer.subscription.updated", sub_id, "subscription")
    booking.apply_payment_events()
    assert _membership().status == MembershipStatus.PAUSED

    web.post(f"/memberships/{membership_id}/resume")
    _deliver(client, "customer.subscription.updated", sub_id, "subscription")
    booking.apply_payment_events()
    assert _membership().status == MembershipStatus.ACTIVE

    web.post(f"/memberships/{membership_id}/cancel")
    _deliver(client, "customer.subscription.updated", sub_id, "subscription")
    booking.apply_payment_events()
    membership = _membership()
    assert membership.cancel_at_period_end and membership.status == MembershipStatus.ACTIVE
    assert "Keep my membership" in web.get("/memberships").text
    asked = [form for sid, form in billing_fake.changes if sid == sub_id]
    assert asked == [
        {"pause_collection[behavior]": "void"},
        {"pause_collection": ""},
        {"cancel_at_period_end": "true"},
    ]

    stripe_client(localstripe_url).v1.subscriptions.cancel(sub_id)
    _deliver(client, "customer.subscription.deleted", sub_id, "subscription")
    booking.apply_payment_events()
    membership = _membership()
    assert membership.status == MembershipStatus.CANCELED and membership.canceled_at is not None


def test_a_plan_change_is_prorated_by_stripe_and_recorded_from_its_event(
    client, signed_in, practitioner, client_user, plan, yoga, localstripe_url, billing_fake
):
    bigger = make_plan(practitioner, credits=12, services=[yoga], price_cents=14900, name="Plus")
    sub_id, first_invoice = subscribe_at_stripe(localstripe_url, client_user, plan)
    _deliver(client, "invoice.paid", first_invoice, "invoice")
    booking.apply_payment_events()

    signed_in(client_user).post(
        f"/memberships/{_membership().id}/change", data={"plan_id": bigger.id}
    )
    [(_sid, form)] = billing_fake.changes
    assert form["proration_behavior"] == "create_prorations"
    assert form["items[0][price_data][unit_amount]"] == "14900"
    assert form["items[0][price_data][product]"].startswith("prod_")
    assert form["metadata[plan_id]"] == str(bigger.id)

    _deliver(client, "customer.subscription.updated", sub_id, "subscription")
    booking.apply_payment_events()
    membership = _membership()
    assert (membership.plan_id, membership.price_cents) == (bigger.id, 14900)
