"""Retention: what a practitioner keeps about a client (session notes, the private record,
tags; intake answers once that feature registers them) is deleted
PORTAL_RETENTION_NOTES_YEARS after their last session together (0 keeps it). A daily job;
each holder deletes in one set-based statement, and each run is in the audit log with how
many rows went (never whose: the log must not outlive what it describes by naming it).

A year is 365 days here: the job runs daily, so the day a leap year adds is a day's delay.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app

from .. import audit
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..models import AuditAction
from .registry import HOLDERS

log = logging.getLogger(__name__)


def retention_cutoff(now: datetime) -> datetime | None:
    years = int(current_app.config["PORTAL_RETENTION_NOTES_YEARS"])
    return now - timedelta(days=365 * years) if years > 0 else None


@unit_of_work
def apply_retention(*, now: datetime | None = None) -> int:
    """Delete what the retention period has run out on; how many rows went."""
    cutoff = retention_cutoff(now or utcnow())
    if cutoff is None:
        return 0
    total = 0
    for holder in HOLDERS:
        if holder.expire is None:
            continue
        deleted = holder.expire(cutoff)
        total += deleted
        if deleted:
            audit.record(
                AuditAction.RETENTION_APPLIED,
                "retention",
                None,
                after={"holder": holder.name, "deleted": deleted, "cutoff": cutoff},
            )
            log.info("retention: %s rows of %s before %s", deleted, holder.name, cutoff)
    return total
