"""Practitioners' page addresses: made from names, kept for good, one owner each, and the
database keeps it so when practitioners claim one address at the same instant."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from portal import profiles
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.models import PractitionerProfile, PractitionerSlug, Role, User
from tests.fixtures.concurrency import many_connections, race
from tests.fixtures.factories import make_user

app_config = many_connections


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Maya Rivers", "maya-rivers"),
        ("  Zoë  O'Brien-Smith ", "zoe-o-brien-smith"),
        ("李", "practitioner"),
        ("A" * 80, "a" * 50),
    ],
)
def test_slugify_makes_a_readable_address(name, slug):
    assert profiles.slugify(name) == slug


def test_moving_keeps_every_old_address_with_its_owner(app):
    maya = make_user(Role.PRACTITIONER, name="Maya Rivers")
    profiles.save_public_profile(maya)
    profiles.save_public_profile(maya, slug="maya-heals", bio="Hello")
    profiles.save_public_profile(maya, slug="maya-rivers", bio="Back")
    db.session.commit()
    assert db.session.get(PractitionerProfile, maya.id).slug == "maya-rivers"
    assert sorted(db.session.scalars(select(PractitionerSlug.slug))) == [
        "maya-heals",
        "maya-rivers",
    ]
    found, current = profiles.find_by_slug("maya-heals")
    assert found.user_id == maya.id and not current


def test_clients_have_no_public_page(app):
    with pytest.raises(InvalidInput):
        profiles.save_public_profile(make_user(Role.CLIENT), slug="cleo")


def test_the_database_refuses_a_profile_on_someone_elses_slug(app):
    one = make_user(Role.PRACTITIONER)
    two = make_user(Role.PRACTITIONER)
    profiles.save_public_profile(one, slug="first-one")
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(
            insert(PractitionerProfile).values(user_id=two.id, slug="first-one", bio="")
        )
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(insert(PractitionerSlug).values(slug="Upper-Case", user_id=two.id))
    db.session.rollback()


def test_practitioners_racing_for_one_address_get_it_once(app):
    ids = [make_user(Role.PRACTITIONER).id for _ in range(8)]

    def claim(user_id):
        return lambda: profiles.save_public_profile(
            db.session.get(User, user_id), slug="the-good-name"
        )

    outcomes = race(app, [claim(uid) for uid in ids])

    assert outcomes == Counter({"ok": 1, "InvalidInput": 7})
    assert db.session.scalar(select(func.count()).select_from(PractitionerProfile)) == 1
    assert db.session.scalar(select(func.count()).select_from(PractitionerSlug)) == 1
