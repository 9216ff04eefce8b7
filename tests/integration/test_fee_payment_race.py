"""A due fee paid online against the practitioner waiving it (#20), on SQLite and
PostgreSQL: the event's applier and the waiver both take the order's row lock, so each fee
ends one way. Either the payment came first (the fee is charged, the waiver refused), or
the waiver did (the fee is waived and the card's payment refunded to that card). Never a
waived fee whose money is kept, never a fee charged and refunded, never a charge twice."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import Fee, FeeStatus, Payment, PaymentKind, User
from tests.fixtures.concurrency import THREADS, race
from tests.fixtures.factories import make_user
from tests.fixtures.fees import NO_SHOW_FEE, card_pays_fee, owe_due_fees
from tests.fixtures.stripe_server import stripe_config

FEES = 8
APPLIERS = 3


@pytest.fixture
def app_config(localstripe_url):
    return {
        **stripe_config(localstripe_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS + 5, "max_overflow": 0},
    }


def _waive(fee_id: int, practitioner_id: int):
    def waive():
        booking.waive_fee(
            db.session.get_one(Fee, fee_id), db.session.get_one(User, practitioner_id)
        )

    return waive


def test_paying_a_due_fee_and_waiving_it_settle_into_one_story(app, practitioner, localstripe_url):
    fees = owe_due_fees(practitioner, [make_user() for _ in range(FEES)])
    for fee in fees:
        intent = card_pays_fee(localstripe_url, fee)
        # The verified event, as the webhook stores it.
        booking.receive_payment_event(f"evt_fee_{fee.id}", "payment_intent.succeeded", intent.id)
    fee_ids = [f.id for f in fees]

    outcomes = race(
        app,
        [_waive(fee_id, practitioner.id) for fee_id in fee_ids]
        + [booking.apply_payment_events] * APPLIERS,
    )
    booking.apply_payment_events()
    db.session.expire_all()

    assert not [o for o in outcomes if o.startswith("crash")], outcomes
    stories = {"paid first": 0, "waived first": 0}
    for fee_id in fee_ids:
        fee = db.session.get_one(Fee, fee_id)
        rows = [
            (p.kind, p.amount_cents)
            for p in db.session.scalars(
                select(Payment).where(Payment.order_id == fee.order_id).order_by(Payment.id)
            )
        ]
        if fee.status == FeeStatus.CHARGED:
            assert rows == [(PaymentKind.FEE, NO_SHOW_FEE)]
            stories["paid first"] += 1
        else:
            assert fee.status == FeeStatus.WAIVED
            assert rows == [(PaymentKind.FEE, NO_SHOW_FEE), (PaymentKind.REFUND, NO_SHOW_FEE)]
            stories["waived first"] += 1
    print(f"stories: {stories}; outcomes {dict(outcomes)}")
    # A waiver that came second was refused; every applier ran through.
    assert outcomes["InvalidTransition"] == stories["paid first"]
    assert outcomes["ok"] == APPLIERS + stories["waived first"]
