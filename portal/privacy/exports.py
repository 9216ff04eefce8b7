"""A copy of a person's data (GDPR art. 15 and 20): asked for in the profile (or by staff
for them), built by the worker into a zip outside the web root, and delivered by email
as a signed link that expires, works once, and only for the signed-in owner.

The zip holds `data.json` (every registered holder's part, portal/privacy/registry.py)
and `sessions.ics` (their sessions, as their calendar feed would show them).
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

from flask import current_app
from flask_babel import gettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import CursorResult, select, update

from .. import audit
from ..accounts.tokens import BadLink, LinkProblem
from ..core.errors import NotPermitted
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..ics import new_calendar, session_event
from ..models import (
    SEAT_HOLDING,
    AuditAction,
    Booking,
    DataExport,
    DataExportStatus,
    NotificationKind,
    Role,
    ServiceSession,
    SessionStatus,
    User,
)
from ..notifications import outbox
from ..notifications.links import external_url
from .registry import HOLDERS, Erasure

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
_SALT = "portal.privacy.export"


def export_dir() -> Path:
    return Path(current_app.config["PORTAL_EXPORT_DIR"])


def _link_max_age() -> int:
    return int(current_app.config["PORTAL_EXPORT_LINK_MAX_AGE"])


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _audit(action: AuditAction, export: DataExport, user: User, actor_id: int | None) -> None:
    audit.record(
        action,
        "data_export",
        export.id,
        client_id=user.id if user.role == Role.CLIENT else None,
        actor_id=actor_id,
        after={"user_id": user.id},
    )


def latest_export(user: User) -> DataExport | None:
    return db.session.scalar(
        select(DataExport).where(DataExport.user_id == user.id).order_by(DataExport.id.desc())
    )


@unit_of_work
def request_export(user: User, *, by: User | None = None) -> DataExport:
    """Queue an export; one still being prepared is the answer to a second request."""
    waiting = db.session.scalar(
        select(DataExport).where(
            DataExport.user_id == user.id, DataExport.status == DataExportStatus.PENDING
        )
    )
    if waiting is not None:
        return waiting
    export = DataExport(user_id=user.id, requested_by_id=(by or user).id)
    db.session.add(export)
    db.session.flush()
    _audit(AuditAction.DATA_EXPORT_REQUESTED, export, user, (by or user).id)
    log.info(
        "data export requested: export %s, user %s, by %s", export.id, user.id, (by or user).id
    )
    return export


def export_data(user: User) -> dict:
    """Every holder's part, keyed by its name: what `data.json` holds."""
    data: dict = {"format_version": FORMAT_VERSION, "exported_at": utcnow().isoformat()}
    for holder in HOLDERS:
        if holder.export is not None:
            data[holder.name] = holder.export(user)
    return data


def sessions_calendar(user: User) -> bytes:
    """Every session they held a seat in (canceled ones marked so), in one calendar."""
    bookings = db.session.scalars(
        select(Booking)
        .join(ServiceSession, Booking.service_session_id == ServiceSession.id)
        .where(Booking.user_id == user.id, ServiceSession.start_time.is_not(None))
        .order_by(ServiceSession.start_time, Booking.id)
    )
    # A seat canceled and taken again is one event: the live seat wins.
    seats: dict[int, Booking] = {}
    for seat in bookings:
        kept = seats.get(seat.service_session_id)
        if kept is None or seat.status in SEAT_HOLDING:
            seats[seat.service_session_id] = seat
    calendar = new_calendar("PUBLISH", "Data export")
    for seat in seats.values():
        session = seat.service_session
        canceled = session.status == SessionStatus.CANCELED or seat.status not in SEAT_HOLDING
        description = f"With {session.practitioner.name} · booking {seat.status.value}"
        calendar.add_component(session_event(session, canceled=canceled, description=description))
    calendar.add_missing_timezones()
    return calendar.to_ical()


def build_zip(user: User) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "data.json", json.dumps(export_data(user), indent=2, ensure_ascii=False, default=str)
        )
        archive.writestr("sessions.ics", sessions_calendar(user))
    return buffer.getvalue()


def _write_file(data: bytes) -> str:
    folder = export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.zip"
    # 0600: the file is the person's whole record; only the portal's user reads it.
    path = folder / name
    with path.open("xb") as handle:
        handle.write(data)
    path.chmod(0o600)
    return name


def link_token(export: DataExport) -> str:
    return _serializer().dumps({"export": export.id, "uid": export.user_id})


