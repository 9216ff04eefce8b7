"""Membership pages (#21): the practitioner defines a plan and reads their members (MRR, churn,
past due, CSV); the client reads their membership and books a class with it, all with plain
forms; the renewal and failed-payment notices are written and sent."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal import booking
from portal.booking.memberships import apply_subscription, grant_period, payment_failed
from portal.extensions import db
from portal.models import (
    BillingPeriod,
    ClassPassTerms,
    Membership,
    MembershipPlan,
    MembershipStatus,
    Service,
    ServiceType,
    User,
)
from portal.notifications import delivery
from tests.fixtures.client_portal import text_of
from tests.fixtures.factories import future, make_user
from tests.fixtures.memberships import invoice, make_plan, membership_of, subscription
from tests.fixtures.passes import make_group_class
from tests.fixtures.practice import count_statements

PLAN_FORM = {
    "name": "Studio unlimited",
    "description": "",
    "price": "129.00",
    "currency": "usd",
    "period": "four_weeks",
    "credits": "1",
    "unlimited": "y",
    "rollover_periods": "0",
    "minimum_periods": "3",
    "notice_days": "14",
    "is_active": "y",
    "tag": "group class",
    "per_day": "2",
    "per_week": "",
}


@pytest.fixture
def app_config(smtp_server):
    return smtp_server.config


def _now():
    return datetime.now(UTC).replace(microsecond=0)


def test_the_practitioner_defines_a_plan_and_edits_it(signed_in, practitioner):
    web = signed_in(practitioner)
    assert "New membership plan" in web.get("/practice/services/").text

    response = web.post("/practice/memberships/new", data=PLAN_FORM)

    assert response.status_code == 302
    service = db.session.scalars(
        select(Service).where(Service.service_type == ServiceType.MEMBERSHIP)
    ).one()
    plan = db.session.get(MembershipPlan, service.id)
    terms = db.session.get(ClassPassTerms, service.id)
    assert (plan.period, plan.unlimited, plan.minimum_periods, plan.notice_days) == (
        BillingPeriod.FOUR_WEEKS,
        True,
        3,
        14,
    )
    assert (terms.eligible_tag, terms.per_day, service.price_cents) == ("group class", 2, 12900)
    # The services list's Edit link and the old edit URL both land on the plan's form.
    old = web.get(f"/practice/services/{service.id}/edit")
    assert old.headers["Location"].endswith(f"/practice/memberships/{service.id}/edit")
    edit = web.get(f"/practice/memberships/{service.id}/edit").text
    assert 'value="Studio unlimited"' in edit and 'value="14"' in edit

    web.post(
        f"/practice/memberships/{service.id}/edit",
        data={**PLAN_FORM, "rollover_periods": "13"},
    )
    db.session.expire_all()
    assert db.session.get(MembershipPlan, service.id).rollover_periods == 0  # refused


def test_a_plan_out_of_range_is_refused_inline(signed_in, practitioner):
    html = signed_in(practitioner).post(
        "/practice/memberships/new", data={**PLAN_FORM, "notice_days": "400"}
    )
    assert html.status_code == 200 and "Number must be between 0 and 90" in html.text
    assert db.session.scalars(select(MembershipPlan)).first() is None


def test_a_plan_is_not_bought_as_an_order(practitioner, client_user):
    plan = make_plan(practitioner, services=[make_group_class(practitioner)])
    with pytest.raises(booking.NotBookable, match="Subscribe"):
        booking.purchase(client_user, plan)


def _yoga_class_and_a_period(practitioner, client, **plan_terms):
    """A plan for a yoga class, its current period paid for the client, and a class in
    two days (returned)."""
    yoga = make_group_class(practitioner, name="Yoga")
    plan = make_plan(practitioner, services=[yoga], **plan_terms)
    start = _now() - timedelta(days=1)
    end = start + timedelta(days=30)
    grant_period(invoice(start, end), subscription(client, plan, start, end), start)
    return booking.create_session(yoga, start_time=future(days=2))


def test_my_membership_shows_classes_renewal_and_books_with_it(
    signed_in, auth, practitioner, client_user
):
    session = _yoga_class_and_a_period(practitioner, client_user, credits=3)
    web = signed_in(client_user)

    page = text_of(web.get("/memberships"))
    assert "Monthly membership" in page and "Active" in page and "Renews on" in page
    assert "Classes left 3" in page
    holding = booking.holdings(membership_of(client_user), _now())[0]
    web.post(f"/passes/{holding.id}/book", data={"session_id": session.id})
    assert "Classes left 2" in text_of(web.get("/memberships"))

    # Someone else's membership does not exist for them.
    auth.logout()
    other = signed_in(make_user())
    membership_id = membership_of(client_user).id
    assert other.post(f"/memberships/{membership_id}/cancel").status_code == 404


def test_an_unlimited_plan_reads_unlimited_before_and_after_a_class(
    signed_in, api_as, practitioner, client_user
):
    """Its period holds booking.UNLIMITED_CREDITS as a bound: no page counts it down."""
    session = _yoga_class_and_a_period(practitioner, client_user, unlimited=True, per_day=2)
    holding = booking.holdings(membership_of(client_user), _now())[0]
    assert holding.unlimited
    web = signed_in(client_user)
    web.post(f"/passes/{holding.id}/book", data={"session_id": session.id})

    mine = text_of(web.get("/memberships"))
    assert "Classes left Unlimited" in mine and "999" not in mine
    page = text_of(web.get(f"/passes/{holding.id}"))
    assert "Unlimited classes" in page
    assert "credits left" not in page and "1000" not in page and "999" not in page
    # The API says so too, beside the numbers it always gave.
    answer = api_as(client_user).get("/api/v1/passes")
    assert answer.status_code == 200, answer.text
    (held,) = [p for p in answer.get_json()["passes"] if p["id"] == holding.id]
    assert held["unlimited"] is True and held["credits_used"] == 1


def test_past_due_is_shown_and_the_book_button_gone(signed_in, practitioner, client_user):
    plan = make_plan(practitioner, services=[make_group_class(practitioner)])
    start = _now() - timedelta(days=1)
    end = start + timedelta(days=30)
    grant_period(invoice(start, end), subscription(client_user, plan, start, end), start)
    payment_failed(
        invoice(start, end, paid=False),
        subscription(client_user, plan, start, end, status=MembershipStatus.PAST_DUE),
        start,
    )
    page = text_of(signed_in(client_user).get("/memberships"))
    assert "Payment overdue" in page and "Stripe retries your card" in page
    assert "Book a class" not in page


def test_members_view_and_csv(signed_in, auth, practitioner):
    yoga = make_group_class(practitioner)
    plan = make_plan(practitioner, services=[yoga], price_cents=10000)
    start = _now() - timedelta(days=3)
    end = start + timedelta(days=30)
    ann, bob = make_user(name="Ann Member"), make_user(name="Bob Late")
    apply_subscription(subscription(ann, plan, start, end, sub_id="sub_a"), start)
    apply_subscription(
        subscription(bob, plan, start, end, sub_id="sub_b", status=MembershipStatus.PAST_DUE),
        start,
    )
    web = signed_in(practitioner)

    page = text_of(web.get("/practice/members"))
    assert "Active members 1" in page and "Payment overdue 1" in page
    assert "$200.00" in page  # both still renew
    assert "Ann Member" in page and "Bob Late" in page

    answer = web.get("/practice/members.csv")
    assert answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert {(r["client"], r["status"], r["price"]) for r in rows} == {
        ("Ann Member", "active", "100.00"),
        ("Bob Late", "past_due", "100.00"),
    }
    # Another practitioner sees none of them.
    auth.logout()
    other = signed_in(make_user(practitioner.role))
    assert "Ann Member" not in other.get("/practice/members").text


def test_the_members_csv_gives_each_currency_its_own_decimals(signed_in, practitioner):
    """Amounts are kept in the currency's minor unit: 1200 is ¥1,200, 12345 is 12.345 KWD."""
    plan = make_plan(practitioner, services=[make_group_class(practitioner)])
    start = _now() - timedelta(days=3)
    end = start + timedelta(days=30)
    for name, sub_id, currency, minor in (
        ("Chie Yen", "sub_jpy", "JPY", 1200),
        ("Dana Dinar", "sub_kwd", "KWD", 12345),
    ):
        apply_subscription(
            subscription(make_user(name=name), plan, start, end, sub_id=sub_id), start
        )
        row = db.session.scalar(
            select(Membership).where(Membership.stripe_subscription_id == sub_id)
        )
        row.currency, row.price_cents = currency, minor
    db.session.commit()

    answer = signed_in(practitioner).get("/practice/members.csv")
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert {(r["client"], r["price"], r["currency"]) for r in rows} == {
        ("Chie Yen", "1200", "JPY"),
        ("Dana Dinar", "12.345", "KWD"),
    }


