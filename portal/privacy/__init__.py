"""A person's data rights (GDPR): a copy of their data (exports) and the erasure of their
account (erasure), both built on one registry of what holds personal data (registry,
with the portal's own holders in holders), and the retention of old records (retention).

A feature that keeps personal data joins the export and the erasure with one line:
`privacy.register(privacy.Holder("form_answers", export=..., erase=...))`.
"""

from . import holders as _holders  # noqa: F401 - registers the portal's own holders
from .erasure import (
    cancel_erasure,
    erase_account,
    erase_due_accounts,
    grace_period,
    pending_erasure,
    pending_erasures,
    request_erasure,
    tombstone_name,
)
from .exports import (
    build_zip,
    download_export,
    expire_exports,
    export_data,
    export_for,
    latest_export,
    prepare_exports,
    request_export,
)
from .registry import HOLDERS, Erasure, Holder, register
from .retention import apply_retention, retention_cutoff

__all__ = [
    "HOLDERS",
    "apply_retention",
    "retention_cutoff",
    "Erasure",
    "Holder",
    "build_zip",
    "cancel_erasure",
    "download_export",
    "erase_account",
    "erase_due_accounts",
    "expire_exports",
    "export_data",
    "export_for",
    "grace_period",
    "latest_export",
    "pending_erasure",
    "pending_erasures",
    "prepare_exports",
    "register",
    "request_erasure",
    "request_export",
    "tombstone_name",
]
