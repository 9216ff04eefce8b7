"""The rules of a practitioner's page details, without HTTP (#24): colour contrast as WCAG
counts it, the sites that may frame the page, links, and what a stored photo keeps."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from portal import media, profiles
from portal.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("first", "second", "ratio"),
    [("#000000", "#ffffff", 21.0), ("#ffffff", "#ffffff", 1.0), ("#767676", "#ffffff", 4.54)],
)
def test_contrast_is_the_wcag_ratio(first, second, ratio):
    assert profiles.contrast_ratio(first, second) == pytest.approx(ratio, abs=0.01)


def test_a_colour_just_under_aa_is_refused_and_its_ratio_rounded_down(app):
    # #777777 on white is 4.48:1: shown as 4.4, never as the 4.5 it misses.
    with pytest.raises(InvalidInput, match=r"contrast 4\.4:1, needs 4\.5:1") as refused:
        profiles.clean_accent_color("#777777")
    assert refused.value.field == "accent_color"
    assert profiles.clean_accent_color(" #767676 ") == "#767676"
    assert profiles.clean_accent_color("") == ""
    with pytest.raises(InvalidInput, match="#rrggbb"):
        profiles.clean_accent_color("teal")


def test_embedding_sites_are_kept_as_browser_origins(app):
    cleaned = profiles.clean_embed_origins(
        "HTTPS://WWW.Example.com/\nhttp://127.0.0.1:8080\nhttps://www.example.com"
    )
    assert cleaned == "https://www.example.com\nhttp://127.0.0.1:8080"


@pytest.mark.parametrize(
    "origin",
    [
        "https://example.com/booking",
        "https://*.example.com",
        "example.com",
        "ftp://example.com",
        "https://user@example.com",
        "https://example.com:99999",
        "https://example.com?x=1",
        "'unsafe-inline'",
    ],
)
def test_anything_but_an_origin_is_refused(app, origin):
    with pytest.raises(InvalidInput) as refused:
        profiles.clean_embed_origins(origin)
    assert refused.value.field == "embed_origins"


def test_links_are_http_addresses_only(app):
    assert profiles.clean_links(" https://a.example/x \n\n http://b.example ") == (
        "https://a.example/x\nhttp://b.example"
    )
    for bad in ("javascript:alert(1)", "data:text/html,hi", "https://", "mailto:a@b.example"):
        with pytest.raises(InvalidInput):
            profiles.clean_links(bad)
    with pytest.raises(InvalidInput, match="at most 6"):
        profiles.clean_links("\n".join(f"https://{n}.example" for n in range(7)))


def test_a_stored_photo_is_an_upright_square_jpeg_without_metadata(app):
    # A landscape picture whose EXIF says "turn me 90°", with the camera's name in it.
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    exif[0x0112] = 6
    source = Image.new("RGB", (1200, 600), (255, 0, 0))
    source.paste((0, 0, 255), (0, 0, 600, 600))  # the left half blue
    upload = io.BytesIO()
    source.save(upload, "PNG", exif=exif)

    name, stored = media.make_photo(upload.getvalue(), max_bytes=5_000_000)

    photo = Image.open(io.BytesIO(stored))
    assert photo.format == "JPEG" and photo.size == (512, 512)
    assert not photo.getexif() and b"SecretCam" not in stored
    assert name.endswith(".jpg") and len(name) == 36
    # Turned upright first (the blue half is now on top), then cropped to the centre.
    top, bottom = photo.getpixel((256, 5)), photo.getpixel((256, 506))
    assert top[2] > 200 and bottom[0] > 200
