"""Races on memberships (#21): a renewal applied while the client spends their last credit,
and one renewal applied by several appliers at once. Threads with their own connections, at
the same instant; the database decides (SQLite here, PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from portal import booking
from portal.booking.memberships import grant_period
from portal.extensions import db
from portal.models import (
    SEAT_HOLDING,
    Booking,
    ClassPass,
    ClassPassUse,
    Membership,
    MembershipPeriod,
    ServiceSession,
    User,
)
from tests.fixtures.concurrency import many_connections, race
from tests.fixtures.factories import future, seat_invariant_violations
from tests.fixtures.memberships import invoice, make_plan, membership_of, subscription
from tests.fixtures.passes import make_group_class

app_config = many_connections

SPENDERS = 10
APPLIERS = 10


def _spend(user_id: int, membership_id: int, session_id: int):
    def attempt():
        booking.book_with_membership(
            db.session.get(User, user_id),
            db.session.get(Membership, membership_id),
            db.session.get(ServiceSession, session_id),
        )

    return attempt


def _renew(paid, sub):
    def attempt():
        outcome = grant_period(paid, sub, datetime.now(UTC))
        if outcome != "period granted" and not outcome.startswith("period granted"):
            # Reported apart from a grant, so the count below tells them from each other.
            raise booking.NotBookable(outcome)

    return attempt


def test_a_renewal_and_the_last_credit_spent_at_once(app, practitioner, client_user):
    yoga = make_group_class(practitioner, name="Yoga", max_participants=25)
    plan = make_plan(practitioner, credits=1, services=[yoga], price_cents=0)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    end = start + timedelta(days=30)
    grant_period(invoice(start, end), subscription(client_user, plan, start, end), start)
    membership_id = membership_of(client_user).id
    sessions = [
        booking.create_session(yoga, start_time=future(days=2 + n)).id for n in range(SPENDERS)
    ]
    renewal = invoice(end, end + timedelta(days=30), invoice_id="in_renewal")
    sub = subscription(client_user, plan, end, end + timedelta(days=30))

    outcomes = race(
        app,
        [_spend(client_user.id, membership_id, sid) for sid in sessions]
        + [_renew(renewal, sub) for _ in range(APPLIERS)],
    )

    # The renewal is granted exactly once, whoever applied it; every other applier and
    # every spender without a credit is refused, none crashes.
    assert sum(n for o, n in outcomes.items() if o.startswith("crash")) == 0
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(func.count(MembershipPeriod.id)).where(
                MembershipPeriod.invoice_id == "in_renewal"
            )
        )
        == 1
    )
    seats = db.session.scalar(
        select(func.count(Booking.id)).where(
            Booking.user_id == client_user.id, Booking.status.in_(SEAT_HOLDING)
        )
    )
    # One seat per credit spent, no credit spent twice or past its holding.
    assert 1 <= seats <= 2
    assert outcomes["ok"] == seats + 1  # the seats and the one grant
    assert db.session.scalar(select(func.sum(ClassPass.credits_used))) == seats
    assert db.session.scalar(select(func.count(ClassPassUse.id))) == seats
    assert all(h.credits_used <= h.credits for h in db.session.scalars(select(ClassPass)))
    # Refused: the appliers that found the renewal granted (NotBookable), the spenders that
    # found the credits gone (PassUsedUp, a NotBookable of its own).
    assert outcomes["NotBookable"] + outcomes["PassUsedUp"] == SPENDERS + APPLIERS - outcomes["ok"]
    assert seat_invariant_violations() == []


def test_one_renewal_applied_by_many_at_once_grants_once(app, practitioner, client_user):
    plan = make_plan(practitioner, credits=4, services=[make_group_class(practitioner)])
    start = datetime.now(UTC).replace(microsecond=0)
    end = start + timedelta(days=30)
    # The very first events: no membership row yet, so the appliers also race to make it.
    paid = invoice(start, end, invoice_id="in_first")
    sub = subscription(client_user, plan, start, end)

    outcomes = race(app, [_renew(paid, sub) for _ in range(APPLIERS)])

    assert outcomes == Counter({"ok": 1, "NotBookable": APPLIERS - 1})
    assert db.session.scalar(select(func.count(Membership.id))) == 1
    assert db.session.scalar(select(func.count(MembershipPeriod.id))) == 1
    assert db.session.scalar(select(func.count(ClassPass.id))) == 1
