"""Secrets kept at rest (calendar passwords and subscription addresses, session notes):
Fernet from `cryptography`, so a database dump alone does not reveal them.

PORTAL_ENCRYPTION_KEYS holds one or more Fernet keys, comma-separated, newest first: the
first encrypts, every one decrypts (MultiFernet). To rotate, put a new key first, keep the
old ones after it, and run `flask --app portal rotate-encryption`; then drop the old keys.
Without the setting a SQLite install keeps a generated key in its instance folder, as it
does its SECRET_KEY; a shared database refuses to encrypt without one.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy.engine import make_url


class EncryptionKeyMissing(RuntimeError):
    """No key is configured where every instance must share one."""


class UnreadableSecret(ValueError):
    """A stored secret that none of the configured keys opens."""


def _instance_key(instance_path: str) -> str:
    key_file = Path(instance_path) / "encryption_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    # O_EXCL: two processes starting together must agree on one key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _keys() -> list[str]:
    configured = [k.strip() for k in current_app.config["PORTAL_ENCRYPTION_KEYS"].split(",")]
    keys = [k for k in configured if k]
    if keys:
        return keys
    if make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != "sqlite":
        raise EncryptionKeyMissing(
            "PORTAL_ENCRYPTION_KEYS is not set: every instance sharing this database must "
            "encrypt with the same key. Make one with: python -c 'from cryptography.fernet "
            "import Fernet; print(Fernet.generate_key().decode())'"
        )
    return [_instance_key(current_app.instance_path)]


def _box() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in _keys()])


def encrypt(text: str) -> str:
    return _box().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _box().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise UnreadableSecret("no configured key opens this secret") from error


def encrypt_bytes(content: bytes) -> bytes:
    """A file's bytes sealed the same way (intake uploads)."""
    return _box().encrypt(content)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return _box().decrypt(token)
    except InvalidToken as error:
        raise UnreadableSecret("no configured key opens this secret") from error


def reencrypt(token: str) -> str:
    """The same secret under the newest key (key rotation)."""
    try:
        return _box().rotate(token.encode()).decode()
    except InvalidToken as error:
        raise UnreadableSecret("no configured key opens this secret") from error
