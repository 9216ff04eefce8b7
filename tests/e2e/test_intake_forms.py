"""Intake forms in a browser on a phone (390 px): the practitioner builds one, a client
answers it through the emailed link and while booking; with JavaScript off too. Each
page fits the screen (no sideways scroll) and has no critical or serious axe finding,
its field errors showing included."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal import booking, records
from portal.extensions import db
from portal.models import IntakeDelivery, IntakeForm, IntakeRequest, IntakeSubmission, ItemKind
from portal.records.intake_requests import link_token
from tests.e2e.test_accessibility import assert_clean, findings
from tests.e2e.test_phone_layout import overflow
from tests.fixtures.browser import PHONE, sign_in, visitor_page
from tests.fixtures.factories import make_service, make_workshop

pytestmark = pytest.mark.e2e

CONSENT = "I understand that bodywork does not replace medical care."


def _form(practitioner, service_ids=(), delivery=IntakeDelivery.BY_EMAIL):
    return records.create_form(
        practitioner,
        title="Before your first massage",
        delivery=delivery,
        required=True,
        items=[
            records.Item(key="", kind=ItemKind.LONG_TEXT, label="Injuries", required=True),
            records.Item(
                key="", kind=ItemKind.SINGLE_CHOICE, label="Pressure", options=("Light", "Firm")
            ),
            records.Item(
                key="", kind=ItemKind.MULTIPLE_CHOICE, label="Areas", options=("Back", "Neck")
            ),
            records.Item(key="", kind=ItemKind.DATE, label="Date of birth"),
            records.Item(key="", kind=ItemKind.PHONE, label="Emergency phone"),
            records.Item(key="", kind=ItemKind.FILE, label="Doctor's letter"),
            records.Item(key="", kind=ItemKind.CONSENT, label="Consent", consent_text=CONSENT),
        ],
        service_ids=list(service_ids),
    )


def _link(practitioner, client_user) -> str:
    form = _form(practitioner)
    order = booking.book_workshop_seat(client_user, make_workshop(practitioner, seats=3))
    sent = IntakeRequest(form_id=form.id, client_id=client_user.id, booking_id=order.bookings[0].id)
    db.session.add(sent)
    db.session.commit()
    return f"/intake/answer/{link_token(sent)}"


def _fits(page, label: str) -> list[str]:
    extra = overflow(page)
    return [f"{label} is {extra} px too wide"] if extra > 0 else []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_client_answers_the_link_on_a_phone(
    browser, live_server, practitioner, client_user, javascript
):
    path = _link(practitioner, client_user)
    found = []
    with visitor_page(browser, viewport=PHONE, java_script_enabled=javascript) as page:
        page.goto(f"{live_server.url}{path}")
        expect(page.get_by_text(CONSENT)).to_be_visible()
        # axe and the width check run scripts in the page: with JavaScript on only.
        found += (findings(page, "link") + _fits(page, "link")) if javascript else []
        page.get_by_label("Injuries").fill("A sprained ankle last spring")
        page.get_by_role("button", name="Send my answers").click()
        # Refused: the consent is not signed; the page says so next to the field.
        expect(page.get_by_text("Type your full name to give your consent.")).to_be_visible()
        expect(page.get_by_label("Injuries")).to_have_value("A sprained ankle last spring")
        if javascript:
            found += findings(page, "link with errors") + _fits(page, "link with errors")
        assert db.session.scalar(select(IntakeSubmission.id)) is None
        page.get_by_label("Firm").check()
        page.get_by_label("Neck").check()
        page.get_by_label("Emergency phone").fill("+351 912 345 678")
        page.get_by_label("Type your full name to sign").fill("Ana Lima")
        page.get_by_role("button", name="Send my answers").click()
        expect(page.get_by_text("These answers are sent")).to_be_visible()
    assert_clean(found)
    db.session.rollback()  # a fresh read: the server wrote in its own transactions
    submission = db.session.scalar(select(IntakeSubmission))
    answers = {
        a.item.label: a.value for a in records.read_submission(submission, client_user).answers
    }
    assert answers["Pressure"] == "Firm" and answers["Areas"] == ["Neck"]
    assert answers["Consent"]["name"] == "Ana Lima"


def test_a_practitioner_builds_a_form_on_a_phone(browser, live_server, practitioner):
    make_service(practitioner, name="Deep tissue")
    found = []
    with visitor_page(browser, viewport=PHONE) as page:
        sign_in(page, live_server, practitioner)
        page.goto(f"{live_server.url}/intake/forms/new")
        found += findings(page, "builder") + _fits(page, "builder")
        page.get_by_label("Title").fill("Health history")
        page.get_by_label("Deep tissue").check()
        page.get_by_label("Kind").select_option("consent")
        page.get_by_label("Question", exact=True).fill("Consent to treatment")
        page.get_by_role("button", name="Save the form").click()
        # A consent without its text is refused next to nothing else lost.
        expect(page.get_by_text("write the text the client consents to")).to_be_visible()
        found += findings(page, "builder with errors") + _fits(page, "builder with errors")
        page.get_by_label("Consent text (for a consent)").first.fill(CONSENT)
        page.get_by_role("button", name="Save the form").click()
        expect(page.get_by_text("The form is saved.")).to_be_visible()
        found += findings(page, "saved form") + _fits(page, "saved form")
    assert_clean(found)
    db.session.rollback()  # a fresh read: the server wrote in its own transactions
    form = db.session.scalar(select(IntakeForm))
    assert form.title == "Health history" and [s.name for s in form.services] == ["Deep tissue"]


def test_a_consent_blocks_a_booking_on_a_phone(browser, live_server, practitioner, client_user):
    session = make_workshop(practitioner, seats=3, name="Sound bath")
    _form(practitioner, [session.service_id], IntakeDelivery.AT_BOOKING)
    found = []
    with visitor_page(browser, viewport=PHONE) as page:
        sign_in(page, live_server, client_user)
        page.goto(f"{live_server.url}/book/services/{session.service_id}")
        page.get_by_role("button", name="Buy a seat").first.click()
        expect(page.get_by_text(CONSENT)).to_be_visible()
        found += findings(page, "confirm") + _fits(page, "confirm")
        page.get_by_label("Injuries").fill("None")
        page.get_by_role("button", name="Confirm and book").click()
        expect(page.get_by_text("Type your full name to give your consent.")).to_be_visible()
        found += findings(page, "confirm with errors") + _fits(page, "confirm with errors")
        page.get_by_label("Type your full name to sign").fill("Ana Lima")
        page.get_by_role("button", name="Confirm and book").click()
        expect(page.get_by_text("Order placed for Sound bath.")).to_be_visible()
    assert_clean(found)
    db.session.rollback()  # a fresh read: the server wrote in its own transactions
    assert db.session.scalar(select(IntakeSubmission.booking_id)) is not None
