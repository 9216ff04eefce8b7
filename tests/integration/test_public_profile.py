"""A practitioner's page at the level of the best booking pages (#24): their photo, bio and
facts as a visitor reads them, link previews and structured data, the sitemap, their colour
(refused when unreadable) and the sites that may frame the page."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal import profiles
from portal.extensions import db
from portal.models import PractitionerProfile, Role, Service
from tests.fixtures.client_portal import text_of
from tests.fixtures.factories import make_service, make_user
from tests.integration.test_query_counts import counted

LISTED_PHOTO = re.compile(r'<img class="profile-photo" src="([^"]+)" alt="([^"]+)"')


@pytest.fixture
def maya(practitioner):
    practitioner.name = "Maya Rivers"
    profiles.save_public_profile(
        practitioner,
        slug="maya-rivers",
        bio="I help with **back pain**.\n\n<script>alert('bio')</script>\n\n"
        "[my site](https://maya.example) and [trap](javascript:alert(1))",
        details=profiles.ProfileDetails(
            title="Massage therapist",
            location="Lisbon",
            online=True,
            languages="English, Português",
            links="https://maya.example/\nhttps://instagram.example/maya",
        ),
    )
    make_service(
        practitioner,
        name="Deep tissue",
        description="Slow, firm work on the deeper layers.",
        duration_minutes=75,
        price_cents=9000,
    )
    db.session.commit()
    return practitioner


def jpeg_with_exif(size=(1200, 800), color=(200, 80, 40)) -> bytes:
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° to show upright
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def upload(web, content: bytes, filename="me.jpg"):
    # Encoded here, in memory: the test client would spool a large body to a temporary file
    # that nothing closes when the app refuses to read it.
    boundary, body = encode_multipart({"photo": FileStorage(io.BytesIO(content), filename)})
    return web.post(
        "/practice/public-page/photo",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def service_named(name: str) -> Service:
    return db.session.scalars(db.select(Service).where(Service.name == name)).one()


def stored_photo() -> str:
    db.session.expire_all()
    return db.session.scalars(db.select(PractitionerProfile.photo)).one()


def test_a_visitor_reads_who_the_practitioner_is(client, maya):
    page = client.get("/p/maya-rivers")
    html, text = page.get_data(as_text=True), text_of(page)

    assert "Maya Rivers" in text and "Massage therapist" in text
    assert "Lisbon · Online" in text and "Speaks English, Português" in text
    assert "<strong>back pain</strong>" in html
    assert "alert('bio')" not in html  # the <script> went, with what it held
    assert 'href="javascript:' not in html
    assert '<a href="https://maya.example" rel="noopener nofollow">my site</a>' in html
    assert '<a href="https://maya.example/" rel="noopener nofollow">maya.example</a>' in html
    assert "instagram.example/maya" in text
    assert "Deep tissue" in text and "75 minutes" in text
    assert "Slow, firm work on the deeper layers." in text
    assert "You can cancel or reschedule online up to 24 hours before the start." in text
    assert 'href="/book/services/' in html  # each service has its own address


def test_the_photo_is_checked_resized_stripped_and_served_with_caching(client, signed_in, maya):
    web = signed_in(maya)
    response = upload(web, jpeg_with_exif())
    assert response.status_code == 302

    name = stored_photo()
    web.post("/auth/logout")
    src, alt = LISTED_PHOTO.search(client.get("/p/maya-rivers").get_data(as_text=True)).groups()
    assert alt == "Photo of Maya Rivers"
    with client.get(src) as served:
        served.make_sequence()
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert "immutable" in served.headers["Cache-Control"]
    image = Image.open(io.BytesIO(served.data))
    assert image.format == "JPEG" and image.size == (512, 512)
    assert not image.getexif()  # no camera, place or orientation left
    assert name in src


def photo_files(app) -> set[str]:
    folder = Path(app.config["PORTAL_MEDIA_DIR"]) / "photos"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_a_replaced_photo_is_no_longer_served_nor_kept(app, client, auth, signed_in, maya):
    web = signed_in(maya)
    upload(web, jpeg_with_exif(color=(10, 10, 10)))
    first = stored_photo()
    assert first in photo_files(app)
    upload(web, jpeg_with_exif(color=(250, 250, 250)))
    second = stored_photo()
    assert second != first
    assert client.get(f"/media/photos/{first}").status_code == 404
    assert client.get("/media/photos/..%2Fsecret_key").status_code == 404
    assert photo_files(app) == {second}

    # The same image on another page is one file: it stays while either page shows it.
    other = make_user(Role.PRACTITIONER, name="Other Olga")
    profiles.save_public_profile(other, slug="other-olga")
    db.session.commit()
    auth.logout()
    upload(signed_in(other), jpeg_with_exif(color=(250, 250, 250)))
    assert stored_photo_of(other) == second
    auth.logout()
    signed_in(maya).post("/practice/public-page/photo", data={"remove": "1"})
    assert stored_photo_of(maya) == ""
    assert photo_files(app) == {second}
    auth.logout()
    upload(signed_in(other), jpeg_with_exif(color=(20, 200, 20)))
    assert photo_files(app) == {stored_photo_of(other)}


def a_logo(size=(900, 300)) -> bytes:
    """A wide logo with a transparent background."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste((31, 95, 139, 255), (100, 100, 800, 200))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def upload_logo(web, content: bytes, filename="logo.png"):
    boundary, body = encode_multipart({"logo": FileStorage(io.BytesIO(content), filename)})
    return web.post(
        "/practice/public-page/logo",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_a_logo_keeps_its_shape_and_transparency_and_heads_the_public_pages(
    app, client, auth, signed_in, maya
):
    web = signed_in(maya)
    response = upload_logo(web, a_logo())
    assert response.status_code == 302
    db.session.expire_all()
    name = db.session.get(PractitionerProfile, maya.id).logo
    assert name.endswith(".png") and name in photo_files(app)

    with client.get(f"/media/photos/{name}") as served:
        served.make_sequence()
    assert served.status_code == 200 and served.mimetype == "image/png"
    logo = Image.open(io.BytesIO(served.data))
    assert logo.size == (576, 192)  # 900 × 300 scaled to fit 640 × 192: 3:1 kept
    assert logo.mode == "RGBA" and logo.getpixel((0, 0))[3] == 0

    auth.logout()
    deep_tissue = service_named("Deep tissue")
    for page in ("/p/maya-rivers", f"/book/services/{deep_tissue.id}"):
        html = client.get(page).get_data(as_text=True)
        assert f'<img src="/media/photos/{name}" alt="Logo of Maya Rivers"' in html

    web = signed_in(maya)
    assert web.post("/practice/public-page/logo", data={"remove_logo": "y"}).status_code == 302
    assert db.session.get(PractitionerProfile, maya.id).logo == ""
    assert name not in photo_files(app)
    assert client.get(f"/media/photos/{name}").status_code == 404


def test_a_logo_that_is_not_an_image_or_too_large_is_refused_in_its_form(app, signed_in, maya):
    web = signed_in(maya)
    refused = upload_logo(web, b"<svg onload=alert(1)>", "logo.svg")
    assert refused.status_code == 422
    assert "That file is not an image we can read." in text_of(refused)
    app.config["PORTAL_PHOTO_MAX_BYTES"] = 1_000_000
    too_big = upload_logo(web, b"\x89PNG" + b"\0" * 1_100_000)
    assert too_big.status_code == 413
    assert "The file is larger than the 1.0 MB an image may have." in text_of(too_big)
    db.session.expire_all()
    assert db.session.get(PractitionerProfile, maya.id).logo == ""


def stored_photo_of(user) -> str:
    db.session.expire_all()
    return db.session.get(PractitionerProfile, user.id).photo


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"<?php echo 'hi'; ?>", "me.jpg", "That file is not an image we can read."),
        (b"GIF89a" + b"\0" * 20, "me.gif", "That file is not an image we can read."),
        (b"", "empty.jpg", "Choose an image file to upload."),
    ],
)
def test_what_is_not_an_image_is_refused_with_the_reason(
    signed_in, maya, content, filename, message
):
    response = upload(signed_in(maya), content, filename)
    assert response.status_code == 422
    assert message in text_of(response)
    assert stored_photo() == ""


