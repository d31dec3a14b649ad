"""Fingerprinted static files: every url_for('static', filename=...) carries ?v=<a hash of the file's content>.

In production nginx serves static/ itself and lets browsers keep a versioned file for a year (deploy/nginx/); the
version changes with the content, so a new release's CSS or script is a new URL and no browser keeps an old one.
Each file is hashed once per process, at its first URL (a release is a new process). Flask's own answer to a
versioned URL (a host without nginx) carries the same year's lifetime when the version is the file's current one;
an unversioned or outdated one keeps Flask's default (revalidated on every use).

A url(...) inside a stylesheet cannot get the query this way; site.css has none, and a picture or font it comes to
need belongs under a path that carries its version, like the flags' /flags/<version>/ (geo/flags.py).
"""

import hashlib
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app, request
from werkzeug.security import safe_join

VERSION_ARGUMENT = "v"
CACHE_LIFETIME = timedelta(days=365)
# Hex digits of the SHA-256 of a file's content: enough that two versions of one file never collide.
VERSION_LENGTH = 12


def static_version(filename: str) -> str | None:
    """The version of a file under the app's static folder (the start of its content's hash), or None when no
    such file exists (url_for then builds the plain URL, which answers 404 as before)."""
    versions = current_app.extensions.setdefault("static_versions", {})
    if filename not in versions:
        path = safe_join(str(current_app.static_folder), filename)
        if path is None or not Path(path).is_file():
            return None  # not cached: a file added later (a test's) gets its version at its first URL
        versions[filename] = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:VERSION_LENGTH]
    return versions[filename]


def _add_version(endpoint: str | None, values: dict) -> None:
    """url_for's defaults: the static endpoint's URLs get ?v=<version>, unless the caller gave one."""
    if endpoint == "static" and "filename" in values and VERSION_ARGUMENT not in values:
        version = static_version(values["filename"])
        if version is not None:
            values[VERSION_ARGUMENT] = version


def _cache_versioned(response):
    """A year's lifetime for a static file asked for by its current version: that URL never shows other content."""
    if request.endpoint != "static" or response.status_code not in (200, 304):
        return response
    filename = (request.view_args or {}).get("filename")
    version = request.args.get(VERSION_ARGUMENT)
    if filename and version and version == static_version(filename):
        response.cache_control.no_cache = None
        response.cache_control.public = True
        response.cache_control.max_age = int(CACHE_LIFETIME.total_seconds())
        response.cache_control.immutable = True
    return response


def init_app(app: Flask) -> None:
    """Version the static URLs that url_for builds, and let browsers keep versioned files."""
    app.url_default_functions.setdefault(None, []).append(_add_version)
    app.after_request(_cache_versioned)
