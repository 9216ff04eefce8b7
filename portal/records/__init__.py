"""The client record, the practitioner's side: session notes (notes), the client list and
record page with tags and a private note (clients), and the safe rendering of the notes'
Markdown (render). Texts are encrypted at rest (portal/crypto.py); every read and write is
in the audit log (portal/audit.py)."""

from .clients import (
    LIST_LIMIT,
    ClientFile,
    ClientRow,
    client_rows,
    is_client_of,
    parse_tags,
    practitioner_tags,
    read_client_file,
    save_client_file,
)
from .notes import (
    NoteText,
    add_addendum,
    may_read,
    note_for,
    read_note,
    save_draft,
    sections_of,
    share_with_staff,
    sign_note,
    writes_notes_for,
)
from .render import render_markdown

__all__ = [
    "LIST_LIMIT",
    "ClientFile",
    "ClientRow",
    "NoteText",
    "add_addendum",
    "client_rows",
    "is_client_of",
    "may_read",
    "note_for",
    "parse_tags",
    "practitioner_tags",
    "read_client_file",
    "read_note",
    "render_markdown",
    "save_client_file",
    "save_draft",
    "sections_of",
    "share_with_staff",
    "sign_note",
    "writes_notes_for",
]
