"""The main menu: a few groups of links, each shown to the roles it serves, the place marked.

One table says which link each role sees and where it sits, so the desktop bar, the phone's menu
and the tests read the same thing. A group left with a single link for a role is shown as that
link: a menu of one is a detour.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask_babel import lazy_gettext
from flask_login import current_user

from ..models import Role

PRACTITIONER, CLIENT, STAFF = Role.PRACTITIONER, Role.CLIENT, Role.STAFF
PRACTICE = frozenset({PRACTITIONER, STAFF})
EVERYONE = frozenset(Role)


@dataclass(frozen=True)
class MenuLink:
    label: str
    endpoint: str
    roles: frozenset[Role]
    # Blueprints whose other pages belong under this link (a session's page under Calendar).
    sections: tuple[str, ...] = ()


@dataclass(frozen=True)
class MenuGroup:
    key: str
    label: str
    links: tuple[MenuLink, ...]
    # Shown as plain links in the bar rather than behind a button.
    flat: bool = False


MENU: tuple[MenuGroup, ...] = (
    MenuGroup(
        "schedule",
        lazy_gettext("Schedule"),
        (
            MenuLink(lazy_gettext("Calendar"), "calendar.week", PRACTICE, ("calendar", "rooms")),
            MenuLink(lazy_gettext("Sessions"), "calendar.list_sessions", PRACTICE),
            MenuLink(
                lazy_gettext("Courses"),
                "courses.list_courses",
                frozenset({PRACTITIONER}),
                ("courses",),
            ),
            MenuLink(
                lazy_gettext("Availability"),
                "availability.edit_availability",
                frozenset({PRACTITIONER}),
                ("availability",),
            ),
            MenuLink(
                lazy_gettext("My calendars"),
                "connected_calendars.list_calendars",
                frozenset({PRACTITIONER}),
                ("connected_calendars",),
            ),
        ),
    ),
    # A client has few places to go: they stay in the bar itself.
    MenuGroup(
        "bookings",
        lazy_gettext("Bookings"),
        (
            MenuLink(lazy_gettext("Book"), "shop.index", frozenset({CLIENT}), ("shop", "public")),
            MenuLink(
                lazy_gettext("My bookings"),
                "bookings.index",
                frozenset({CLIENT}),
                ("bookings", "rooms"),
            ),
            MenuLink(
                lazy_gettext("My passes"), "passes.my_passes", frozenset({CLIENT}), ("passes",)
            ),
            MenuLink(
                lazy_gettext("My membership"), "memberships.my_memberships", frozenset({CLIENT})
            ),
        ),
        flat=True,
    ),
    MenuGroup(
        "clients",
        lazy_gettext("Clients"),
        (
            MenuLink(
                lazy_gettext("Client list"),
                "clients.list_clients",
                frozenset({PRACTITIONER}),
                ("clients", "notes"),
            ),
            MenuLink(
                lazy_gettext("Intake forms"),
                "intake.list_forms",
                frozenset({PRACTITIONER}),
                ("intake",),
            ),
            MenuLink(lazy_gettext("Orders"), "orders.pending_orders", PRACTICE, ("orders",)),
            MenuLink(lazy_gettext("Attendance"), "attendance.index", PRACTICE, ("attendance",)),
        ),
    ),
    MenuGroup(
        "services",
        lazy_gettext("Services"),
        (
            MenuLink(
                lazy_gettext("Services"),
                "services.list_services",
                frozenset({PRACTITIONER}),
                ("services", "packages", "passes"),
            ),
            MenuLink(
                lazy_gettext("Members"), "memberships.list_members", frozenset({PRACTITIONER})
            ),
            MenuLink(
                lazy_gettext("Public page"),
                "public.edit_public_page",
                frozenset({PRACTITIONER}),
                ("public",),
            ),
        ),
    ),
    MenuGroup(
        "reports",
        lazy_gettext("Reports"),
        (
            MenuLink(lazy_gettext("Reports"), "attendance.noshow_report", PRACTICE),
            MenuLink(lazy_gettext("Revenue"), "orders.revenue_report", PRACTICE),
            MenuLink(lazy_gettext("Audit log"), "audit.index", PRACTICE, ("audit",)),
        ),
    ),
    MenuGroup(
        "admin",
        lazy_gettext("Administration"),
        (
            MenuLink(lazy_gettext("Users"), "users.list_users", frozenset({STAFF}), ("users",)),
            MenuLink(lazy_gettext("Outbox"), "outbox.index", frozenset({STAFF}), ("outbox",)),
        ),
    ),
    MenuGroup(
        "settings",
        lazy_gettext("Settings"),
        (
            MenuLink(lazy_gettext("Profile"), "accounts.profile", EVERYONE, ("accounts",)),
            MenuLink(lazy_gettext("Password"), "auth.change_password", EVERYONE),
            MenuLink(
                lazy_gettext("Notifications"),
                "notifications.preferences",
                EVERYONE,
                ("notifications",),
            ),
            MenuLink(
                lazy_gettext("Feeds"),
                "feeds.manage_feed",
                frozenset({PRACTITIONER, CLIENT}),
                ("feeds",),
            ),
            MenuLink(
                lazy_gettext("Webhooks"),
                "webhooks_out.list_endpoints",
                PRACTICE,
                ("webhooks_out",),
            ),
            MenuLink(
                lazy_gettext("Payouts"),
                "payouts.show_payouts",
                frozenset({PRACTITIONER}),
                ("payouts",),
            ),
            MenuLink(lazy_gettext("API tokens"), "tokens.list_tokens", EVERYONE, ("tokens",)),
            MenuLink(
                lazy_gettext("Who read my record"), "audit.index", frozenset({CLIENT}), ("audit",)
            ),
        ),
    ),
)


@dataclass(frozen=True)
class ShownLink:
    label: str
    endpoint: str
    # "page" for the page itself, "true" for a page under it, None elsewhere (aria-current).
    current: str | None


@dataclass(frozen=True)
class ShownGroup:
    key: str
    label: str
    links: tuple[ShownLink, ...]
    flat: bool

    @property
    def current(self) -> bool:
        return any(link.current for link in self.links)


def _current_link(links: list[MenuLink], endpoint: str | None, blueprint: str | None):
    for link in links:
        if link.endpoint == endpoint:
            return link, "page"
    for link in links:
        if blueprint in link.sections:
            return link, "true"
    return None, None


def menu_for(role: Role, endpoint: str | None, blueprint: str | None) -> list[ShownGroup]:
    """The groups `role` sees, in order, with at most one link marked current."""
    visible = [(g, [link for link in g.links if role in link.roles]) for g in MENU]
    visible = [(g, links) for g, links in visible if links]
    marked, mark = _current_link([lk for _, links in visible for lk in links], endpoint, blueprint)
    return [
        ShownGroup(
            group.key,
            group.label,
            tuple(ShownLink(lk.label, lk.endpoint, mark if lk is marked else None) for lk in links),
            group.flat or len(links) == 1,
        )
        for group, links in visible
    ]


def main_menu() -> list[ShownGroup]:
    """The signed-in person's menu for the page being drawn (base.html)."""
    if not current_user.is_authenticated:
        return []
    return menu_for(current_user.role, request.endpoint, request.blueprint)
