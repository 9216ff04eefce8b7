"""Static files for production: content-hashed names, cached for a year, compressed.

`flask --app portal build-static` copies portal/static into PORTAL_STATIC_BUILD_DIR
under content-hashed names (css/portal.css -> css/portal.3f2a9c0d1e4b.css), writes a
gzip and a brotli twin of each (whitenoise's compressor) and a manifest. With the
setting on, url_for('static', filename='css/portal.css') gives the hashed name (the
templates stay as they are), and whitenoise serves the build: the .br or .gz twin the
browser accepts, `Cache-Control: max-age=315360000, public, immutable`, since a new
content is a new name. Old builds' files are kept, so pages cached during a rolling
deploy still find theirs.

Why the hashing is our own: whitenoise hashes names only through Django's
ManifestStaticFilesStorage, and Flask-Static-Digest wants every template to call its
own static_url_for instead of url_for; the copy and the manifest are a few lines.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import click
from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

MANIFEST = "manifest.json"
FILES = "static"
YEAR_PLUS = 315_360_000  # ten years: as long as browsers keep anything


def hashed_name(relative: str, content: bytes) -> str:
    path = Path(relative)
    digest = hashlib.sha256(content).hexdigest()[:12]
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def build(source: Path, output: Path) -> dict[str, str]:
    """Copy every file of `source` under its hashed name, with compressed twins."""
    compressor = Compressor(quiet=True)
    manifest: dict[str, str] = {}
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source).as_posix()
        target_name = hashed_name(relative, path.read_bytes())
        target = output / FILES / target_name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        if compressor.should_compress(target.name):
            compressor.compress(str(target))
        manifest[relative] = target_name
    # Last, and in one step: a server starting meanwhile reads the old or the new, whole.
    partial = output / f"{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(partial, output / MANIFEST)
    return manifest


def _nosniff(headers, _path, _url):
    headers["X-Content-Type-Options"] = "nosniff"


def serve_build(app: Flask, build_dir: str) -> None:
    manifest_path = Path(build_dir) / MANIFEST
    if not manifest_path.is_file():
        # Not a refusal: `flask build-static` itself starts the app with the setting on.
        app.logger.warning(
            "PORTAL_STATIC_BUILD_DIR=%s holds no %s: serving portal/static unhashed and "
            "uncompressed until `flask --app portal build-static` has run",
            build_dir,
            MANIFEST,
        )
        return
    manifest = json.loads(manifest_path.read_text())

    @app.url_defaults
    def _hashed_static_name(endpoint, values):
        if endpoint == "static" and values.get("filename") in manifest:
            values["filename"] = manifest[values["filename"]]

    app.wsgi_app = WhiteNoise(
        app.wsgi_app,
        root=str(Path(build_dir) / FILES),
        prefix=app.static_url_path,
        max_age=YEAR_PLUS,
        allow_all_origins=False,
        immutable_file_test=lambda _path, _url: True,
        add_headers_function=_nosniff,
    )


def register_static(app: Flask) -> None:
    if app.config["PORTAL_STATIC_BUILD_DIR"]:
        serve_build(app, app.config["PORTAL_STATIC_BUILD_DIR"])

    @app.cli.command("build-static")
    @click.argument("output", required=False)
    def build_static_command(output):
        """Write the hashed, compressed static files (to OUTPUT or PORTAL_STATIC_BUILD_DIR)."""
        target = output or app.config["PORTAL_STATIC_BUILD_DIR"]
        if not target:
            raise click.UsageError("give OUTPUT or set PORTAL_STATIC_BUILD_DIR")
        manifest = build(Path(app.static_folder), Path(target))
        click.echo(f"wrote {len(manifest)} static file(s) to {target}")
