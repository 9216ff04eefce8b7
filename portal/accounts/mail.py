"""Account email leaves through `send_account_email`, and only through it.

The message is tied to the caller's transaction: it is written once that transaction
commits, and a rollback sends nothing. Until the notifications outbox takes over this
function's body, "written" means an RFC 5322 file in PORTAL_MAIL_OUTBOX_DIR (one file per
message), which an operator's mail relay or a test reads.
"""

from __future__ import annotations

import logging
import re
import uuid
from email.message import EmailMessage
from email.utils import format_datetime
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..database import utcnow
from ..extensions import db
from ..models import User

log = logging.getLogger(__name__)

_PENDING = "portal_account_mail"


class AccountEmail(StrEnum):
    VERIFY_EMAIL = "verify_email"
    # A sign-up named an address that already has an account: tell its owner, not the form.
    SIGNUP_EXISTING = "signup_existing"
    PASSWORD_RESET = "password_reset"
    INVITATION = "invitation"
    EMAIL_CHANGE = "email_change"


def send_account_email(kind: AccountEmail, recipient: User | str, url: str) -> None:
    """Queue one account email with its link, to go out when the current transaction commits."""
    message = compose_account_email(kind, recipient, url)
    drop = current_app.config["PORTAL_MAIL_OUTBOX_DIR"]
    db.session.info.setdefault(_PENDING, []).append((drop, message))
    log.info("account email %s queued for %s", kind.value, _address(recipient))


def _address(recipient: User | str) -> str:
    return recipient.email if isinstance(recipient, User) else recipient


def compose_account_email(kind: AccountEmail, recipient: User | str, url: str) -> bytes:
    """The message as it is written out (RFC 5322 bytes)."""
    address = _address(recipient)
    name = recipient.name if isinstance(recipient, User) else None
    template = current_app.jinja_env.get_template(f"emails/accounts/{kind.value}.txt")
    module = template.make_module({"name": name, "url": url, "address": address})
    message = EmailMessage()
    message["Subject"] = " ".join(str(module.subject).split())
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = address
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = f"<{uuid.uuid4().hex}@estuary.invalid>"
    # Template tags leave blank lines behind; a paragraph break is one blank line.
    message.set_content(re.sub(r"\n\s*\n(\s*\n)+", "\n\n", str(module)).strip() + "\n")
    return message.as_bytes()


@event.listens_for(Session, "after_commit")
def _write_after_commit(session: Session) -> None:
    for directory, message in session.info.pop(_PENDING, []):
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
        (folder / name).write_bytes(message)
        log.info("account email written to %s", name)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def link(endpoint: str, **values) -> str:
    """An absolute URL for a message: the request's own host inside a request, else
    PORTAL_BASE_URL (a CLI command has no request to take a host from)."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    base = urlsplit(current_app.config["PORTAL_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)
