"""A class pass credit spent on a seat, and given back: the primitives under the pass's row.

The count lives in the database: `class_passes.credits_used` moves only by the conditional
UPDATEs here, and its CHECK refuses a pass spent past its credits, whatever the callers did
before. Whoever spends or returns a credit holds the session's lock first and the pass's
second (a seat taken with a pass, a canceled booking or session), so the two never wait on
each other the other way round.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import cast

from flask_babel import gettext
from sqlalchemy import CursorResult, insert, select, update
from sqlalchemy.orm import joinedload

from ..core.errors import PassUsedUp
from ..extensions import db
from ..models import Booking, ClassPass, ClassPassUse

log = logging.getLogger(__name__)


def lock_class_pass(class_pass_id: int) -> ClassPass | None:
    """Row-lock a pass and read it as it is now, with its order and service."""
    return db.session.scalars(
        select(ClassPass)
        .options(
            joinedload(ClassPass.order, innerjoin=True),
            joinedload(ClassPass.service, innerjoin=True),
        )
        .where(ClassPass.id == class_pass_id)
        .with_for_update(of=ClassPass)
        .execution_options(populate_existing=True)
    ).one_or_none()


def spend_credit(class_pass: ClassPass, booking: Booking, now: datetime) -> None:
    """One credit of the pass pays for the booking's seat."""
    spent = db.session.execute(
        update(ClassPass)
        .where(ClassPass.id == class_pass.id, ClassPass.credits_used < ClassPass.credits)
        .values(credits_used=ClassPass.credits_used + 1)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult, spent).rowcount != 1:
        raise PassUsedUp(gettext("This pass has no credits left."))
    db.session.execute(
        insert(ClassPassUse).values(
            class_pass_id=class_pass.id, booking_id=booking.id, created_at=now
        )
    )
    db.session.expire(class_pass, ["credits_used"])


def return_credit(booking: Booking, now: datetime) -> bool:
    """Give back the credit that paid for this booking's seat, if a pass paid for it and it
    was not given back already; True when one came back."""
    pass_id = db.session.scalar(
        update(ClassPassUse)
        .where(ClassPassUse.booking_id == booking.id, ClassPassUse.returned_at.is_(None))
        .values(returned_at=now)
        .returning(ClassPassUse.class_pass_id)
        .execution_options(synchronize_session=False)
    )
    if pass_id is None:
        return False
    db.session.execute(
        update(ClassPass)
        .where(ClassPass.id == pass_id)
        .values(credits_used=ClassPass.credits_used - 1)
        .execution_options(synchronize_session=False)
    )
    log.info("pass credit returned: pass %s, booking %s", pass_id, booking.id)
    return True
