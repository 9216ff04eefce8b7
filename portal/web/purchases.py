"""Buying from a page: each rendering of a buy form carries a one-time token, so a double
submit (or a retry after a dropped connection) finds the first submit's order."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from .. import booking
from ..models import Order, Service

_PURCHASE_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_purchase_token() -> str:
    return secrets.token_urlsafe(16)


def buy_once(what: tuple, purchase: Callable[[], Order]) -> tuple[int, bool]:
    """Run `purchase` once per submitted page token; (the order's id, whether it is a repeat).

    `what` names the choice (endpoint, service, session, start): the same token with
    another choice is refused by the domain like an API key reused with another body."""
    token = request.form.get("purchase_token", "")
    if not _PURCHASE_TOKEN.fullmatch(token):
        return purchase().id, False
    record, repeat = booking.purchase_once(
        current_user, f"form:{token}", booking.fingerprint(*what), purchase
    )
    # The key and its order are written in one transaction: a stored key names its order.
    assert record.order_id is not None
    return record.order_id, repeat


def buy_offer(endpoint: str, service: Service, purchase: Callable[[], Order], offer: str):
    """The buy button of an offer sold as one order (a package, a bundle, a class pass):
    bought once per page token; a refusal shows the offer again with its reason (and a
    fresh token); else the order's page."""
    try:
        order_id, repeat = buy_once((endpoint, service.id), purchase)
    except booking.DomainError as exc:
        page = render_template(
            offer,
            service=service,
            can_buy=True,
            error=exc.message,
            purchase_token=new_purchase_token(),
        )
        return page, exc.http_status
    if not repeat:
        flash(gettext("Order placed for %(service_name)s.", service_name=service.name), "success")
    return redirect(url_for("orders.view_order", order_id=order_id))
