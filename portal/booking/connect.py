"""Stripe Connect: a practitioner connects their own Stripe account (Express onboarding
on Stripe's pages), and it takes their orders' payments once Stripe says it may.

Connecting makes the account at Stripe once per practitioner (the idempotency key is
theirs, so a double click or a retry gets the same account), keeps its id on the
practitioner, and sends them to an onboarding link Stripe gives. Whether it takes charges
is learned only from Stripe: its account.updated event, applied by the worker, which asks
Stripe again (payment_events); the browser's return says nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

import stripe
from flask_babel import gettext
from sqlalchemy import select

from ..core.errors import PaymentProviderUnavailable
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import StripeAccount, User
from .stripe_provider import client, connect_on, options

log = logging.getLogger(__name__)


def connected_account(practitioner: User) -> StripeAccount | None:
    return db.session.get(StripeAccount, practitioner.id)


@unit_of_work
def _keep_account(practitioner_id: int, account_id: str, now: datetime) -> StripeAccount:
    kept = db.session.get(StripeAccount, practitioner_id)
    if kept is None:
        kept = StripeAccount(
            practitioner_id=practitioner_id,
            account_id=account_id,
            charges_enabled=False,
            created_at=now,
            updated_at=now,
        )
        db.session.add(kept)
        db.session.flush()
        log.info("stripe account %s made for practitioner %s", account_id, practitioner_id)
    return kept


def start_onboarding(practitioner: User, *, return_url: str, refresh_url: str) -> str:
    """The address of Stripe's onboarding for the practitioner's own account (made now if
    they have none). Stripe calls outside any transaction."""
    if not connect_on():
        raise PaymentProviderUnavailable(gettext("Connecting a Stripe account is not switched on."))
    kept = connected_account(practitioner)
    account_id = kept.account_id if kept is not None else None
    email = practitioner.email
    db.session.rollback()
    try:
        if account_id is None:
            account = client().v1.accounts.create(
                {
                    "type": "express",
                    "email": email,
                    "metadata": {"practitioner_id": str(practitioner.id)},
                    "capabilities": {
                        "card_payments": {"requested": True},
                        "transfers": {"requested": True},
                    },
                },
                options(key=f"connect-account-{practitioner.id}"),
            )
            account_id = _keep_account(practitioner.id, account.id, utcnow()).account_id
        link = client().v1.account_links.create(
            {
                "account": account_id,
                "type": "account_onboarding",
                "return_url": return_url,
                "refresh_url": refresh_url,
            }
        )
    except stripe.StripeError as exc:
        log.warning("Stripe onboarding not started for user %s: %s", practitioner.id, exc)
        raise PaymentProviderUnavailable(
            gettext("Stripe is unavailable right now; try again in a few minutes.")
        ) from exc
    return link.url


def record_account_state(account_id: str, ready: bool, now: datetime) -> str:
    """What Stripe says of a connected account now: whether it takes charges."""
    kept = db.session.scalar(select(StripeAccount).where(StripeAccount.account_id == account_id))
    if kept is None:
        return "account not ours"
    kept.charges_enabled = ready
    kept.updated_at = now
    log.info(
        "stripe account %s of practitioner %s: charges %s",
        account_id,
        kept.practitioner_id,
        "enabled" if ready else "not enabled",
    )
    return "account ready" if ready else "account not ready"
