"""Tests hash passwords cheaply; production must not."""

from __future__ import annotations

from werkzeug.security import check_password_hash

from portal import create_app
from portal.models.users import hash_password


def test_production_hashes_with_scrypt(tmp_path):
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}", "SECRET_KEY": "k"}
    )
    assert app.config["PORTAL_PASSWORD_HASH_METHOD"] == ""
    with app.app_context():
        hashed = hash_password("correct horse battery")
    assert hashed.startswith("scrypt:")
    assert check_password_hash(hashed, "correct horse battery")


def test_the_test_configuration_hashes_cheaply(app):
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("pbkdf2:sha256:1$")
    assert check_password_hash(hashed, "correct horse battery")
