from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext
from sqlalchemy import ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import Model
from .enums import StrEnum, enum_column, set_labels
from .orders import Order
from .sessions import ServiceSession
from .users import User


class WaitlistStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    CLAIMED = "claimed"
    EXPIRED = "expired"
    DECLINED = "declined"
    CANCELED = "canceled"


set_labels(
    WaitlistStatus,
    {
        WaitlistStatus.WAITING: lazy_gettext("waiting"),
        WaitlistStatus.OFFERED: lazy_gettext("offered"),
        WaitlistStatus.CLAIMED: lazy_gettext("claimed"),
        WaitlistStatus.EXPIRED: lazy_gettext("expired"),
        WaitlistStatus.DECLINED: lazy_gettext("declined"),
        WaitlistStatus.CANCELED: lazy_gettext("canceled"),
    },
)


# Entries still in line or holding an offered seat.
WAITLIST_OPEN = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


class WaitlistEntry(Model):
    """A client in line for a seat in a full session.

    An offer is a real pending order (with its seat) whose hold expires at
    offer_expires_at, so the database capacity triggers count the held seat.
    """

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        # One place in line per person per session; closed entries stay as history.
        Index(
            "uq_waitlist_entries_open",
            "user_id",
            "service_session_id",
            unique=True,
            sqlite_where=text("status IN ('waiting', 'offered')"),
            postgresql_where=text("status IN ('waiting', 'offered')"),
        ),
        Index("ix_waitlist_entries_session_status", "service_session_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    service_session_id: Mapped[int] = mapped_column(ForeignKey("service_sessions.id"))
    status: Mapped[WaitlistStatus] = mapped_column(
        enum_column(WaitlistStatus, "waitlist_status"), default=WaitlistStatus.WAITING
    )
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
    service_session: Mapped[ServiceSession] = relationship()
    order: Mapped[Order | None] = relationship()

    def __repr__(self) -> str:
        return f"<WaitlistEntry {self.id} {self.status} session={self.service_session_id}>"