@unit_of_work
def _prepare(export_id: int, now: datetime) -> bool:
    export = db.session.get(DataExport, export_id)
    if export is None or export.status != DataExportStatus.PENDING:
        return False
    name = _write_file(build_zip(export.user))
    expires_at = now + timedelta(seconds=_link_max_age())
    claimed = db.session.execute(
        update(DataExport)
        .where(DataExport.id == export_id, DataExport.status == DataExportStatus.PENDING)
        .values(status=DataExportStatus.READY, ready_at=now, expires_at=expires_at, file_name=name)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult, claimed).rowcount != 1:
        # Another worker finished it first: its file is the one the link opens.
        (export_dir() / name).unlink(missing_ok=True)
        return False
    url = external_url("accounts.download_export", token=link_token(export))
    outbox.notify(
        NotificationKind.DATA_EXPORT_READY,
        export.user_id,
        url=url,
        expires_at=expires_at.isoformat(),
    )
    log.info("data export ready: export %s, user %s", export_id, export.user_id)
    return True


def prepare_exports(*, now: datetime | None = None) -> int:
    """Build every export waiting; each in its own unit of work. How many were built."""
    now = now or utcnow()
    waiting = db.session.scalars(
        select(DataExport.id)
        .where(DataExport.status == DataExportStatus.PENDING)
        .order_by(DataExport.id)
    ).all()
    return sum(_prepare(export_id, now) for export_id in waiting)


def export_for(token: str, user: User) -> DataExport:
    """The export a link opens, for its signed-in owner only; another account is refused
    as if the export did not exist."""
    try:
        payload = _serializer().loads(token, max_age=_link_max_age())
    except SignatureExpired as exc:
        raise BadLink(LinkProblem.EXPIRED) from exc
    except BadSignature as exc:
        raise BadLink(LinkProblem.INVALID) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("export"), int):
        raise BadLink(LinkProblem.INVALID)
    export = db.session.get(DataExport, payload["export"])
    if export is None or export.user_id != payload.get("uid"):
        raise BadLink(LinkProblem.INVALID)
    if export.user_id != user.id:
        raise NotPermitted(gettext("This download belongs to another account."))
    if export.status == DataExportStatus.EXPIRED:
        raise BadLink(LinkProblem.EXPIRED)
    if export.status != DataExportStatus.READY:
        raise BadLink(LinkProblem.USED)
    return export


@unit_of_work
def _claim(token: str, user: User, now: datetime) -> tuple[bytes, Path]:
    export = export_for(token, user)
    assert export.file_name is not None  # a ready export has its file
    path = export_dir() / export.file_name
    taken = db.session.execute(
        update(DataExport)
        .where(DataExport.id == export.id, DataExport.status == DataExportStatus.READY)
        .values(status=DataExportStatus.DOWNLOADED, downloaded_at=now)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult, taken).rowcount != 1:
        raise BadLink(LinkProblem.USED)
    data = path.read_bytes()
    _audit(AuditAction.DATA_EXPORT_DOWNLOADED, export, user, user.id)
    log.info("data export downloaded: export %s, user %s", export.id, user.id)
    return data, path


def download_export(token: str, user: User, *, now: datetime | None = None) -> bytes:
    """The zip, once: the link is spent and the file deleted as it is handed over."""
    data, path = _claim(token, user, now or utcnow())
    path.unlink(missing_ok=True)
    return data


def expire_exports(*, now: datetime | None = None) -> int:
    """Delete the files of exports whose link ran out unused. How many."""
    now = now or utcnow()
    lapsed = db.session.execute(
        select(DataExport.id, DataExport.file_name).where(
            DataExport.status == DataExportStatus.READY, DataExport.expires_at <= now
        )
    ).all()
    expired = 0
    for export_id, file_name in lapsed:
        # A download that won the race keeps its file until it has read it.
        if _expire(export_id) and file_name:
            (export_dir() / file_name).unlink(missing_ok=True)
            expired += 1
    return expired


@unit_of_work
def _expire(export_id: int) -> bool:
    result = db.session.execute(
        update(DataExport)
        .where(DataExport.id == export_id, DataExport.status == DataExportStatus.READY)
        .values(status=DataExportStatus.EXPIRED)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult, result).rowcount == 1


def forget_exports(erasure: Erasure) -> None:
    """An erased person's copies waiting on disk go with them; their links stop working."""
    waiting = db.session.execute(
        select(DataExport.id, DataExport.file_name).where(
            DataExport.user_id == erasure.user.id,
            DataExport.status.in_((DataExportStatus.PENDING, DataExportStatus.READY)),
        )
    ).all()
    db.session.execute(
        update(DataExport)
        .where(DataExport.id.in_([export_id for export_id, _ in waiting]))
        .values(status=DataExportStatus.EXPIRED)
        .execution_options(synchronize_session=False)
    )
    for _, file_name in waiting:
        if file_name:
            (export_dir() / file_name).unlink(missing_ok=True)