@pytest.mark.parametrize(
    ("side", "message"),
    [
        # 400 megapixels: Pillow itself refuses to open it.
        (20_000, "The image is too large to open safely."),
        # 50 megapixels: Pillow would open it; the portal's own limit (40) refuses it.
        (7_100, "The image is 7100 × 7100 pixels; upload one of at most 40 megapixels."),
    ],
)
def test_a_decompression_bomb_is_refused(signed_in, maya, side, message):
    # One-bit pixels of one colour: a few tens of kB on disk, unpacked to hundreds of MB.
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG")
    assert len(out.getvalue()) < 200_000

    response = upload(signed_in(maya), out.getvalue(), "small.png")
    assert response.status_code == 422
    assert message in text_of(response)
    assert stored_photo() == ""


def test_a_file_over_the_limit_is_refused_in_the_form(app, signed_in, maya):
    app.config["PORTAL_PHOTO_MAX_BYTES"] = 1_000_000
    big = io.BytesIO()
    Image.effect_noise((800, 800), 100).convert("RGB").save(big, "PNG")
    assert 1_000_000 < len(big.getvalue()) < 2_000_000

    response = upload(signed_in(maya), big.getvalue(), "big.png")
    assert response.status_code == 413
    assert "The file is larger than the 1.0 MB an image may have." in text_of(response)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert stored_photo() == ""


