"""A practitioner's own calendars and the busy times read from them (#22)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import Model
from .enums import StrEnum, enum_column, set_labels
from .users import User


class CalendarKind(StrEnum):
    # The secret address Google, Outlook and iCloud publish: read-only busy times.
    ICS_URL = "ics_url"
    # One calendar of an RFC 4791 account (iCloud, Fastmail, Nextcloud, Radicale...).
    CALDAV = "caldav"


set_labels(
    CalendarKind,
    {
        CalendarKind.ICS_URL: lazy_gettext("ICS subscription"),
        CalendarKind.CALDAV: lazy_gettext("CalDAV calendar"),
    },
)


class SyncProblem(StrEnum):
    """Why the last refresh failed, in words the practitioner can act on."""

    WRONG_PASSWORD = "wrong_password"
    NOT_FOUND = "not_found"
    NOT_A_CALENDAR = "not_a_calendar"
    TIMEOUT = "timeout"
    INVALID_DATA = "invalid_data"
    TOO_LARGE = "too_large"
    UNREACHABLE = "unreachable"
    REFUSED_ADDRESS = "refused_address"


set_labels(
    SyncProblem,
    {
        SyncProblem.WRONG_PASSWORD: lazy_gettext(
            "The server refused the user name or password. Check them, or make a new app password."
        ),
        SyncProblem.NOT_FOUND: lazy_gettext(
            "Nothing is at that address any more: the calendar may have been deleted or moved."
        ),
        SyncProblem.NOT_A_CALENDAR: lazy_gettext("That address does not hold a calendar."),
        SyncProblem.TIMEOUT: lazy_gettext("The calendar server took too long to answer."),
        SyncProblem.INVALID_DATA: lazy_gettext(
            "The calendar's data could not be read (it is not valid iCalendar)."
        ),
        SyncProblem.TOO_LARGE: lazy_gettext("The calendar is larger than the portal reads."),
        SyncProblem.UNREACHABLE: lazy_gettext("The calendar server could not be reached."),
        SyncProblem.REFUSED_ADDRESS: lazy_gettext(
            "The portal does not fetch calendars from that address."
        ),
    },
)


class ExternalCalendar(Model):
    """One calendar of the practitioner's: where to read it, whether its events block
    the portal's slots, whether the portal writes its sessions into it, and how the
    last refresh went. The address and password are encrypted (portal/crypto.py)."""

    __tablename__ = "external_calendars"
    __table_args__ = (
        CheckConstraint(
            "kind = 'caldav' OR (username IS NULL AND password_secret IS NULL)",
            name="credentials_only_for_caldav",
        ),
        CheckConstraint(
            "kind = 'caldav' OR receives_bookings = false", name="only_caldav_receives"
        ),
        CheckConstraint("events_seen >= 0", name="events_seen_not_negative"),
        # One calendar receives the practitioner's bookings, at most.
        Index(
            "uq_external_calendars_receiver",
            "practitioner_id",
            unique=True,
            sqlite_where=text("receives_bookings"),
            postgresql_where=text("receives_bookings"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[CalendarKind] = mapped_column(enum_column(CalendarKind, "calendar_kind"))
    name: Mapped[str] = mapped_column(String(200))
    # The ICS address, or the CalDAV calendar's collection URL: secret either way (an ICS
    # address is the only key to a private calendar).
    url_secret: Mapped[str] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(String(254))
    password_secret: Mapped[str | None] = mapped_column(Text)
    blocks_time: Mapped[bool] = mapped_column(default=True)
    receives_bookings: Mapped[bool] = mapped_column(default=False)
    # Attendee names go into the written events only if the practitioner asks (privacy).
    share_attendee_names: Mapped[bool] = mapped_column(default=False)
    # What the server last said the data's version was (ETag, or CalDAV's CTag).
    version_tag: Mapped[str | None] = mapped_column(String(500))
    events_seen: Mapped[int] = mapped_column(default=0)
    # How far ahead the stored busy times reach: past it, the tag is not trusted.
    covered_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    problem: Mapped[SyncProblem | None] = mapped_column(enum_column(SyncProblem, "sync_problem"))
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_refresh_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # The refresh job's lease (portal/leases.py): one worker refreshes a calendar at a time.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    practitioner: Mapped[User] = relationship()


class ExternalBusyTime(Model):
    """An interval when the practitioner is busy elsewhere, as last read from one of their
    calendars: the slot picker, the slots API, the calendar and the booking check read
    these, never the remote calendar, except for a stale CalDAV cache at booking."""

    __tablename__ = "external_busy_times"
    __table_args__ = (
        CheckConstraint("end_time > start_time", name="ends_after_start"),
        Index("ix_external_busy_times_practitioner_start", "practitioner_id", "start_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("external_calendars.id", ondelete="CASCADE"), index=True
    )
    # Copied from the calendar so the hot read is one index range, with no join.
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    start_time: Mapped[datetime] = mapped_column(UTCDateTime())
    end_time: Mapped[datetime] = mapped_column(UTCDateTime())


class CalendarWrite(Model):
    """The outbox of the calendar that receives the practitioner's bookings: one row per
    (calendar, session), saying the session's event there must be brought up to date.

    Rows are written by a database trigger (migration 0035) whenever a session's revision
    moves (a booking added, confirmed, canceled or moved; the session moved, canceled or
    renamed), in the transaction that moved it, so no path that changes a session can
    forget its calendar. The worker then reads the session as it is and PUTs its event,
    or DELETEs it once there is nothing to show: a burst of changes costs one write.
    A row is pending while `version` (bumped by every change) is ahead of
    `written_version` (the change the last successful write had seen)."""

    __tablename__ = "calendar_writes"
    __table_args__ = (
        UniqueConstraint("calendar_id", "session_id"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("written_version <= version", name="written_not_ahead"),
        # The worker's claim: pending rows by due time.
        Index(
            "ix_calendar_writes_due",
            "next_attempt_at",
            sqlite_where=text("version > written_version"),
            postgresql_where=text("version > written_version"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("external_calendars.id", ondelete="CASCADE")
    )
    session_id: Mapped[int] = mapped_column(
        ForeignKey("service_sessions.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(default=1)
    written_version: Mapped[int] = mapped_column(default=0)
    # Whether the event is in the calendar now, as far as the last write knows: a session
    # that goes away is DELETEd only if it was ever written.
    on_server: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why the last try failed (shown on the calendar's status page), until one succeeds.
    problem: Mapped[SyncProblem | None] = mapped_column(enum_column(SyncProblem, "sync_problem"))
    last_error: Mapped[str | None] = mapped_column(Text)
    written_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    calendar: Mapped[ExternalCalendar] = relationship()
