"""Telling an endpoint's owner that it was disabled.

Called inside the transaction that disables it, so the notice and the change commit
together. The endpoints page shows a banner for a disabled endpoint as well.
"""

from __future__ import annotations

import logging

from ..models import WebhookEndpoint

log = logging.getLogger(__name__)


def tell_owner_disabled(endpoint: WebhookEndpoint) -> None:
    log.warning(
        "webhook endpoint %s of user %s disabled: %s",
        endpoint.id,
        endpoint.user_id,
        endpoint.disabled_reason,
    )
