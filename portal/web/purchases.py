"""Buying from a page: each rendering of a buy form carries a one-time token, so a double
submit (or a retry after a dropped connection) finds the first submit's order."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from flask import request
from flask_login import current_user

from .. import booking
from ..models import Order

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
