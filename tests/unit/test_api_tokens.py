"""Personal API tokens: stored hashed, found by prefix, dead once revoked."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from portal import api_tokens
from portal.database import utcnow
from portal.extensions import db
from portal.models import ApiToken


def test_issued_token_is_stored_only_as_a_hash(client_user):
    token, raw = api_tokens.issue_token(client_user, "calendar sync")

    row = db.session.scalar(select(ApiToken).where(ApiToken.id == token.id))
    assert raw.startswith(f"est_{row.prefix}_")
    assert len(raw) > 50
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in (row.token_hash, row.prefix, row.name)
    assert row.name == "calendar sync" and row.revoked_at is None and row.last_used_at is None


def test_token_finds_its_user_and_records_last_use(client_user):
    token, raw = api_tokens.issue_token(client_user, "x")

    assert api_tokens.user_for_token(raw) == client_user
    db.session.refresh(token)
    assert token.last_used_at is not None


def test_last_use_is_written_at_most_once_a_minute(client_user):
    token, raw = api_tokens.issue_token(client_user, "x")
    first = utcnow()
    api_tokens.user_for_token(raw, now=first)
    api_tokens.user_for_token(raw, now=first + timedelta(seconds=30))
    db.session.refresh(token)
    assert token.last_used_at == first
    api_tokens.user_for_token(raw, now=first + timedelta(minutes=2))
    db.session.refresh(token)
    assert token.last_used_at == first + timedelta(minutes=2)


def test_wrong_secret_with_a_real_prefix_is_refused(client_user):
    _token, raw = api_tokens.issue_token(client_user, "x")
    forged = raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB")
    assert api_tokens.user_for_token(forged) is None
    assert api_tokens.user_for_token("est_nothing_here") is None
    assert api_tokens.user_for_token("garbage") is None


def test_revoked_token_and_deactivated_account_are_refused(client_user, practitioner):
    token, raw = api_tokens.issue_token(client_user, "x")
    api_tokens.revoke_token(token)
    assert token.revoked_at is not None
    assert api_tokens.user_for_token(raw) is None

    _other, other_raw = api_tokens.issue_token(practitioner, "y")
    practitioner.is_active_account = False
    db.session.commit()
    assert api_tokens.user_for_token(other_raw) is None


def test_each_token_is_unique(client_user):
    raws = {api_tokens.issue_token(client_user, f"t{i}")[1] for i in range(5)}
    assert len(raws) == 5
    assert [t.name for t in api_tokens.tokens_of(client_user)] == ["t4", "t3", "t2", "t1", "t0"]
