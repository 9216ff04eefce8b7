"""A person's data rights (GDPR articles 15, 17 and 20): the exports of their data and the
erasure of their account, each a request with its own life (portal/privacy/)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext
from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import Model
from .enums import StrEnum, enum_column, set_labels
from .users import User


class DataExportStatus(StrEnum):
    # Asked for; the worker has not built the file yet.
    PENDING = "pending"
    # The file is built and its link sent.
    READY = "ready"
    # The link was used (it works once) and the file deleted.
    DOWNLOADED = "downloaded"
    # Nobody used the link in time; the file is deleted.
    EXPIRED = "expired"


set_labels(
    DataExportStatus,
    {
        DataExportStatus.PENDING: lazy_gettext("being prepared"),
        DataExportStatus.READY: lazy_gettext("ready: see your email"),
        DataExportStatus.DOWNLOADED: lazy_gettext("downloaded"),
        DataExportStatus.EXPIRED: lazy_gettext("expired"),
    },
)


class DataExport(Model):
    """One copy of a person's data, asked for by them (or by staff for them)."""

    __tablename__ = "data_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[DataExportStatus] = mapped_column(
        enum_column(DataExportStatus, "data_export_status"), default=DataExportStatus.PENDING
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The zip's name in PORTAL_EXPORT_DIR: random, so it cannot be guessed from the id.
    file_name: Mapped[str | None] = mapped_column(String(80))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ErasureStatus(StrEnum):
    # Waiting out the grace period; the person may still cancel it.
    PENDING = "pending"
    CANCELED = "canceled"
    # The account is erased: its row is a tombstone.
    DONE = "done"


set_labels(
    ErasureStatus,
    {
        ErasureStatus.PENDING: lazy_gettext("scheduled"),
        ErasureStatus.CANCELED: lazy_gettext("canceled"),
        ErasureStatus.DONE: lazy_gettext("done"),
    },
)


class ErasureRequest(Model):
    """An account's deletion, due once its grace period ends."""

    __tablename__ = "erasure_requests"
    __table_args__ = (
        # One deletion waits per account at a time (two clicks, two tabs: the second is refused).
        Index(
            "uq_erasure_requests_pending",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_erasure_requests_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[ErasureStatus] = mapped_column(
        enum_column(ErasureStatus, "erasure_status"), default=ErasureStatus.PENDING
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])