def test_link_previews_and_structured_data(client, signed_in, maya):
    upload(signed_in(maya), jpeg_with_exif())
    client.post("/auth/logout")
    html = client.get("/p/maya-rivers").get_data(as_text=True)

    meta = dict(re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)"', html))
    assert meta["og:title"] == "Maya Rivers · Massage therapist"
    assert meta["og:url"] == "http://portal.test/p/maya-rivers"
    assert meta["og:image"].startswith("http://portal.test/media/photos/")
    assert meta["twitter:card"] == "summary" and meta["twitter:image"] == meta["og:image"]
    assert meta["og:description"].startswith("I help with back pain.")

    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    data = json.loads(block.group(1))
    assert data["@type"] == "Person" and data["name"] == "Maya Rivers"
    assert data["jobTitle"] == "Massage therapist" and data["image"] == meta["og:image"]
    assert data["sameAs"] == ["https://maya.example/", "https://instagram.example/maya"]
    (offer,) = data["makesOffer"]
    assert offer["itemOffered"]["name"] == "Deep tissue"
    assert offer["itemOffered"]["duration"] == "PT75M"
    assert offer["price"] == "90.00" and offer["url"].startswith(
        "http://portal.test/book/services/"
    )


def test_structured_data_cannot_close_its_script_block(client, maya):
    maya.name = "Eve </script><script>alert(1)</script>"
    db.session.commit()
    html = client.get("/p/maya-rivers").get_data(as_text=True)

    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert json.loads(block.group(1))["name"] == maya.name
    assert "<script>alert(1)" not in html


def test_the_sitemap_lists_public_pages_only(client, maya):
    idle = make_user(Role.PRACTITIONER, name="Idle Ines")
    profiles.save_public_profile(idle, slug="idle-ines")
    retired = make_service(maya, name="Retired", is_active=False)
    db.session.commit()

    response = client.get("/sitemap.xml")
    assert response.mimetype == "application/xml"
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text for e in ElementTree.fromstring(response.data).findall("s:url/s:loc", ns)]
    deep_tissue = service_named("Deep tissue")
    assert "http://portal.test/p/maya-rivers" in locs
    assert f"http://portal.test/book/services/{deep_tissue.id}" in locs
    assert f"http://portal.test/book/services/{retired.id}" not in locs
    assert not any("idle-ines" in loc or "/practice" in loc for loc in locs)

    robots = client.get("/robots.txt").get_data(as_text=True)
    assert "Sitemap: http://portal.test/sitemap.xml" in robots
    assert "Disallow: /practice/" in robots


