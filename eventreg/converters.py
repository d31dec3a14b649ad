"""URL converters, so that only well-formed slugs and tokens ever reach a view (anything else is a 404)."""

from flask import Flask
from werkzeug.routing import BaseConverter


class SlugConverter(BaseConverter):
    """An event slug: lower-case ASCII letters, digits and hyphens."""

    regex = r"[a-z0-9]+(?:-[a-z0-9]+)*"


class TokenConverter(BaseConverter):
    """A private-link token: URL-safe base64 characters."""

    regex = r"[A-Za-z0-9_-]{16,64}"


def init_app(app: Flask) -> None:
    """Make <slug:…> and <token:…> available in routes."""
    app.url_map.converters["slug"] = SlugConverter
    app.url_map.converters["token"] = TokenConverter