def test_my_memberships_reads_the_same_whatever_their_number(signed_in, practitioner, client_user):
    """The page's statements do not grow with the client's memberships (each with its
    period's credits and the plans it may switch to)."""
    web, client_id, practitioner_id = signed_in(client_user), client_user.id, practitioner.id
    start = _now() - timedelta(days=3)
    end = start + timedelta(days=30)

    def join(n: int) -> None:
        client, owner = db.session.get(User, client_id), db.session.get(User, practitioner_id)
        plan = make_plan(owner, services=[make_group_class(owner)])
        sub = subscription(client, plan, start, end, sub_id=f"sub_{n}")
        grant_period(invoice(start, end, invoice_id=f"in_{n}"), sub, start)

    def statements() -> int:
        db.session.remove()
        with count_statements() as seen:
            assert web.get("/memberships").status_code == 200
        return len(seen)

    join(1)
    one = statements()
    join(2)
    join(3)
    assert statements() == one


def test_the_renewal_and_failure_notices_are_sent(practitioner, client_user, smtp_server):
    plan = make_plan(practitioner, services=[make_group_class(practitioner)])
    start = _now()
    end = start + timedelta(days=30)
    grant_period(invoice(start, end), subscription(client_user, plan, start, end), start)
    payment_failed(
        invoice(start, end, paid=False),
        subscription(client_user, plan, start, end, status=MembershipStatus.PAST_DUE),
        start,
    )
    db.session.commit()
    # The renewal, its numbered receipt, the failed payment.
    assert delivery.deliver_due().sent == 3
    subjects = {m["Subject"] for m in smtp_server.messages}
    assert {
        "Membership renewed: Monthly membership",
        "Payment failed: Monthly membership",
    } <= subjects
    failed = next(m for m in smtp_server.messages if m["Subject"].startswith("Payment"))
    assert "/memberships" in failed.get_body(("plain",)).get_content()


def test_a_membership_s_periods_are_not_listed_as_passes(signed_in, practitioner, client_user):
    plan = make_plan(practitioner, services=[make_group_class(practitioner)], name="Yoga club")
    start = _now() - timedelta(days=1)
    end = start + timedelta(days=30)
    grant_period(invoice(start, end), subscription(client_user, plan, start, end), start)
    page = text_of(signed_in(client_user).get("/passes"))
    assert "Yoga club" not in page and "You have no class passes yet." in page