def test_the_sitemap_costs_the_same_statements_for_one_practitioner_or_many(client, maya):
    def statements_for_sitemap() -> int:
        with counted() as statements:
            assert client.get("/sitemap.xml").status_code == 200
        return len(statements)

    alone = statements_for_sitemap()
    for n in range(6):
        other = make_user(Role.PRACTITIONER, name=f"Other {n}")
        profiles.save_public_profile(other, slug=f"other-{n}")
        make_service(other, name=f"Service {n}")
        make_service(other, name=f"Service {n}b")
    db.session.commit()
    many = client.get("/sitemap.xml").data.count(b"/book/services/")
    assert many == 13 and statements_for_sitemap() == alone


def page_settings(**changes) -> dict:
    return {"slug": "maya-rivers", "bio": "Hello", **changes}


def test_an_unreadable_accent_colour_is_refused_with_its_contrast(client, signed_in, maya):
    web = signed_in(maya)
    refused = web.post("/practice/public-page", data=page_settings(accent_color="#f0c040"))
    assert refused.status_code == 200
    assert "contrast 1.7:1, needs 4.5:1" in text_of(refused)
    assert 'aria-invalid="true"' in refused.get_data(as_text=True)
    db.session.expire_all()
    assert maya.profile.accent_color == "" and maya.profile.bio != "Hello"

    assert (
        web.post("/practice/public-page", data=page_settings(accent_color="#1F5F8B")).status_code
        == 302
    )
    web.post("/auth/logout")
    html = client.get("/p/maya-rivers").get_data(as_text=True)
    css_url = re.search(r'href="(/brand/maya-rivers\.css\?v=[^"]+)"', html).group(1)
    css = client.get(css_url.replace("&amp;", "&"))
    assert css.get_data(as_text=True) == ":root { --accent: #1f5f8b; }\n"
    assert "immutable" in css.headers["Cache-Control"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("links", "javascript:alert(1)", "is not a web address"),
        ("links", "ftp://files.example", "is not a web address"),
        ("embed_origins", "https://maya.example/booking", "no path, no wildcard"),
        ("embed_origins", "https://*.maya.example", "no path, no wildcard"),
        ("embed_origins", "maya.example", "no path, no wildcard"),
    ],
)
def test_links_and_embedding_sites_are_checked(signed_in, maya, field, value, message):
    refused = signed_in(maya).post("/practice/public-page", data=page_settings(**{field: value}))
    assert refused.status_code == 200 and message in text_of(refused)
    db.session.expire_all()
    assert maya.profile.bio != "Hello"


def frame_ancestors(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    return re.search(r"frame-ancestors ([^;]+)", policy).group(1)


def test_only_the_listed_sites_may_frame_the_public_pages(client, signed_in, maya):
    web = signed_in(maya)
    web.post(
        "/practice/public-page",
        data=page_settings(embed_origins="https://www.maya.example\nhttp://127.0.0.1:8123/"),
    )
    settings = web.get("/practice/public-page")
    assert frame_ancestors(settings) == "'none'" and settings.headers["X-Frame-Options"] == "DENY"
    snippet = text_of(settings)
    assert "data-estuary-embed" in settings.get_data(as_text=True)
    assert "http://portal.test/static/js/embed.js" in snippet
    web.post("/auth/logout")

    other = make_user(Role.PRACTITIONER, name="Other One")
    profiles.save_public_profile(other, slug="other-one")
    db.session.commit()
    service_id = service_named("Deep tissue").id

    for path in ("/p/maya-rivers", f"/book/services/{service_id}"):
        page = client.get(path)
        assert frame_ancestors(page) == "'self' https://www.maya.example http://127.0.0.1:8123"
        assert "X-Frame-Options" not in page.headers
    for path in ("/p/other-one", "/auth/login", "/"):
        page = client.get(path)
        assert frame_ancestors(page) == "'none'" and page.headers["X-Frame-Options"] == "DENY"
