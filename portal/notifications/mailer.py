"""The email channel: Flask-Mail over SMTP, or the instance folder when no MAIL_SERVER is
set, so a fresh install shows every message it would have sent on the outbox page."""

from __future__ import annotations

import os
import smtplib
from collections.abc import Iterable
from contextlib import suppress
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from flask import current_app

from ..extensions import mail
from ..models import Notification
from .delivery import Report
from .messages import build_email, load_subjects, render

SMTP_TIMEOUT_SECONDS = 30


def compose(row: Notification) -> EmailMessage:
    return build_email(row, render(row, load_subjects(row)))


def kept_path(row: Notification) -> Path:
    return Path(current_app.config["PORTAL_MAIL_OUTBOX_DIR"]) / f"{row.message_id}.eml"


def _keep(message: EmailMessage, path: Path) -> None:
    """Write whole or not at all; the same Message-ID overwrites the same file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(message.as_bytes(policy=policy.SMTP))
    os.replace(partial, path)


def read_kept(row: Notification) -> EmailMessage | None:
    path = kept_path(row)
    if not path.exists():
        return None
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def deliver_email(batch: Iterable[Notification], report: Report) -> None:
    if not current_app.config["MAIL_SERVER"]:
        for row in batch:
            try:
                _keep(compose(row), kept_path(row))
            except Exception as error:  # noqa: BLE001 - any failure is retried, then shown
                report(row, error)
            else:
                report(row, None)
        return
    try:
        host = mail.connect().configure_host()
    except (OSError, smtplib.SMTPException) as error:
        for row in batch:  # the server is down: every row waits for its retry
            report(row, error)
        return
    # A server that stops answering must not hold the worker (or its lease) forever.
    assert host.sock is not None  # configure_host() connected it
    host.sock.settimeout(SMTP_TIMEOUT_SECONDS)
    try:
        for row in batch:
            try:
                host.send_message(compose(row))
            except Exception as error:  # noqa: BLE001 - retried with backoff, then shown
                report(row, error)
            else:
                report(row, None)
    finally:
        with suppress(OSError, smtplib.SMTPException):
            host.quit()
