"""`flask build-static` and serving its output: hashed names, long caching, compression."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import pytest

from portal.ops.static import build
from tests.fixtures.app import make_app

HTMX = "vendor/htmx-2.0.11.min.js"
SOURCE = Path(__file__).resolve().parents[2] / "portal" / "static"


@pytest.fixture
def built(app, tmp_path):
    output = tmp_path / "static-build"
    result = app.test_cli_runner().invoke(args=["build-static", str(output)])
    assert result.exit_code == 0, result.output
    return output


@pytest.fixture
def served(built, database_url):
    return make_app(database_url, PORTAL_STATIC_BUILD_DIR=str(built)).test_client()


def fetch(client, url: str, **kwargs):
    """The response, read and closed (whitenoise hands the server an open file)."""
    with client.get(url, **kwargs) as response:
        response.get_data()
        return response


def hashed_urls(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def test_pages_link_content_hashed_names(served):
    page = served.get("/auth/login").get_data(as_text=True)
    urls = hashed_urls(page)
    assert urls and all(re.search(r"\.[0-9a-f]{12}\.(css|js|svg)$", url) for url in urls)
    assert any(url.startswith("/static/vendor/htmx-2.0.11.min.") for url in urls)


def test_hashed_files_are_cached_for_good_and_compressed(served):
    page = served.get("/auth/login").get_data(as_text=True)
    htmx_url = next(url for url in hashed_urls(page) if "htmx" in url)
    original = (SOURCE / HTMX).read_bytes()

    plain = fetch(served, htmx_url)
    assert plain.status_code == 200 and plain.data == original
    assert "immutable" in plain.headers["Cache-Control"]
    assert "max-age=315360000" in plain.headers["Cache-Control"]
    assert plain.headers["X-Content-Type-Options"] == "nosniff"

    br = fetch(served, htmx_url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["Content-Encoding"] == "br"
    assert brotli.decompress(br.data) == original
    assert len(br.data) < len(original) / 3

    gz = fetch(served, htmx_url, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gz.data) == original
    assert "Accept-Encoding" in gz.headers["Vary"]


def test_a_changed_file_gets_a_new_name_and_old_names_keep_working(built, tmp_path):
    manifest_before = (built / "manifest.json").read_text()
    source = tmp_path / "source"
    (source / "css").mkdir(parents=True)
    (source / "css" / "portal.css").write_text("body { color: black }")
    first = build(source, built)["css/portal.css"]
    (source / "css" / "portal.css").write_text("body { color: navy }")
    second = build(source, built)["css/portal.css"]
    assert first != second
    assert (built / "static" / first).exists() and (built / "static" / second).exists()
    assert manifest_before != (built / "manifest.json").read_text()


def test_without_a_build_the_plain_files_are_served(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert "/static/vendor/htmx-2.0.11.min.js" in page
    assert fetch(client, "/static/" + HTMX).status_code == 200
