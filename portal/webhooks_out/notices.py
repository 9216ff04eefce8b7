"""Telling an endpoint's owner that it was disabled.

Called inside the transaction that disables it, so the outbox row and the change commit
together (or neither does). The endpoints page shows a banner for a disabled endpoint
as well; the email is what reaches an owner who is not looking at it.
"""

from __future__ import annotations

import logging

from ..models import NotificationKind, WebhookEndpoint
from ..notifications.links import external_url
from ..notifications.outbox import notify

log = logging.getLogger(__name__)


def tell_owner_disabled(endpoint: WebhookEndpoint) -> None:
    log.warning(
        "webhook endpoint %s of user %s disabled: %s",
        endpoint.id,
        endpoint.user_id,
        endpoint.disabled_reason,
    )
    notify(
        NotificationKind.WEBHOOK_ENDPOINT_DISABLED,
        endpoint.user_id,
        # Once per disabling: a re-enabled endpoint that fails again is a new message.
        dedup_key=f"webhook-disabled:{endpoint.id}:{endpoint.disabled_at.isoformat()}",
        endpoint_url=endpoint.url,
        description=endpoint.description,
        reason=endpoint.disabled_reason,
        url=external_url("webhooks_out.show_endpoint", endpoint_id=endpoint.id),
    )
