"""The portal speaks the visitor's language from the first page to the confirmation email
(#24): a newcomer whose browser asks for German books from a practitioner's shared link,
signs up, and gets the confirmation mail and the booking mail in German; a client who
chose Spanish on the profile page, in an English browser, does the same in Spanish.
Each step asserts the words a person reads, as the catalogue writes them. And the longer
German, Spanish and French words still fit a phone's main screens."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal import accounts
from portal.extensions import db
from tests.e2e.test_phone_layout import assert_fit, practice  # noqa: F401  (fixture)
from tests.fixtures.browser import NEW_PASSWORD, first_free_time, sign_in, visitor_page
from tests.fixtures.factories import make_user
from tests.fixtures.l10n import shown

pytestmark = pytest.mark.e2e


@pytest.fixture
def app_config(smtp_server):
    return smtp_server.config


def test_a_german_browser_books_and_is_mailed_in_german(
    app, browser, live_server, shared_link, mailbox
):
    address = "klara@example.com"
    with visitor_page(browser, locale="de-DE", timezone_id="Europe/Berlin") as page:
        page.goto(f"{live_server.url}{shared_link}")
        expect(page.get_by_role("heading", name="Leistungen")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "de")
        page.get_by_role("link", name="Zeit wählen Consultation").click()
        first, start = first_free_time(page)
        first.get_by_role("button").click()

        expect(page.get_by_role("button", name="Anmelden")).to_be_visible()
        page.get_by_role("link", name="Konto erstellen").last.click()
        page.get_by_label("Name").fill("Klara Kunde")
        page.get_by_label("E-Mail").fill(address)
        page.get_by_label("Passwort", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("Passwort wiederholen").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Konto erstellen").click()
        expect(page.get_by_role("heading", name="Prüfen Sie Ihre E-Mails")).to_be_visible()

        verification = mailbox.last(address)
        assert verification["Subject"] == "E-Mail-Adresse bestätigen"
        assert "Guten Tag Klara Kunde," in mailbox.text(address)
        assert "Bitte bestätigen Sie, dass klara@example.com Ihnen gehört" in mailbox.text(address)
        page.goto(mailbox.link(address))
        page.get_by_role("button", name="Bestätigen").click()

        expect(page.locator(".flash.success")).to_contain_text("Ihre E-Mail-Adresse ist bestätigt")
        expect(page.get_by_role("heading", name="Buchung bestätigen")).to_be_visible()
        when = shown(start, zone="Europe/Berlin", locale="de_DE")
        expect(page.locator("main")).to_contain_text(f"Consultation am {when} (Europe/Berlin)")
        page.get_by_role("button", name="Bestätigen und buchen").click()
        expect(page.locator(".flash.success")).to_contain_text(
            "Bestellung für Consultation aufgegeben."
        )

    db.session.rollback()
    assert accounts.find_user_by_email(address).locale == "de_DE"
    booked = mailbox.last(address)
    assert booked["Subject"] == "Gebucht: Consultation"
    text = mailbox.text(address)
    assert "Ihre Buchung von Consultation ist bestätigt." in text
    assert "Zeiten werden in Europe/Berlin angezeigt" in text


def test_a_client_who_chose_spanish_books_and_is_mailed_in_spanish(
    app, browser, live_server, shared_link, mailbox
):
    client = make_user(name="Lucía Cliente", timezone="Europe/Madrid")
    db.session.commit()
    with visitor_page(browser, locale="en-GB", timezone_id="Europe/Madrid") as page:
        sign_in(page, live_server, client)
        page.goto(f"{live_server.url}/settings/profile")
        page.get_by_label("Date, time and number formats").select_option("es_ES")
        page.get_by_role("button", name="Save").first.click()
        # The notice was written in the request that made the choice; the page is Spanish.
        expect(page.get_by_role("heading", name="Ajustes del perfil")).to_be_visible()

        page.goto(f"{live_server.url}{shared_link}")
        expect(page.get_by_role("heading", name="Servicios")).to_be_visible()
        page.get_by_role("link", name="Elige una hora Consultation").click()
        first, start = first_free_time(page)
        first.get_by_role("button").click()  # signed in: the time is booked at once

        expect(page.locator(".flash.success")).to_contain_text(
            "Pedido realizado para Consultation."
        )
        expect(page.get_by_role("heading", name="Reservas de este pedido")).to_be_visible()
        when = shown(start, zone="Europe/Madrid", locale="es_ES")
        expect(page.get_by_role("row", name=f"Consultation {when} confirmada")).to_be_visible()

    booked = mailbox.last(client.email)
    assert booked["Subject"] == "Reservado: Consultation"
    text = mailbox.text(client.email)
    assert "Hola, Lucía Cliente:" in text
    assert "Tu reserva de Consultation está confirmada." in text


@pytest.mark.parametrize("language", ["de_DE", "es_ES", "fr_FR"])
def test_translated_screens_fit_a_phone(
    browser,
    live_server,
    practitioner,
    client_user,
    practice,  # noqa: F811  (the fixture imported above)
    language,
):
    """German words run long: every main screen still fits 390 and 360 px, as in English."""
    practitioner.locale = client_user.locale = language
    db.session.commit()
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.viewport_name = "phone"
    try:
        sign_in(page, live_server, practitioner)  # the sign-in page follows the browser
        assert_fit(
            page,
            live_server,
            (
                "/",
                "/calendar/",
                "/calendar/sessions",
                f"/calendar/sessions/{practice.id}",
                "/calendar/sessions/new",
                "/practice/services/",
                "/orders/",
                "/courses/",
                "/practice/availability/",
                "/clients/",
                "/settings/profile",
            ),
        )
    finally:
        context.close()
