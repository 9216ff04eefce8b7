"""The practitioner's page as a visitor sees it on a phone and a desktop (#24): their photo
(loaded, with its alt), their bio, a one-line timezone, and on the service page the month
beside the day's times (one column on the phone); axe finds nothing serious; and the page
embedded in the practitioner's own site on another origin, which only that origin may do."""

from __future__ import annotations

import io
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image
from playwright.sync_api import expect

from portal import profiles
from portal.extensions import db
from tests.e2e.test_accessibility import findings
from tests.fixtures.browser import fits_the_screen, sign_in, visitor_page
from tests.fixtures.factories import make_service

pytestmark = pytest.mark.e2e


def a_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (900, 700), (40, 90, 120)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def maya(practitioner):
    practitioner.name = "Maya Rivers"
    profiles.save_public_profile(
        practitioner,
        slug="maya-rivers",
        bio="Bodywork for **tired backs** and busy minds.\n\n<script>alert(1)</script>",
        details=profiles.ProfileDetails(
            title="Massage therapist", location="Lisbon", online=True, languages="English"
        ),
    )
    make_service(
        practitioner,
        name="Consultation",
        description="A first talk about what you need.",
        duration_minutes=60,
        price_cents=4500,
    )
    profiles.set_photo(practitioner, a_photo())
    db.session.commit()
    return practitioner


def test_the_public_page_at_phone_and_desktop_widths(sized_page, live_server, maya):
    page = sized_page
    page.goto(f"{live_server.url}/p/maya-rivers")

    photo = page.get_by_role("img", name="Photo of Maya Rivers")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.complete && img.naturalWidth") == 512
    expect(page.locator(".bio strong")).to_have_text("tired backs")
    expect(page.get_by_text("Massage therapist")).to_be_visible()
    expect(page.get_by_text("A first talk about what you need.")).to_be_visible()
    expect(page.get_by_text("Times in UTC · change")).to_be_visible()
    expect(page.get_by_label("Show times in")).to_be_hidden()
    assert fits_the_screen(page)
    assert findings(page, "public page") == []

    page.get_by_role("link", name="Pick a time Consultation").click()
    grid = page.locator(".slot-month-grid")
    expect(grid).to_be_visible()
    page.locator(".slot-jump a.button").click()
    first_time = page.locator(".slots button").first
    expect(first_time).to_be_visible()
    assert fits_the_screen(page)
    assert findings(page, "service page") == []

    month, times = grid.bounding_box(), first_time.bounding_box()
    if page.viewport_name == "desktop":
        # Side by side: the times start right of the month, level with it.
        assert times["x"] >= month["x"] + month["width"]
        assert times["y"] < month["y"] + month["height"]
    else:
        assert times["y"] >= month["y"] + month["height"]


class _SiteHandler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802  (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture(params=["127.0.0.1"])
def own_site(request):
    """The practitioner's own website: another origin (another port on 127.0.0.1), or
    another site altogether (127.0.0.2), where the frame may keep no cookie."""
    server = ThreadingHTTPServer((request.param, 0), _SiteHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def snippet_of(page, live_server) -> str:
    page.goto(f"{live_server.url}/practice/public-page")
    return page.get_by_label("Embed code").input_value()


def serve_page_with(own_site, snippet: str) -> str:
    _SiteHandler.body = (
        "<!doctype html><html lang='en'><head><title>Maya's site</title></head><body>"
        f"<h1>Welcome to my practice</h1>{snippet}<p id='after'>Footer</p></body></html>"
    ).encode()
    host, port = own_site.server_address[:2]
    return f"http://{host}:{port}/"


def test_the_embed_snippet_works_on_the_listed_site_only(browser, live_server, maya, own_site):
    origin = f"http://127.0.0.1:{own_site.server_port}"
    with visitor_page(browser) as page:
        sign_in(page, live_server, maya)
        page.goto(f"{live_server.url}/practice/public-page")
        page.get_by_label("Sites that may show your booking page").fill(origin)
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator(".flash.success")).to_be_visible()
        snippet = snippet_of(page, live_server)
    assert "data-estuary-embed" in snippet and f"{live_server.url}/p/maya-rivers" in snippet

    site = serve_page_with(own_site, snippet)
    with visitor_page(browser, timezone_id="Europe/Lisbon") as page:
        page.goto(site)
        frame = page.frame_locator("iframe[data-estuary-embed]")
        expect(frame.get_by_role("heading", name="Maya Rivers")).to_be_visible()
        expect(frame.get_by_role("img", name="Photo of Maya Rivers")).to_be_visible()
        # embed.js sized the frame to the page inside: no inner scrollbar, nothing cut off.
        iframe = page.locator("iframe[data-estuary-embed]")
        expect(iframe).to_have_attribute("style", re.compile(r"height: \d+px"))
        inner = frame.locator("html").evaluate("html => html.getBoundingClientRect().height")
        assert inner > 600 and abs(iframe.bounding_box()["height"] - inner) <= 2

    # Listed no more: the browser refuses to show the page inside that site.
    # A fresh transaction: this session's last read predates the server's save.
    db.session.rollback()
    maya.profile.embed_origins = "https://elsewhere.example"
    db.session.commit()
    with visitor_page(browser) as page:
        page.goto(site)
        frame = page.frame_locator("iframe[data-estuary-embed]")
        expect(page.get_by_role("heading", name="Welcome to my practice")).to_be_visible()
        page.wait_for_timeout(500)
        expect(frame.get_by_role("heading", name="Maya Rivers")).to_have_count(0)


@pytest.mark.parametrize("own_site", ["127.0.0.2"], indirect=True)
def test_an_embedded_page_shows_times_in_the_visitors_zone_on_another_site(
    browser, live_server, maya, own_site
):
    """On another site the frame's cookie may be refused, so the page asks for itself again
    with the zone in its address (test_public_pages checks that its links keep it)."""
    site = serve_page_with(own_site, "")
    db.session.rollback()
    maya.profile.embed_origins = site.rstrip("/")
    db.session.commit()
    src = f"{live_server.url}/p/maya-rivers"
    snippet = (
        f'<iframe src="{src}" data-estuary-embed title="Book" width="100%" height="700"></iframe>'
    )
    serve_page_with(own_site, snippet)
    with visitor_page(browser, timezone_id="Asia/Tokyo") as page:
        page.goto(site)
        frame = page.frame_locator("iframe[data-estuary-embed]")
        expect(frame.get_by_text("Times in Asia/Tokyo").first).to_be_visible()
