"""The main menu: each role sees its links, grouped, and only those; the current place marked."""

from __future__ import annotations

import re

import pytest

from portal.models import Role
from tests.fixtures.factories import make_user, make_workshop

NAV = re.compile(r'<nav aria-label="Main">(.*?)</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"( aria-current="(\w+)")?>([^<]+)</a>')
GROUP = re.compile(r'<summary( class="current")?>([^<]+)</summary>')

EVERYONE = {
    "Home",
    "Profile",
    "Password",
    "Notifications",
    "API tokens",
}
LINKS = {
    Role.PRACTITIONER: EVERYONE
    | {
        "Calendar",
        "Sessions",
        "Courses",
        "Availability",
        "My calendars",
        "Client list",
        "Intake forms",
        "Audit log",
        "Orders",
        "Attendance",
        "Services",
        "Members",
        "Public page",
        "Reports",
        "Revenue",
        "Feeds",
        "Webhooks",
        "Payouts",
    },
    Role.STAFF: EVERYONE
    | {
        "Calendar",
        "Sessions",
        "Orders",
        "Attendance",
        "Reports",
        "Revenue",
        "Users",
        "Outbox",
        "Audit log",
        "Webhooks",
    },
    Role.CLIENT: EVERYONE
    | {"Book", "My bookings", "My passes", "My membership", "Feeds", "Who read my record"},
}
GROUPS = {
    Role.PRACTITIONER: ["Schedule", "Clients", "Services", "Reports", "Settings"],
    Role.STAFF: ["Schedule", "Clients", "Reports", "Administration", "Settings"],
    Role.CLIENT: ["Settings"],
}


def main_nav(html: str) -> str:
    (nav,) = NAV.findall(html)
    return nav


def links(nav: str) -> dict[str, str]:
    return {label: href for href, _, _, label in LINK.findall(nav)}


def current(nav: str) -> list[tuple[str, str]]:
    return [(label, mark) for _, _, mark, label in LINK.findall(nav) if mark]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_its_links_and_only_those(signed_in, practitioner, role):
    # practitioner: staff's calendar shows a practitioner's, so one must exist.
    web = signed_in(make_user(role))
    nav = main_nav(web.get("/").text)
    shown = links(nav)
    assert set(shown) == LINKS[role]
    for label, href in shown.items():
        assert web.get(href).status_code == 200, (role, label, href)
    assert [label for _, label in GROUP.findall(nav)] == GROUPS[role]


def test_the_current_page_is_marked_and_its_group_too(signed_in, practitioner):
    web = signed_in(practitioner)
    nav = main_nav(web.get("/").text)
    assert current(nav) == [("Home", "page")]
    assert GROUP.findall(nav) == [("", g) for g in GROUPS[Role.PRACTITIONER]]

    nav = main_nav(web.get("/calendar/sessions").text)
    assert current(nav) == [("Sessions", "page")]
    assert GROUP.findall(nav)[0] == (' class="current"', "Schedule")


def test_a_page_under_a_link_marks_that_link(signed_in, practitioner):
    session = make_workshop(practitioner)
    web = signed_in(practitioner)
    nav = main_nav(web.get(f"/calendar/sessions/{session.id}").text)
    assert current(nav) == [("Calendar", "true")]
    nav = main_nav(web.get(links(nav)["Notifications"]).text)
    assert current(nav) == [("Notifications", "page")]
    assert GROUP.findall(nav)[-1] == (' class="current"', "Settings")


def test_a_client_keeps_book_and_my_bookings_in_the_bar(signed_in, client_user):
    nav = main_nav(signed_in(client_user).get("/bookings/").text)
    bar = nav[: nav.index('class="menu-group"')]
    assert ">Book</a>" in bar and ">My bookings</a>" in bar
    assert current(nav) == [("My bookings", "page")]


def test_signed_out_visitors_see_only_sign_in_and_sign_up(client):
    nav = main_nav(client.get("/").text)
    assert set(links(nav)) == {"Sign in", "Create an account"}
