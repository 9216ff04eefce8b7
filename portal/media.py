"""Practitioners' photos and logos: checked, resized and stored by the portal itself.

An upload is never kept as sent. It must be an image Pillow reads in one of a few formats,
no larger than the configured bytes and pixels (a small file can unpack into gigabytes: a
decompression bomb); it is turned upright, cropped square, resized and saved anew as a JPEG,
which drops its EXIF (camera, place, time). A logo keeps its shape and its transparency: it is
scaled to fit a banner and saved anew as a PNG. The name is the content's hash, so a URL never
changes meaning and may be cached for good.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from pathlib import Path

from flask_babel import gettext
from PIL import Image, ImageOps, UnidentifiedImageError

from .core.errors import InvalidInput

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
# 40 megapixels: any phone's photo, far below what would exhaust a worker's memory.
MAX_PIXELS = 40_000_000
PHOTO_SIDE = 512
PHOTO_SUFFIX = ".jpg"
# A logo fits this box (twice the size it is shown at, for sharp screens), shape kept.
LOGO_BOX = (640, 192)
LOGO_SUFFIX = ".png"
MIMETYPES = {PHOTO_SUFFIX: "image/jpeg", LOGO_SUFFIX: "image/png"}


def too_large(max_bytes: int) -> str:
    return gettext(
        "The file is larger than the %(limit).1f MB an image may have.", limit=max_bytes / 1e6
    )


def _refuse(message: str, field: str) -> InvalidInput:
    return InvalidInput(message, field=field)


def _open_checked(data: bytes, field: str) -> Image.Image:
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that: refuse those too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ACCEPTED_FORMATS:
                    raise _refuse(gettext("Upload a JPEG, PNG, WebP or GIF image."), field)
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    message = gettext(
                        "The image is %(width)d × %(height)d pixels; upload one of at most "
                        "40 megapixels.",
                        width=width,
                        height=height,
                    )
                    raise _refuse(message, field)
                probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _refuse(gettext("The image is too large to open safely."), field) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise _refuse(gettext("That file is not an image we can read."), field) from None
    return image


def _checked_upright(data: bytes, max_bytes: int, field: str) -> Image.Image:
    if not data:
        raise _refuse(gettext("Choose an image file to upload."), field)
    if len(data) > max_bytes:
        raise _refuse(too_large(max_bytes), field)
    return ImageOps.exif_transpose(_open_checked(data, field))


def _stored(image: Image.Image, suffix: str, **save: object) -> tuple[str, bytes]:
    out = io.BytesIO()
    # No exif= argument: the new file carries none of the upload's metadata.
    image.save(out, **save)
    stored = out.getvalue()
    return hashlib.sha256(stored).hexdigest()[:32] + suffix, stored


def make_photo(data: bytes, max_bytes: int) -> tuple[str, bytes]:
    """The stored name and bytes of a square JPEG made from an upload, or InvalidInput."""
    upright = _checked_upright(data, max_bytes, "photo").convert("RGB")
    square = ImageOps.fit(upright, (PHOTO_SIDE, PHOTO_SIDE), Image.Resampling.LANCZOS)
    return _stored(square, PHOTO_SUFFIX, format="JPEG", quality=85, optimize=True, progressive=True)


def make_logo(data: bytes, max_bytes: int) -> tuple[str, bytes]:
    """The stored name and bytes of a PNG logo made from an upload (its shape and
    transparency kept, scaled down to fit LOGO_BOX), or InvalidInput."""
    logo = _checked_upright(data, max_bytes, "logo").convert("RGBA")
    logo.thumbnail(LOGO_BOX, Image.Resampling.LANCZOS)
    return _stored(logo, LOGO_SUFFIX, format="PNG", optimize=True)


def save_photo(folder: str, name: str, content: bytes) -> None:
    """Written under a temporary name and renamed: a reader never sees half a file."""
    directory = Path(folder) / "photos"
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    if target.exists():
        return
    partial = directory / f".{name}.{os.getpid()}.part"
    partial.write_bytes(content)
    os.replace(partial, target)


def delete_photo(folder: str, name: str) -> None:
    """A photo no page shows any more: gone from the disk (already gone is fine)."""
    (Path(folder) / "photos" / Path(name).name).unlink(missing_ok=True)


def mimetype_of(name: str) -> str:
    return MIMETYPES[Path(name).suffix]


def photo_folder(folder: str) -> str:
    return str(Path(folder) / "photos")
