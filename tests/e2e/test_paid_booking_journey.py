"""A paid booking on a phone (#20), in Chromium at 390 px: the public page, a free time,
card payment (the hosted Checkout step driven as Stripe would: the card paid at localstripe
and kept for the client's customer, then the signed event), the confirmation on the order
page once the worker applied the event; then a late cancel that charges the policy's fee
to the kept card. Every page fits the phone with no critical or serious axe finding."""

from __future__ import annotations

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from portal import booking, profiles
from portal.extensions import db
from portal.models import BookingStatus, Fee, FeeStatus, Order, OrderStatus, PaymentKind
from tests.fixtures.browser import PHONE, first_free_time, fits_the_screen, visitor_page
from tests.fixtures.factories import make_service, make_user, open_all_week
from tests.fixtures.stripe_server import signed_event, stripe_client, stripe_config

pytestmark = pytest.mark.e2e

AXE = Axe()


@pytest.fixture
def app_config(checkout_fake):
    return stripe_config(checkout_fake.url)


def blocking_axe(page) -> list[str]:
    return [
        f"{page.url}: {v['id']} ({v['impact']})"
        for v in AXE.run(page).response["violations"]
        if v["impact"] in ("critical", "serious")
    ]


def _check(page, found: list[str]) -> None:
    page.wait_for_load_state("load")
    assert fits_the_screen(page), f"{page.url} scrolls sideways"
    found += blocking_axe(page)


def test_a_client_pays_on_a_phone_then_cancels_late_and_pays_the_fee(
    app, browser, live_server, practitioner, checkout_fake, localstripe_url
):
    open_all_week(practitioner)
    # A week's cut-off: the first free time is inside it, so canceling it is late.
    make_service(
        practitioner,
        name="Consultation",
        price_cents=6000,
        cancellation_cutoff_hours=24 * 7,
        late_cancel_fee_percent=50,
    )
    profiles.save_public_profile(practitioner, slug="maya-rivers", bio="Bodywork and breath.")
    client = make_user(name="Tomo Client")
    db.session.commit()
    found: list[str] = []

    with visitor_page(browser, timezone_id="UTC", viewport=PHONE) as page:
        page.goto(f"{live_server.url}/p/maya-rivers")
        page.get_by_role("link", name="Pick a time Consultation").click()
        # The policy, in plain words, before paying.
        expect(page.locator("main")).to_contain_text(
            "Canceling later than 168 hours before the start costs 50% of the price."
        )
        _check(page, found)
        first, _start = first_free_time(page)
        first.get_by_role("button").click()
        page.get_by_label("Email").fill(client.email)
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Confirm your booking")).to_be_visible()
        _check(page, found)
        page.get_by_role("button", name="Confirm and book").click()

        # The order page sends the client to Checkout; Stripe's hosted step is played here.
        pay = page.get_by_role("link", name="Continue to payment")
        expect(pay).to_be_visible()
        _check(page, found)
        db.session.rollback()
        order = db.session.scalars(select(Order)).one()
        session_id = pay.get_attribute("href").rsplit("/", 1)[1]
        stripe = stripe_client(localstripe_url)
        customer = stripe.v1.customers.create({"email": client.email})
        intent = stripe.v1.payment_intents.create(
            {
                "amount": 6000,
                "currency": "usd",
                "customer": customer.id,
                "payment_method": "pm_card_visa",
                "metadata": {"order_id": str(order.id)},
                "confirm": True,
            }
        )
        checkout_fake.complete(session_id, intent.id)
        body, headers = signed_event(
            "checkout.session.completed", {"id": session_id, "object": "checkout.session"}
        )
        assert requests.post(
            f"{live_server.url}/webhooks/stripe", data=body, headers=headers, timeout=10
        ).ok

        # Back from Checkout: the page waits for the event, then the worker applies it.
        page.goto(f"{live_server.url}/orders/{order.id}?returned=1")
        expect(page.get_by_role("heading", name="Confirming your payment")).to_be_visible()
        assert booking.apply_payment_events() == 1
        page.get_by_role("link", name="Check again").click()
        expect(page.locator(".order-total")).to_contain_text("60.00")
        expect(page.locator("main")).to_contain_text("paid")
        _check(page, found)

        # A late cancel: the page names the fee, the question asks about it, the card pays.
        page.goto(f"{live_server.url}/bookings/")
        expect(page.locator("#upcoming")).to_contain_text("Late cancel: a fee of")
        expect(page.locator("#upcoming")).to_contain_text("30.00 is charged")
        _check(page, found)
        questions: list[str] = []
        page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
        page.get_by_role("button", name="Cancel").click()
        expect(page.locator(".flash.success")).to_contain_text("is canceled")
        assert "late-cancel fee" in questions[0]
        _check(page, found)

    db.session.rollback()
    assert booking.apply_payment_events() == 1
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.PAID
    assert order.bookings[0].status == BookingStatus.CANCELED and order.bookings[0].late_cancel
    [fee] = db.session.scalars(select(Fee)).all()
    assert (fee.status, fee.amount_cents) == (FeeStatus.CHARGED, 3000)
    assert [(p.kind, p.amount_cents) for p in order.payments] == [
        (PaymentKind.CHARGE, 6000),
        (PaymentKind.FEE, 3000),
    ]
    assert not found, "accessibility findings:\n" + "\n".join(found)
