"""Dates, times, money and plurals in the viewer's locale (issue #14, "Localisation")."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal import booking
from portal.booking.services import save_service
from portal.extensions import db
from portal.models import Role, Service, ServiceType
from tests.fixtures.client_portal import paid_bundle, text_of
from tests.fixtures.factories import future, make_service, make_user, make_workshop
from tests.fixtures.practice import SERVICE_FORM

GB = {"Accept-Language": "en-GB,en;q=0.8"}
US = {"Accept-Language": "en-US,en;q=0.8"}


def london_client(**extra):
    return make_user(Role.CLIENT, timezone="Europe/London", **extra)


def afternoon_seat(practitioner, client):
    """A confirmed seat at 14:00 London time (UTC in winter, so the test picks a winter day)."""
    year = datetime.now(UTC).year + 1
    start = datetime(year, 1, 12, 14, tzinfo=UTC)
    session = make_workshop(practitioner, start=start, name="Breathwork")
    booking.confirm_payment(booking.book_workshop_seat(client, session))
    db.session.commit()
    return session


def test_the_browser_language_picks_the_clock(signed_in, practitioner):
    client_user = london_client()
    afternoon_seat(practitioner, client_user)
    web = signed_in(client_user)

    british = text_of(web.get("/bookings/", headers=GB))
    american = text_of(web.get("/bookings/", headers=US))

    assert "14:00" in british and "2:00 PM" not in british
    assert "2:00 PM" in american and "14:00" not in american
    # Day before month in Britain, month before day in the US.
    assert "12 Jan" in british and "Jan 12" in american


@pytest.mark.parametrize("language", ["fr-CH", "fr-BE,fr;q=0.5", "fr"])
def test_a_regional_language_without_its_own_formats_gets_its_language(
    signed_in, practitioner, language
):
    client_user = london_client()
    afternoon_seat(practitioner, client_user)
    page = text_of(signed_in(client_user).get("/bookings/", headers={"Accept-Language": language}))
    assert "14:00" in page and "2:00 PM" not in page
    assert "12 janv." in page


def test_without_accept_language_english_formats_are_used(signed_in, practitioner):
    client_user = london_client()
    afternoon_seat(practitioner, client_user)
    assert "2:00 PM" in text_of(signed_in(client_user).get("/bookings/"))


def test_the_profile_setting_wins_over_the_browser(signed_in, practitioner):
    client_user = london_client()
    afternoon_seat(practitioner, client_user)
    web = signed_in(client_user)

    page = web.get("/settings/profile").text
    assert 'name="locale"' in page and "English (United Kingdom)" in page
    saved = web.post(
        "/settings/profile",
        data={"name": client_user.name, "timezone": "Europe/London", "locale": "en_GB"},
    )
    assert saved.status_code == 302
    db.session.refresh(client_user)
    assert client_user.locale == "en_GB"

    assert "14:00" in text_of(web.get("/bookings/", headers=US))

    web.post(
        "/settings/profile",
        data={"name": client_user.name, "timezone": "Europe/London", "locale": ""},
    )
    db.session.refresh(client_user)
    assert client_user.locale is None  # follows the browser again
    assert "2:00 PM" in text_of(web.get("/bookings/", headers=US))


def test_an_unknown_locale_is_refused_and_nothing_changes(signed_in, client_user):
    web = signed_in(client_user)
    refused = web.post(
        "/settings/profile",
        data={"name": "Someone Else", "timezone": "Asia/Tokyo", "locale": "xx_YY"},
    )
    assert refused.status_code == 200
    assert 'id="locale-error"' in refused.text
    db.session.refresh(client_user)
    assert client_user.name != "Someone Else" and client_user.timezone == "Europe/London"
    assert client_user.locale is None


def test_a_german_viewer_reads_german_dates(signed_in, practitioner):
    client_user = london_client(name="Klara Kunde")
    client_user.locale = "de_DE"
    afternoon_seat(practitioner, client_user)
    page = text_of(signed_in(client_user).get("/bookings/"))
    assert "12. Jan." in page and "14:00" in page


# -- money -------------------------------------------------------------------------------------


def prices(web, practitioner, headers=None) -> str:
    return text_of(web.get(f"/book/practitioners/{practitioner.id}", headers=headers or {}))


def test_a_yen_price_has_no_decimals(signed_in, practitioner, client_user):
    make_service(practitioner, name="Shiatsu", price_cents=1200, currency="JPY")
    page = prices(signed_in(client_user), practitioner, US)
    assert "¥1,200" in page and "1,200.00" not in page and "¥1,200.00" not in page


def test_euros_read_the_german_way_in_german(signed_in, practitioner, client_user):
    make_service(practitioner, name="Massage", price_cents=1250, currency="EUR")
    web = signed_in(client_user)
    german = prices(web, practitioner, {"Accept-Language": "de-DE,de;q=0.9"})
    american = prices(web, practitioner, US)
    assert "12,50 €" in german
    assert "€12.50" in american


def test_a_free_service_says_free(signed_in, practitioner, client_user):
    make_service(practitioner, name="Intro call", price_cents=0)
    page = prices(signed_in(client_user), practitioner)
    assert "Free" in page


@pytest.mark.parametrize("code", ["ABC", "E€R", "US", "dollars"])
def test_a_currency_outside_iso_4217_is_refused_with_a_field_error(signed_in, practitioner, code):
    web = signed_in(practitioner)
    refused = web.post("/practice/services/new", data={**SERVICE_FORM, "currency": code})
    assert refused.status_code == 200
    assert 'id="currency-error"' in refused.text and "ISO 4217" in refused.text
    assert db.session.scalar(select(func.count()).select_from(Service)) == 0


@pytest.mark.parametrize("code", ["XXX", "XTS", "XAU"])
def test_iso_codes_no_one_pays_in_are_refused(signed_in, practitioner, code):
    web = signed_in(practitioner)
    refused = web.post("/practice/services/new", data={**SERVICE_FORM, "currency": code})
    assert refused.status_code == 200 and 'id="currency-error"' in refused.text
    with pytest.raises(booking.InvalidInput):
        save_service(practitioner, service_type=ServiceType.INDIVIDUAL, name="X", currency=code)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Service)) == 0


@pytest.mark.parametrize(("price", "currency"), [("0.004", "USD"), ("19.999", "EUR")])
def test_a_price_below_the_smallest_unit_is_refused_not_made_free(
    signed_in, practitioner, price, currency
):
    web = signed_in(practitioner)
    refused = web.post(
        "/practice/services/new", data={**SERVICE_FORM, "currency": currency, "price": price}
    )
    assert refused.status_code == 200
    assert (
        'id="price-error"' in refused.text and f"At most 2 decimals in {currency}" in refused.text
    )
    assert db.session.scalar(select(func.count()).select_from(Service)) == 0


def test_the_currency_code_is_normalised(signed_in, practitioner):
    web = signed_in(practitioner)
    saved = web.post(
        "/practice/services/new", data={**SERVICE_FORM, "currency": " jpy ", "price": "8000"}
    )
    assert saved.status_code == 302
    assert db.session.scalar(select(Service.currency)) == "JPY"


def test_a_yen_price_with_cents_is_refused(signed_in, practitioner):
    web = signed_in(practitioner)
    refused = web.post(
        "/practice/services/new", data={**SERVICE_FORM, "currency": "JPY", "price": "12.50"}
    )
    assert refused.status_code == 200
    assert 'id="price-error"' in refused.text and "no minor units" in refused.text
    assert db.session.scalar(select(func.count()).select_from(Service)) == 0


def test_the_catalogue_refuses_a_bad_currency_without_the_form(practitioner):
    with pytest.raises(booking.InvalidInput) as refused:
        save_service(practitioner, service_type=ServiceType.INDIVIDUAL, name="X", currency="XYZ")
    assert refused.value.field == "currency"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Service)) == 0


# -- plurals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("classes", "text"), [(1, "1 of 1 credit left"), (3, "3 of 3 credits left")]
)
def test_credits_left_agree_with_their_number(signed_in, practitioner, client_user, classes, text):
    paid_bundle(client_user, practitioner, classes=classes)
    assert text in text_of(signed_in(client_user).get("/bookings/"))


def test_seats_taken_agree_with_their_number(signed_in, practitioner):
    one = make_workshop(practitioner, seats=1, start=future(days=3), name="Private flow")
    many = make_workshop(practitioner, seats=12, start=future(days=4), name="Group flow")
    booking.book_workshop_seat(make_user(), one)
    booking.book_workshop_seat(make_user(), many)
    db.session.commit()
    web = signed_in(practitioner)
    assert "1/1 seat taken" in text_of(web.get(f"/calendar/sessions/{one.id}"))
    group = text_of(web.get(f"/calendar/sessions/{many.id}"))
    assert "1/12 seats taken" in group and "Cancel session and its 1 booking " in group


# -- daylight saving ---------------------------------------------------------------------------


def spring_forward() -> date:
    """Next year's last Sunday of March: Britain's clocks go from 01:00 GMT to 02:00 BST."""
    day = date(datetime.now(UTC).year + 1, 3, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def test_a_session_on_the_dst_change_day_shows_its_local_time(signed_in):
    practitioner = make_user(Role.PRACTITIONER, timezone="Europe/London")
    practitioner.locale = "en_GB"
    day = spring_forward()
    at = datetime(day.year, day.month, day.day, tzinfo=UTC)
    make_workshop(practitioner, start=at + timedelta(minutes=30), name="Night owls")
    make_workshop(practitioner, start=at + timedelta(hours=9), name="Morning flow")
    db.session.commit()

    page = text_of(signed_in(practitioner).get(f"/calendar/day?date={day.isoformat()}"))

    # 00:30 GMT, and 90 minutes later the clocks have gone forward: 03:00 BST.
    assert "00:30–03:00" in page
    # 09:00 UTC is 10:00 in London once summer time has begun.
    assert "10:00–11:30" in page


def hour_labels(html: str) -> list[str]:
    return re.findall(r'class="hour-label[^"]*">([^<]*)<', html)


def test_the_week_grid_hours_follow_the_clock(signed_in, practitioner):
    make_workshop(practitioner, start=future(days=2, hour=15), name="Flow")
    web = signed_in(practitioner)
    british = hour_labels(web.get("/calendar/", headers=GB).text)
    american = hour_labels(web.get("/calendar/", headers=US).text)
    assert british and all(re.fullmatch(r"\d\d:00", label) for label in british)
    assert american and all(re.fullmatch(r"\d{1,2}:00\u202f[AP]M", label) for label in american)


def test_the_slot_picker_names_weekdays_in_the_locale(signed_in, practitioner, client_user):
    service = make_service(practitioner, name="Consultation")
    german = signed_in(client_user).get(
        f"/book/services/{service.id}", headers={"Accept-Language": "de"}
    )
    assert '<th scope="col">Mo.</th>' in german.text and '<th scope="col">So.</th>' in german.text
