"""'The viewer's own X or 404' is written once, in portal/web/access.py: a blueprint does
not re-type the owner comparison."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from werkzeug.exceptions import NotFound

import portal
from portal import api_tokens
from portal.models import ApiToken, Role
from portal.web.access import get_own, get_own_service
from tests.fixtures.factories import make_service, make_user

BLUEPRINTS = Path(portal.__file__).parent / "blueprints"
# `x.user_id != current_user.id` before an abort, or a query returning None for another's row.
RETYPED = re.compile(r"\.user_id (!=|==) (current_user|user)\.id( else None|:)?\s*$")


def test_the_owner_gets_their_row_and_anyone_else_a_404(app):
    owner, other = make_user(), make_user()
    token = db_token(owner)
    assert get_own(ApiToken, token.id, owner) is token
    with pytest.raises(NotFound):
        get_own(ApiToken, token.id, other)
    with pytest.raises(NotFound):
        get_own(ApiToken, token.id + 1000, owner)


def test_a_service_is_its_practitioners_own(app):
    practitioner, colleague = make_user(Role.PRACTITIONER), make_user(Role.PRACTITIONER)
    service = make_service(practitioner)
    assert get_own_service(service.id, practitioner) is service
    with pytest.raises(NotFound) as refused:
        get_own_service(service.id, colleague)
    assert refused.value.description == "No such service."


def test_no_blueprint_retypes_the_owner_check():
    retyped = [
        f"{path.relative_to(BLUEPRINTS)}:{n}: {line.strip()}"
        for path in sorted(BLUEPRINTS.rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if RETYPED.search(line) and ("if " in line or " else None" in line)
    ]
    assert retyped == []


def db_token(user) -> ApiToken:
    token, _secret = api_tokens.issue_token(user, "test")
    return token
