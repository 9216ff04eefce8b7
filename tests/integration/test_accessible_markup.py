"""The markup screen readers rely on, read from the HTML without a browser (#14): field
errors tied to their inputs, the skip link, one live region for flashes (htmx answers'
included), table headers with text, and the session form as a modal in the calendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from html.parser import HTMLParser

import pytest

from portal.models import ServiceType
from tests.fixtures.factories import make_service, make_user, make_workshop

HTMX = {"HX-Request": "true"}


class Page(HTMLParser):
    """Every element as (tag, attributes, text directly and deeply inside it)."""

    VOID = {"input", "meta", "link", "br", "img", "hr", "source", "area", "base", "col", "wbr"}

    def __init__(self, html: str):
        super().__init__()
        self.elements: list[dict] = []
        self._open: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i]["tag"] == tag:
                del self._open[i:]
                return

    def handle_data(self, data):
        for element in self._open:
            element["text"] += data

    def by_id(self, id_: str) -> dict:
        (element,) = [e for e in self.elements if e["attrs"].get("id") == id_]
        return element

    def find(self, tag: str, **attrs) -> list[dict]:
        return [
            e
            for e in self.elements
            if e["tag"] == tag and all(e["attrs"].get(k) == v for k, v in attrs.items())
        ]


def described_by(page: Page, field_id: str) -> list[str]:
    """The texts an input's aria-describedby points to, in order."""
    ids = page.by_id(field_id)["attrs"].get("aria-describedby", "").split()
    return [" ".join(page.by_id(i)["text"].split()) for i in ids]


def test_field_errors_are_described_and_mark_the_input_invalid(client):
    response = client.post(
        "/signup",
        data={"name": "Ana", "email": "not an email", "password": "short", "timezone": "UTC"},
    )
    page = Page(response.get_data(as_text=True))

    email = page.by_id("email")["attrs"]
    assert email["aria-invalid"] == "true"
    assert described_by(page, "email") == ["Invalid email address."]
    # The caller's own description (the password rules) stays, the error follows it.
    assert page.by_id("password")["attrs"]["aria-invalid"] == "true"
    rules, *errors = described_by(page, "password")
    assert rules.startswith("At least 10 characters")
    assert errors and all(errors)
    # A field without an error is neither invalid nor described by an error.
    assert "aria-invalid" not in page.by_id("name")["attrs"]
    assert "aria-describedby" not in page.by_id("name")["attrs"]


def test_every_page_starts_with_a_skip_link_and_has_one_live_region(client):
    page = Page(client.get("/auth/login").get_data(as_text=True))
    body = page.elements.index(page.find("body")[0])
    first = page.elements[body + 1]
    assert first["tag"] == "a" and first["attrs"]["href"] == "#main"
    assert first["text"].strip() == "Skip to main content"
    assert page.by_id("main")["tag"] == "main"
    live = [e for e in page.elements if "aria-live" in e["attrs"]]
    assert [(e["attrs"]["id"], e["attrs"]["aria-live"]) for e in live] == [
        ("flash-region", "polite")
    ]


def test_flashes_keep_list_semantics_inside_the_live_region(signed_in, practitioner):
    web = signed_in(practitioner)
    service = make_service(practitioner, ServiceType.WORKSHOP, name="Forest Bathing")
    day = (datetime.now(practitioner.zone) + timedelta(days=7)).date().isoformat()
    form = {"service": service.id, "start_date": day, "start_time": "16:00"}
    response = web.post("/calendar/sessions/new", data=form, follow_redirects=True)
    page = Page(response.get_data(as_text=True))

    region = page.by_id("flash-region")
    (flashes,) = page.find("ul", **{"class": "flashes"})
    assert "role" not in flashes["attrs"]
    assert "Forest Bathing is on your calendar." in region["text"]


def test_an_htmx_answer_swaps_its_flash_into_the_live_region(signed_in, practitioner):
    web = signed_in(practitioner)
    session = make_workshop(practitioner, seats=5)
    ana = make_user(name="Ana Added")
    response = web.post(
        f"/calendar/sessions/{session.id}/attendees", data={"email": ana.email}, headers=HTMX
    )
    page = Page(response.get_data(as_text=True))
    (oob,) = [e for e in page.elements if "hx-swap-oob" in e["attrs"]]
    assert oob["attrs"]["hx-swap-oob"] == "innerHTML:#flash-region"
    assert "Ana Added is added." in oob["text"]

    # The next swap without a flash empties the region, so an old message is not left behind.
    quiet = Page(web.get(f"/calendar/sessions/{session.id}", headers=HTMX).get_data(as_text=True))
    (oob,) = [e for e in quiet.elements if "hx-swap-oob" in e["attrs"]]
    assert oob["text"].strip() == ""


@pytest.mark.parametrize(
    "path", ["/practice/services/", "/orders/", "/calendar/sessions", "/settings/tokens/"]
)
def test_table_headers_have_text(signed_in, practitioner, path):
    make_service(practitioner, name="Consultation")
    page = Page(signed_in(practitioner).get(path).get_data(as_text=True))
    assert all(th["text"].strip() for th in page.find("th"))


def test_the_session_form_is_a_modal_in_the_calendar_and_a_page_on_its_own(signed_in, practitioner):
    make_service(practitioner, ServiceType.WORKSHOP, name="Forest Bathing")
    web = signed_in(practitioner)

    alone = Page(web.get("/calendar/sessions/new").get_data(as_text=True))
    (dialog,) = alone.find("dialog")
    assert "open" in dialog["attrs"]  # shown in the page, without script
    assert alone.by_id("session-dialog-title")["tag"] == "h1"

    swapped = Page(web.get("/calendar/sessions/new", headers=HTMX).get_data(as_text=True))
    (dialog,) = swapped.find("dialog")
    assert "open" not in dialog["attrs"]  # a11y.js opens it with showModal()
    assert dialog["attrs"]["aria-labelledby"] == "session-dialog-title"
    assert swapped.by_id("session-dialog-title")["tag"] == "h2"  # under the calendar's h1
